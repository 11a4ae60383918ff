"""Tests for the CSV import of leads and contacts, on real exports and edge cases."""

import codecs
import csv
import json
import logging

import pytest
from sqlmodel import Session, func, select

from chub_ui.models import KIND_CONTACT, KIND_LEAD, Record
from chub_ui.services import exports, importing
from chub_ui.services.errors import InvalidInput, PlanRequired
from chub_ui.services.importing import import_records
from chub_ui.services.records import FIELD_LABELS
from tests.conftest import REALDATA

logger = logging.getLogger(__name__)

CSV_DIR = REALDATA / "csv"
# Data rows per real export, counted by reading each file with the csv module.
REAL_FILE_COUNTS = {
    "krayin_samples_leads.csv": 2,
    "krayin_samples_persons.csv": 2,
    "odoo_o2m_customers_contacts.csv": 8,
    "odoo_res.partner.csv": 6,
    "sfdc_dataloader_accountData.csv": 423,
    "sfdc_dataloader_csvEscapedQuotes.csv": 2,
    "sfdc_dataloader_csvtext_BOM_UTF8.csv": 2,
}


def _import(session, user, data: bytes, *, kind=KIND_CONTACT, filename="people.csv"):
    return import_records(
        session=session, user=user, data=data, kind=kind, filename=filename
    )


def _import_real(session, user, filename: str, *, kind=KIND_CONTACT):
    return _import(
        session, user, (CSV_DIR / filename).read_bytes(), kind=kind, filename=filename
    )


def _records(session: Session) -> list[Record]:
    return list(session.exec(select(Record).order_by(Record.id)).all())


def _by_name(session: Session) -> dict[str, Record]:
    return {record.name: record for record in _records(session)}


def _record_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Record)).one()


def _refusal(session, user, data: bytes, **kwargs) -> str:
    """Import data that must be refused; check nothing was written."""
    before = _record_count(session)
    with pytest.raises(InvalidInput) as caught:
        _import(session, user, data, **kwargs)
    assert _record_count(session) == before
    return caught.value.message


# Real exports


def test_every_real_file_has_an_expected_count():
    assert sorted(path.name for path in CSV_DIR.glob("*.csv")) == sorted(
        REAL_FILE_COUNTS
    )


@pytest.mark.parametrize("filename", sorted(REAL_FILE_COUNTS))
def test_real_file_imports_every_row(session, paid_user, filename):
    result = _import_real(session, paid_user, filename)

    expected = REAL_FILE_COUNTS[filename]
    assert result.created == expected
    assert len(result.record_ids) == expected
    records = _records(session)
    assert [record.id for record in records] == result.record_ids
    for record in records:
        assert record.name
        assert record.kind == KIND_CONTACT
        assert record.account_id == paid_user.account_id
        assert record.created_by_id == paid_user.id
        assert record.source == f"CSV import: {filename}"
        assert isinstance(json.loads(record.extra_json), dict)


def test_krayin_persons_split_json_lists_of_emails_and_phones(session, paid_user):
    result = _import_real(session, paid_user, "krayin_samples_persons.csv")

    people = _by_name(session)
    wilson = people["Wilson Fisk"]
    assert wilson.email == "contact@wilson.com"
    assert "contact.home@wilson.com" in wilson.other_emails.split(", ")
    assert wilson.phone == "5454445454"
    assert wilson.other_phones == ""
    assert wilson.job_title == "Sales Executive"
    assert json.loads(wilson.extra_json) == {"organization_id": "1", "user_id": "1"}
    sasha = people["Sasha Calle"]
    assert sasha.email == "contact@sasha.com"
    assert sasha.other_emails == ""
    assert sasha.phone == "15454445454"
    assert sasha.job_title == "Sales Representatives"
    assert not any("No name column" in note for note in result.notes)


def test_krayin_leads_use_the_title_as_the_name(session, paid_user):
    result = _import_real(session, paid_user, "krayin_samples_leads.csv", kind="lead")

    first, second = _records(session)
    assert first.kind == second.kind == KIND_LEAD
    assert first.name == (
        "Updated Urgent Requirement of Product  -> TaskMaster Pro - Advanced Project "
        "Management Tool"
    )
    assert first.description.startswith("Urgent Requirement: TaskMaster Pro \u2013 an")
    first_extra = json.loads(first.extra_json)
    assert first_extra["id"] == "1"
    assert first_extra["lead_value"] == "50000"
    assert first_extra["expected_close_date"] == "2024-09-02"
    assert second.name == "Need more information About Product -> CyberGuard Pro"
    second_extra = json.loads(second.extra_json)
    # The empty id of the second row is no problem, and empty cells are not kept.
    assert "id" not in second_extra
    assert "lost_reason" not in second_extra
    assert second_extra["lead_value"] == "100000"
    assert "No name column found; used 'title' as the name." in result.notes


def test_odoo_partners_get_company_address_and_phones(session, paid_user):
    _import_real(session, paid_user, "odoo_res.partner.csv")

    partners = _by_name(session)
    assert set(partners) == {
        "Grocery Outlet",
        "Bob",
        "Bill",
        "Warehouse",
        "Accounting dep.",
        "Agrolait",
    }
    outlet = partners["Grocery Outlet"]
    assert outlet.company == "Grocery Outlet"
    assert outlet.street == "51 Federal Street, #401"
    assert outlet.city == "San Francisco"
    assert outlet.region == "California"
    assert outlet.postal_code == "94107"
    assert outlet.country == "United States"
    assert outlet.website == "groceryoutlet.com"
    assert outlet.phone == "123456789"
    assert json.loads(outlet.extra_json) == {
        "ID": "res_partner_1",
        "Customer": "TRUE",
        "Supplier": "FALSE",
    }
    bob = partners["Bob"]
    assert bob.company == "Grocery Outlet"
    assert bob.phone == "4157654321"
    assert json.loads(bob.extra_json)["Address Type"] == "Contact"
    warehouse = partners["Warehouse"]
    assert warehouse.email == "bill@odoo.com"
    assert warehouse.phone == "415659874"
    assert partners["Agrolait"].company == "Agrolait"
    assert partners["Accounting dep."].street == "51 Federal Street, #404"


def test_odoo_customers_keep_related_company_and_accents(session, paid_user):
    _import_real(session, paid_user, "odoo_o2m_customers_contacts.csv")

    customers = _by_name(session)
    roger = customers["Roger Martins"]
    assert roger.company == "Aurora Shelves"
    assert roger.city == "San José"
    assert roger.street == "27 Pacific Road"
    assert roger.postal_code == "95102"
    assert roger.region == "California"
    assert roger.country == "United States"
    assert json.loads(roger.extra_json) == {"Address type": "Invoice address"}
    assert customers["Aurora Shelves"].company == "Aurora Shelves"
    assert customers["International Wood"].region == "D.C."
    assert customers["Michael Mason"].company == ""
    assert customers["Sharon Pecker"].company == "International Wood"


def test_salesforce_accounts_map_billing_address_and_keep_the_rest(session, paid_user):
    result = _import_real(session, paid_user, "sfdc_dataloader_accountData.csv")

    assert result.created == 423
    assert any("Windows-1252" in note for note in result.notes)
    accounts = _records(session)
    gravity = accounts[0]
    assert gravity.name == "Gravity Investments"
    assert gravity.street == "00045742 150 Palmer Drive"
    assert gravity.city == "FORT COLLINS"
    assert gravity.region == "CO"
    assert gravity.postal_code == "80525"
    assert gravity.country == "US"
    extra = json.loads(gravity.extra_json)
    assert extra["ID"] == "001x0000002xLCVAA2"
    assert "MASTERRECORDID" not in extra
    names = {account.name for account in accounts}
    assert {"Pébéo of America", "Crédito Inmobiliario Terras"} <= names
    salesforce = next(a for a in accounts if a.name == "salesforce.com")
    assert salesforce.phone == "(415) 901-7000"
    assert salesforce.website == "http://www.salesforce.com"
    assert salesforce.street == "The Landmark @ One Market, Suite 300"
    assert salesforce.description.startswith("Founded in March 1999, salesforce.com")
    assert json.loads(salesforce.extra_json)["INDUSTRY"] == "Technology"


def test_salesforce_accounts_lose_no_value(session, paid_user):
    _import_real(session, paid_user, "sfdc_dataloader_accountData.csv")

    text = (CSV_DIR / "sfdc_dataloader_accountData.csv").read_text(encoding="cp1252")
    rows = list(csv.reader(text.splitlines()))[1:]
    records = _records(session)
    assert len(records) == len(rows)
    for cells, record in zip(rows, records, strict=True):
        stored = set(json.loads(record.extra_json).values())
        stored |= {
            record.name,
            record.street,
            record.city,
            record.region,
            record.postal_code,
            record.country,
            record.phone,
            record.website,
            record.description,
        }
        assert {cell.strip() for cell in cells if cell.strip()} <= stored


def test_salesforce_escaped_quotes_are_undoubled(session, paid_user):
    result = _import_real(session, paid_user, "sfdc_dataloader_csvEscapedQuotes.csv")

    first, second = _records(session)
    assert first.name == '"The Best" Account'
    assert second.name == 'The "Best" Account'
    assert json.loads(first.extra_json) == {"column2": "bla"}
    assert "No name column found; used 'column1' as the name." in result.notes


def test_salesforce_bom_stays_out_of_the_header(session, paid_user):
    result = _import_real(session, paid_user, "sfdc_dataloader_csvtext_BOM_UTF8.csv")

    first, second = _records(session)
    assert first.name == "row1-1"
    assert second.name == "row2-1"
    assert json.loads(first.extra_json) == {"column2": "row1-2", "column3": "row1-3"}
    assert "No name column found; used 'column1' as the name." in result.notes
    assert not any("\ufeff" in note for note in result.notes)


# Hand-made files: reading


def test_semicolon_delimited_file(session, paid_user):
    data = "Name;E-mail;City\nZoë Berg;Zoe@Example.com;Lund\n".encode()

    _import(session, paid_user, data)

    (zoe,) = _records(session)
    assert (zoe.name, zoe.email, zoe.city) == ("Zoë Berg", "zoe@example.com", "Lund")


def test_tab_delimited_file(session, paid_user):
    data = b"Full Name\tCompany\tNotes\nAnna Berg\tBerg AB\tmet, twice; at fairs\n"

    _import(session, paid_user, data)

    (anna,) = _records(session)
    assert anna.company == "Berg AB"
    assert anna.description == "met, twice; at fairs"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_byte_order_mark(session, paid_user, encoding):
    text = "Name,City\nJosé Núñez,Zürich\n"
    data = text.encode(encoding)
    if encoding == "utf-16-le":
        data = codecs.BOM_UTF16_LE + data
    elif encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data

    _import(session, paid_user, data)

    (jose,) = _records(session)
    assert (jose.name, jose.city) == ("José Núñez", "Zürich")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_byte_order_mark(session, paid_user, encoding):
    data = "Name\tCity\nJosé Núñez\tZürich\n".encode(encoding)

    _import(session, paid_user, data)

    (jose,) = _records(session)
    assert (jose.name, jose.city) == ("José Núñez", "Zürich")


def test_tags_column_fills_labels_once_each(session, paid_user):
    data = b'Name,Tags,Labels\nAda,"vip; fair, 2024",VIP\n'

    _import(session, paid_user, data)

    (ada,) = _records(session)
    # The guess takes the first labels column; the second is kept as extra.
    assert ada.labels == "vip, fair, 2024"
    assert json.loads(ada.extra_json) == {"Labels": "VIP"}


def test_cp1252_bytes_are_read_as_windows_text(session, paid_user):
    data = "Name,City,Notes\nFrançois Dœuf,Besançon,costs 5 €\n".encode("cp1252")

    result = _import(session, paid_user, data)

    (francois,) = _records(session)
    assert francois.name == "François Dœuf"
    assert francois.city == "Besançon"
    assert francois.description == "costs 5 €"
    assert any("Windows-1252" in note for note in result.notes)


def test_quoted_line_breaks_and_quotes_count_as_one_row(session, paid_user):
    data = (
        b'Name,Notes,Email\r\n"Ann","line one\r\nline two with ""quotes""",\r\n'
        b"Bob,,not-an-address\r\n"
    )

    message = _refusal(session, paid_user, data)

    # Bob sits on file line 4 but on row 3 of a spreadsheet.
    assert "row 3: 'not-an-address' is not a valid e-mail address" in message
    assert "row 2" not in message

    _import(session, paid_user, data.replace(b"not-an-address", b"bob@example.com"))

    ann, bob = _records(session)
    assert ann.description == 'line one\nline two with "quotes"'
    assert bob.email == "bob@example.com"


def test_first_and_last_name_are_joined_and_emails_normalised(session, paid_user):
    data = (
        b"First Name,Last Name,E-mail Address,Job Title,Title,Telephone,Mobile\n"
        b"  Ada ,Lovelace, ADA@Example.COM ,Analyst,Countess,111,222\n"
    )

    _import(session, paid_user, data)

    (ada,) = _records(session)
    assert ada.name == "Ada Lovelace"
    assert ada.email == "ada@example.com"
    assert ada.job_title == "Analyst"
    assert ada.phone == "111"
    assert ada.other_phones == "222"
    assert json.loads(ada.extra_json) == {"Title": "Countess"}


def test_title_beside_a_name_is_the_job_title(session, paid_user):
    data = b"name,title,organization,url\nAda,Analyst,Engines Ltd,https://x.test\n"

    _import(session, paid_user, data)

    (ada,) = _records(session)
    assert ada.job_title == "Analyst"
    assert ada.company == "Engines Ltd"
    assert ada.website == "https://x.test"


def test_several_addresses_in_one_cell(session, paid_user):
    data = b"name,email,other emails\nAda,a@example.com; b@example.com,c@example.com"

    _import(session, paid_user, data)

    (ada,) = _records(session)
    assert ada.email == "a@example.com"
    assert ada.other_emails == "b@example.com, c@example.com"


def test_empty_rows_are_skipped_and_unmapped_columns_kept(session, paid_user):
    data = b"\nName,Favourite colour,,Empty\nAda,green,x,\n,,,\n\nBob,,,\n"

    result = _import(session, paid_user, data, filename=r"C:\fakepath\people.csv")

    ada, bob = _records(session)
    assert json.loads(ada.extra_json) == {"Favourite colour": "green", "column 3": "x"}
    assert json.loads(bob.extra_json) == {}
    assert ada.source == "CSV import: people.csv"
    assert "Skipped 2 empty rows." in result.notes


def test_source_column_is_kept(session, paid_user):
    data = b"Name,Lead Source\nAda,Trade fair\nBob,\n"

    _import(session, paid_user, data, kind=KIND_LEAD, filename="")

    ada, bob = _records(session)
    assert ada.source == "Trade fair"
    assert bob.source == "CSV import"


def test_trailing_empty_cells_beyond_the_header_are_fine(session, paid_user):
    _import(session, paid_user, b"Name,City\nAda,London,,\n")

    assert _records(session)[0].city == "London"


def test_own_export_header_is_guessed_field_by_field():
    header = [*exports.CSV_HEADER, "Labels"]

    mapping, notes = importing.guess_mapping(header)

    own_fields = [name for name, _ in FIELD_LABELS]
    assert mapping == [*own_fields, importing.TARGET_EXTRA, "labels"]
    assert notes == []


def test_other_emails_and_phones_headers_have_their_own_fields():
    header = ["Name", "Email", "Other Email", "Phone", "Other Phone", "State"]

    mapping, _ = importing.guess_mapping(header)

    assert mapping == [
        "name",
        "email",
        "other_emails",
        "phone",
        "other_phones",
        "region",
    ]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("'=1+2", "=1+2"),
        ("'+1 555 0102", "+1 555 0102"),
        ("'-5", "-5"),
        ("'@SUM(A1)", "@SUM(A1)"),
        ("'\t=1+2", "\t=1+2"),
        ("'\rtext", "\rtext"),
        ("' =1+2", " =1+2"),
        ("'quoted'", "'quoted'"),
        ("O'Brien", "O'Brien"),
        ("'", "'"),
        ("''=1+2", "''=1+2"),
        ("'text", "'text"),
        ("=1+2", "=1+2"),
    ],
)
def test_formula_guard_of_an_export_is_removed(cell, expected):
    assert importing.without_formula_guard(cell) == expected
    # Whatever an export guards, the import reads back as it was stored.
    if cell.startswith("'") and expected != cell:
        assert exports.neutralise_formula(expected) == cell


def test_formula_guard_is_removed_on_import_and_other_quotes_kept(session, paid_user):
    data = (
        b"Name,Company,Phone,Description,Notes\n"
        b"O'Brien,'=1+2,'+1 555 0102,'quoted','@SUM(A1)\n"
        b"'-5,'Acme',\"'\t+44 20\",\"'see below, no guard\",it's fine\n"
    )

    _import(session, paid_user, data)

    first, second = _records(session)
    assert (first.name, first.company, first.phone) == (
        "O'Brien",
        "=1+2",
        "+1 555 0102",
    )
    assert first.description == "'quoted'"
    assert json.loads(first.extra_json) == {"Notes": "@SUM(A1)"}
    assert (second.name, second.company, second.phone) == ("-5", "'Acme'", "+44 20")
    assert second.description == "'see below, no guard"
    assert json.loads(second.extra_json) == {"Notes": "it's fine"}


# Hand-made files: refusals


def test_bad_email_names_the_row_and_writes_nothing(session, paid_user):
    _import(session, paid_user, b"Name\nAlready There\n")
    data = b"Name,Email\nAda,ada@example.com\nBob,xyz\nCy,cy@example.com\n"

    message = _refusal(session, paid_user, data)

    assert "row 3: 'xyz' is not a valid e-mail address" in message
    assert "Nothing was imported" in message
    assert [record.name for record in _records(session)] == ["Already There"]


def test_row_without_name_is_refused(session, paid_user):
    message = _refusal(session, paid_user, b"Name,City\nAda,Oslo\n,Bergen\n")

    assert "row 3: no name" in message


def test_only_the_first_ten_problems_are_listed(session, paid_user):
    data = b"Name,City\n" + b",Oslo\n" * 15

    message = _refusal(session, paid_user, data)

    assert "row 2: no name" in message
    assert "row 11: no name" in message
    assert "row 12" not in message
    assert message.endswith("and 5 more.")


def test_value_longer_than_its_column_is_refused(session, paid_user):
    data = b"Name,ZIP\n" + b"A" * 301 + b",1\nBob," + b"9" * 51 + b"\n"

    message = _refusal(session, paid_user, data)

    assert "row 2: the name is too long (301 characters, at most 300)" in message
    assert "row 3: the postal code is too long (51 characters, at most 50)" in message


def test_row_with_more_cells_than_the_header_is_refused(session, paid_user):
    message = _refusal(session, paid_user, b"Name,City\nAda,Oslo\nBob,Rome,Italy\n")

    assert "row 3: 3 values, but the header has 2 columns" in message


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml",
        b"Name,City\nAda,\x01\x02\x03\x04\n",
    ],
    ids=["png", "xlsx", "control-characters"],
)
def test_binary_file_is_refused(session, paid_user, data):
    message = _refusal(session, paid_user, data)

    assert "could not be read as CSV" in message


def test_unclosed_quote_is_refused(session, paid_user):
    message = _refusal(session, paid_user, b'Name,City\nAda,Oslo\nBob,"Rome\n')

    assert "could not be read as CSV: row 3" in message


@pytest.mark.parametrize("data", [b"", b"  \r\n\r\n", codecs.BOM_UTF8])
def test_empty_file_is_refused(session, paid_user, data):
    assert _refusal(session, paid_user, data) == "The file is empty."


def test_header_only_is_refused(session, paid_user):
    message = _refusal(session, paid_user, b"Name,Email,City\r\n\r\n")

    assert "no data rows" in message


def test_bytes_outside_windows_1252_are_refused(session, paid_user):
    message = _refusal(session, paid_user, b"Name\nA\x81\x8d\x90\n")

    assert "could not be read as CSV" in message


def test_row_limit_counts_data_rows_only(session, paid_user, monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 3)

    _refusal(session, paid_user, b"Name\nAda\nBob\nCy\nDee\n")
    result = _import(session, paid_user, b"Name\nAda\n\nBob\nCy\n")

    assert result.created == 3


def test_too_many_rows_are_refused(session, paid_user):
    data = b"Name\n" + b"Ada\n" * (importing.MAX_ROWS + 1)

    message = _refusal(session, paid_user, data)

    assert "more than 10,000 rows" in message


def test_file_larger_than_the_limit_is_refused(session, paid_user, monkeypatch):
    monkeypatch.setattr(importing.settings, "import_max_bytes", 1024 * 1024)

    message = _refusal(session, paid_user, b"Name\n" + b"A" * 1024 * 1024)

    assert "larger than 1 MB" in message


def test_free_plan_is_refused(session, free_user):
    with pytest.raises(PlanRequired):
        _import(session, free_user, b"Name\nAda\n")

    assert _record_count(session) == 0


def test_bad_kind_is_refused(session, paid_user):
    message = _refusal(session, paid_user, b"Name\nAda\n", kind="partner")

    assert "leads or contacts" in message


def test_import_logs_one_line_without_row_contents(session, paid_user, caplog):
    caplog.set_level(logging.INFO, logger=importing.__name__)

    _import(session, paid_user, b"Name\nAda Secret\n", kind=KIND_LEAD)
    _refusal(session, paid_user, b"Name,Email\nBob Secret,bob-secret\n")

    lines = [r.getMessage() for r in caplog.records if r.name == importing.__name__]
    assert lines == [
        f"user {paid_user.id} imported 1 leads from a CSV file",
        f"CSV import of contacts refused for user {paid_user.id}: 1 problems in 1 rows",
    ]
    assert "Secret" not in caplog.text
    assert "bob-secret" not in caplog.text
