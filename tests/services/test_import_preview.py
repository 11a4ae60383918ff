"""Tests for importing with a preview: mapping, row problems, duplicates, chunks."""

import codecs
import json
import logging
import os

import pytest
from sqlmodel import Session, func, select

from chub_ui.models import KIND_CONTACT, KIND_LEAD, PLAN_FREE, Record
from chub_ui.services import exports, import_jobs, importing, plans
from chub_ui.services.errors import InvalidInput, NotAllowed, PlanRequired
from chub_ui.services.import_jobs import preview_import, run_import
from chub_ui.services.records import FIELD_LABELS
from tests.conftest import REALDATA
from tests.services.rows import add_record, record_snapshot
from tests.services.test_importing import REAL_FILE_COUNTS as CSV_COUNTS
from tests.services.test_vcards import REAL_FILE_COUNTS as VCF_COUNTS

logger = logging.getLogger(__name__)

REAL_FILES = [("csv", name) for name in sorted(CSV_COUNTS)] + [
    ("vcf", name) for name in sorted(VCF_COUNTS)
]


def _preview(session, user, data: bytes, *, filename="people.csv", **kwargs):
    kwargs.setdefault("kind", KIND_CONTACT)
    return preview_import(
        session=session, user=user, filename=filename, data=data, **kwargs
    )


def _run(session, user, data: bytes, *, filename="people.csv", **kwargs):
    kwargs.setdefault("kind", KIND_CONTACT)
    return run_import(
        session=session, user=user, filename=filename, data=data, **kwargs
    )


def _records(session: Session) -> list[Record]:
    session.expire_all()
    return list(session.exec(select(Record).order_by(Record.id)).all())


def _record_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Record)).one()


def _only(session: Session) -> Record:
    (record,) = _records(session)
    return record


def _snapshot(session: Session) -> list[dict]:
    return [record.model_dump() for record in _records(session)]


def _vcf(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


# Every real export: preview, then import


@pytest.mark.parametrize(("folder", "filename"), REAL_FILES)
def test_real_file_previews_and_imports(session, paid_user, folder, filename):
    data = (REALDATA / folder / filename).read_bytes()
    expected = (CSV_COUNTS if folder == "csv" else VCF_COUNTS)[filename]

    preview = _preview(session, paid_user, data, filename=filename)

    assert preview.format == ("CSV" if folder == "csv" else "vCard")
    assert preview.total_rows == preview.good_rows == expected
    assert preview.problems == []
    assert len(preview.sample_rows) == min(expected, import_jobs.PREVIEW_ROWS)
    assert all(len(row) == len(preview.columns) for row in preview.sample_rows)
    assert len(preview.mapping) == len(preview.columns)
    assert "name" in preview.mapping
    assert _record_count(session) == 0
    # In a fresh account every duplicate repeats an earlier row of the file.
    assert all(item["first_row"] for item in preview.duplicates)

    outcome = _run(session, paid_user, data, filename=filename)

    assert outcome.created == expected - len(preview.duplicates)
    assert outcome.skipped == len(preview.duplicates)
    assert (outcome.merged, outcome.failed, outcome.stopped) == (0, [], "")
    assert [record.id for record in _records(session)] == outcome.record_ids


@pytest.mark.parametrize(("folder", "filename"), REAL_FILES)
def test_real_file_creates_every_row_when_told_to(session, paid_user, folder, filename):
    data = (REALDATA / folder / filename).read_bytes()
    expected = (CSV_COUNTS if folder == "csv" else VCF_COUNTS)[filename]

    outcome = _run(session, paid_user, data, filename=filename, duplicates="create")

    assert outcome.created == len(_records(session)) == expected


def test_real_duplicates_within_a_file_are_named(session, paid_user):
    data = (REALDATA / "csv" / "krayin_samples_persons.csv").read_bytes()

    preview = _preview(session, paid_user, data)

    # 5454445454 and 15454445454: the same number with and without +1.
    assert preview.duplicates == [
        {
            "row": 3,
            "line": 3,
            "where": "row 3",
            "name": "Sasha Calle",
            "matched_on": "same phone",
            "existing_id": None,
            "existing_name": "Wilson Fisk",
            "link": "",
            "first_row": 2,
        }
    ]


def test_vcard_preview_counts_photos_and_fixes_the_mapping(session, paid_user):
    data = (REALDATA / "vcf" / "ezvcard_John_Doe_IPHONE.vcf").read_bytes()

    preview = _preview(session, paid_user, data, filename="iphone.vcf")

    assert preview.mapping_fixed
    assert preview.photos_skipped == 1
    assert (preview.encoding, preview.delimiter) == ("UTF-8", "")
    assert preview.columns[:4] == ["Name", "Company", "Job title", "E-mail"]
    assert preview.mapping[:4] == ["name", "company", "job_title", "email"]
    assert preview.sample_rows[0][:4] == [
        "Mr. John Richter James Doe Sr.",
        "IBM",
        "Money Counter",
        "john.doe@ibm.com",
    ]


# Reading CSV: encodings, delimiters, quotes


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (lambda text: text.encode("utf-8"), "UTF-8"),
        (lambda text: codecs.BOM_UTF8 + text.encode("utf-8"), "UTF-8"),
        (lambda text: text.encode("utf-16"), "UTF-16 (little-endian)"),
        (
            lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
            "UTF-16 (big-endian)",
        ),
        (lambda text: text.encode("utf-16-le"), "UTF-16 (little-endian)"),
        (lambda text: text.encode("utf-16-be"), "UTF-16 (big-endian)"),
    ],
    ids=["utf8", "utf8-bom", "utf16-le-bom", "utf16-be-bom", "utf16-le", "utf16-be"],
)
def test_utf8_and_utf16_with_or_without_mark(session, paid_user, encoded, encoding):
    data = encoded("Name;City\r\nJosé Núñez;Zürich\r\n")

    preview = _preview(session, paid_user, data)
    _run(session, paid_user, data)

    assert (preview.encoding, preview.delimiter) == (encoding, "semicolon")
    assert preview.columns == ["Name", "City"]
    assert preview.mapping == ["name", "city"]
    jose = _only(session)
    assert (jose.name, jose.city) == ("José Núñez", "Zürich")


@pytest.mark.parametrize(
    ("separator", "name"), [(",", "comma"), (";", "semicolon"), ("\t", "tab")]
)
def test_delimiters_are_found_and_named(session, paid_user, separator, name):
    # The quoted company holds the separators; they stay text.
    lines = [["Name", "Company", "City"], ["Ada", '"Engines, Ltd;\tUK"', "London"]]
    data = "\n".join(separator.join(cells) for cells in lines).encode()

    preview = _preview(session, paid_user, data)
    _run(session, paid_user, data)

    assert preview.delimiter == name
    ada = _only(session)
    assert (ada.company, ada.city) == ("Engines, Ltd;\tUK", "London")


def test_quoted_line_breaks_and_doubled_quotes_name_row_and_line(session, paid_user):
    data = (
        b'Name,Notes,Email\r\n"Ann","line one\r\nline two with ""quotes""",\r\n'
        b"Bob,,not-an-address\r\nCy,,cy@example.com\r\n"
    )

    preview = _preview(session, paid_user, data)

    assert preview.total_rows == 3
    assert preview.good_rows == 2
    # Bob is row 3 of a spreadsheet but starts on line 4 of the file.
    assert preview.problems == [
        {
            "row": 3,
            "line": 4,
            "where": "row 3 (line 4)",
            "reason": "'not-an-address' is not a valid e-mail address",
        }
    ]
    assert preview.sample_rows[0] == ["Ann", 'line one line two with "quotes"', ""]

    outcome = _run(session, paid_user, data, only_good_rows=True)

    assert outcome.created == 2
    assert outcome.failed == preview.problems
    ann, cy = _records(session)
    assert ann.description == 'line one\nline two with "quotes"'
    assert cy.email == "cy@example.com"


def test_json_lists_of_emails_and_phones_fill_first_and_others(session, paid_user):
    data = (
        b"name,emails,phones\n"
        b'Wil,"[{""label"":""work"",""value"":""W@Example.com""},'
        b'{""label"":""home"",""value"":""w@home.example""}]",'
        b'"[{""label"":""work"",""value"":""111 222""},'
        b'{""label"":""cell"",""value"":""333 444""},'
        b'{""label"":""fax"",""value"":""555 666""}]"\n'
    )

    _run(session, paid_user, data)

    wil = _only(session)
    assert (wil.email, wil.other_emails) == ("w@example.com", "w@home.example")
    assert (wil.phone, wil.other_phones) == ("111 222", "333 444, 555 666")


def test_several_tags_in_one_cell_become_labels(session, paid_user):
    data = b'Name,Tags\nAda,"vip; fair, 2024 ,VIP,; "\nBob,\n'

    preview = _preview(session, paid_user, data)
    _run(session, paid_user, data)

    assert preview.mapping == ["name", "labels"]
    ada, bob = _records(session)
    assert ada.labels == "vip, fair, 2024"
    assert bob.labels == ""
    assert json.loads(ada.extra_json) == {}


def test_preview_shows_the_first_ten_rows_and_counts_all(session, paid_user):
    data = b"Name,City\n" + b"".join(
        f"Person {number},Town {number}\n".encode() for number in range(1, 26)
    )

    preview = _preview(session, paid_user, data)

    assert preview.total_rows == preview.good_rows == 25
    assert preview.sample_rows == [
        [f"Person {number}", f"Town {number}"] for number in range(1, 11)
    ]
    assert _record_count(session) == 0


def test_nameless_rows_take_company_or_email(session, paid_user):
    data = b"Company,Email,City\nAcme Ltd,,\n,solo@example.com,\n,,Oslo\n"

    preview = _preview(session, paid_user, data)

    assert preview.mapping == ["company", "email", "city"]
    assert preview.problems == [
        {
            "row": 4,
            "line": 4,
            "where": "row 4",
            "reason": "no name, and no company or e-mail address to use as one",
        }
    ]
    _run(session, paid_user, data, only_good_rows=True)
    acme, solo = _records(session)
    assert (acme.name, acme.company) == ("Acme Ltd", "Acme Ltd")
    assert (solo.name, solo.email) == ("solo@example.com", "solo@example.com")


# Mapping


def test_mapping_changes_the_stored_fields(session, paid_user):
    data = b"Who,Org,Misc,Secret,Notes\nAda,Engines,vip;fair,pin 1234,likes tea\n"
    guessed = _preview(session, paid_user, data)
    assert guessed.mapping == ["name", "extra", "extra", "extra", "description"]

    mapping = ["name", "company", "labels", "ignore", "extra"]
    preview = _preview(session, paid_user, data, mapping=mapping)
    _run(session, paid_user, data, mapping=mapping)

    assert preview.mapping == mapping
    ada = _only(session)
    assert (ada.name, ada.company, ada.labels) == ("Ada", "Engines", "vip, fair")
    assert ada.description == ""
    assert json.loads(ada.extra_json) == {"Notes": "likes tea"}
    assert "1234" not in ada.model_dump_json()


def test_several_columns_mapped_to_one_field_are_joined(session, paid_user):
    data = (
        b"Given,Family,Road,Flat,Mail,Mail 2,Phone,More phones\n"
        b"Ada,Lovelace,1 Main St,Flat 2,ada@example.com,ada@work.example,1,2; 3\n"
    )
    mapping = [
        "first_name",
        "last_name",
        "street",
        "street",
        "email",
        "other_emails",
        "phone",
        "other_phones",
    ]

    _run(session, paid_user, data, mapping=mapping)

    ada = _only(session)
    assert ada.name == "Ada Lovelace"
    assert ada.street == "1 Main St, Flat 2"
    assert (ada.email, ada.other_emails) == ("ada@example.com", "ada@work.example")
    assert (ada.phone, ada.other_phones) == ("1", "2, 3")


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        (["name", "password_hash"], "'password_hash' is not a field"),
        (["name", "account_id"], "'account_id' is not a field"),
        (["name", None], "'None' is not a field"),
        (["name", "x" * 10_000], "is not a field"),
        (["name"], "does not fit this file's 2 columns"),
        (["name", "city", "email"], "does not fit this file's 2 columns"),
        ({"0": "name", "1": "city"}, "does not fit"),
        ("name,city", "does not fit"),
        (["city", "extra"], "Map a column to the name"),
        (["ignore", "ignore"], "Map a column to the name"),
    ],
)
def test_bad_mappings_are_refused(session, paid_user, mapping, expected):
    data = b"Name,City\nAda,Oslo\n"

    for call in (_preview, _run):
        with pytest.raises(InvalidInput) as caught:
            call(session, paid_user, data, mapping=mapping)
        assert expected in caught.value.message
        assert len(caught.value.message) < 300
    assert _record_count(session) == 0


def test_vcard_ignores_any_mapping_sent(session, paid_user):
    data = _vcf(
        "BEGIN:VCARD", "VERSION:3.0", "FN:Ada", "EMAIL:a@example.com", "END:VCARD"
    )

    _run(session, paid_user, data, filename="a.vcf", mapping=["password_hash"])

    assert (_only(session).name, _only(session).email) == ("Ada", "a@example.com")


# Re-importing the app's own CSV export

_EXPORTED = [
    {
        "name": "Ada Lovelace",
        "company": "=1+2",
        "job_title": "@SUM(A1)",
        "email": "ada@example.com",
        "other_emails": "ada@work.example, ada@home.example",
        "phone": "+1 555 0102",
        "other_phones": "+1 555 0103, -5",
        "website": "https://ada.example",
        "street": "1 Main St, Flat 2",
        "city": "London",
        "region": "Île-de-France",
        "postal_code": "75001",
        "country": "France",
        "description": "-5 apples\nand 'quoted' pears",
        "source": "Trade fair",
    },
    {
        "name": "Conan O'Brien",
        "company": "'quoted'",
        "job_title": "",
        "email": "",
        "other_emails": "",
        "phone": "",
        "other_phones": "",
        "website": "",
        "street": "",
        "city": "",
        "region": "",
        "postal_code": "",
        "country": "",
        "description": "",
        "source": "",
    },
]


def test_own_csv_export_imports_back_field_by_field(session, paid_user, make_user):
    for values in _EXPORTED:
        add_record(session, paid_user, **values)
    data = "".join(
        exports.csv_export(session=session, user=paid_user, kind=KIND_CONTACT)
    ).encode("utf-8")
    importer = make_user("importer@example.com")

    preview = _preview(session, importer, data, filename="contacts.csv")
    _run(session, importer, data, filename="contacts.csv")

    fields = [name for name, _ in FIELD_LABELS]
    assert preview.columns == list(exports.CSV_HEADER)
    assert preview.mapping == [*fields, importing.TARGET_EXTRA]
    assert preview.problems == preview.duplicates == []
    shown = {row[0]: row for row in preview.sample_rows}
    assert shown["Ada Lovelace"][1:4] == ["=1+2", "@SUM(A1)", "ada@example.com"]
    assert shown["Ada Lovelace"][5] == "+1 555 0102"
    imported = [
        record
        for record in _records(session)
        if record.account_id == importer.account_id
    ]
    by_name = {record.name: record for record in imported}
    assert sorted(by_name) == sorted(values["name"] for values in _EXPORTED)
    for values in _EXPORTED:
        record = by_name[values["name"]]
        expected = {**values, "source": values["source"] or "CSV import: contacts.csv"}
        assert {name: getattr(record, name) for name in fields} == expected
        assert list(json.loads(record.extra_json)) == ["Created"]


# Row problems: import the good rows, or nothing


def test_problem_rows_refuse_the_file_unless_good_rows_are_chosen(session, paid_user):
    existing = add_record(session, paid_user, name="Already There")
    before = _snapshot(session)
    data = b"Name,Email\nAda,ada@example.com\nBob,xyz\n,\nCy,cy@example.com\n"

    preview = _preview(session, paid_user, data)
    assert [problem["where"] for problem in preview.problems] == ["row 3"]
    with pytest.raises(InvalidInput) as caught:
        _run(session, paid_user, data)

    assert caught.value.message == (
        "Nothing was imported. Fix these rows and try again: row 3: 'xyz' is not a "
        "valid e-mail address."
    )
    assert _snapshot(session) == before

    outcome = _run(session, paid_user, data, only_good_rows=True)

    assert outcome.created == 2
    assert outcome.failed == [
        {
            "row": 3,
            "line": 3,
            "where": "row 3",
            "reason": "'xyz' is not a valid e-mail address",
        }
    ]
    assert [record.name for record in _records(session)] == [
        existing.name,
        "Ada",
        "Cy",
    ]


def test_only_good_rows_must_be_exactly_true(session, paid_user):
    data = b"Name,Email\nAda,ada@example.com\nBob,xyz\n"

    for value in ("true", 1, "yes", ["x"]):
        with pytest.raises(InvalidInput):
            _run(session, paid_user, data, only_good_rows=value)

    assert _record_count(session) == 0


def test_file_where_every_row_has_a_problem_imports_nothing(session, paid_user):
    data = b"Name,Email\nAda,nope\nBob,nada\n"

    with pytest.raises(InvalidInput) as caught:
        _run(session, paid_user, data, only_good_rows=True)

    assert "No row of the file can be imported" in caught.value.message
    assert _record_count(session) == 0


def test_vcard_problems_name_card_and_line(session, paid_user):
    data = _vcf(
        "BEGIN:VCARD",
        "VERSION:2.1",
        "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=B6rg;;;",
        "PHOTO;JPEG;BASE64:/9j/4AAQSkZJRgABAQAAAQABAAD",
        "END:VCARD",
        "BEGIN:VCARD",
        "VERSION:3.0",
        "NOTE:Nobody",
        "END:VCARD",
        "BEGIN:VCARD",
        "VERSION:4.0",
        "EMAIL:nameless@example.com",
        "END:VCARD",
        "BEGIN:VCARD",
        "FN:Bad Mail",
        "EMAIL:bad@@example.com",
        "END:VCARD",
    )

    preview = _preview(session, paid_user, data, filename="mixed.vcf")

    assert (preview.total_rows, preview.good_rows, preview.photos_skipped) == (4, 2, 1)
    assert preview.problems == [
        {
            "row": 2,
            "line": 6,
            "where": "card 2 (line 6)",
            "reason": "no name, and no company, e-mail address or phone number to "
            "use as one",
        },
        {
            "row": 4,
            "line": 14,
            "where": "card 4 (line 14)",
            "reason": "'bad@@example.com' is not a valid e-mail address",
        },
    ]
    with pytest.raises(InvalidInput) as caught:
        _run(session, paid_user, data, filename="mixed.vcf")
    assert "card 2 (line 6): no name" in caught.value.message
    assert _record_count(session) == 0

    outcome = _run(session, paid_user, data, filename="mixed.vcf", only_good_rows=True)

    assert (outcome.created, len(outcome.failed)) == (2, 2)
    jorg, nameless = _records(session)
    assert jorg.name == "Jörg Müller"
    assert nameless.name == nameless.email == "nameless@example.com"
    assert jorg.source == "vCard import: mixed.vcf"


def test_vcard_several_emails_phones_folds_and_labels(session, paid_user):
    data = _vcf(
        "BEGIN:VCARD",
        "VERSION:3.0",
        "FN:Max",
        "  Many",
        "item1.EMAIL;TYPE=INTERNET:max@work.example.com",
        "item1.X-ABLabel:_$!<Work>!$_",
        "EMAIL;TYPE=HOME:max@home.example.com",
        "TEL;TYPE=CELL:111",
        "TEL;TYPE=HOME:222",
        "ORG:Many Ltd",
        "END:VCARD",
    )

    _run(session, paid_user, data, filename="max.vcf")

    max_ = _only(session)
    assert max_.name == "Max Many"
    assert (max_.email, max_.other_emails) == (
        "max@work.example.com",
        "max@home.example.com",
    )
    assert (max_.phone, max_.other_phones) == ("111", "222")
    assert json.loads(max_.extra_json) == {"Work": "max@work.example.com"}


# Duplicates of records in the CRM and within the file


@pytest.fixture
def wilson(session, paid_user) -> Record:
    return add_record(
        session,
        paid_user,
        name="Wilson Fisk",
        company="",
        email="wilson@fisk.example",
        other_emails="kingpin@fisk.example",
        phone="+1 212 555 0100",
        labels="vip",
        extra_json=json.dumps({"Floor": "top"}),
    )


DUPLICATE_CSV = (
    b"Name,Company,Email,Phone,Tags,Floor,Pet\n"
    b"Will Fisk,Fisk Industries,KINGPIN@fisk.example,212 555 0100 ext,vip;crime,"
    b"ground,cat\n"
    b"Vanessa,Gallery,vanessa@gallery.example,,,,\n"
    b"Nessa,,,+44 20 7946 0000,,,\n"
    b"V. again,,vanessa@gallery.example,+44 20 7946 0000,art,,dog\n"
)


def test_preview_names_each_duplicate_and_what_matched(session, paid_user, wilson):
    preview = _preview(session, paid_user, DUPLICATE_CSV)

    assert [
        (item["row"], item["existing_id"], item["first_row"], item["matched_on"])
        for item in preview.duplicates
    ] == [(2, wilson.id, None, "same e-mail"), (5, None, 3, "same e-mail")]
    assert preview.duplicates[0]["existing_name"] == "Wilson Fisk"
    assert preview.duplicates[0]["link"] == f"/records/{wilson.id}"
    assert preview.duplicates[1]["existing_name"] == "Vanessa"


def test_duplicates_are_skipped_by_default(session, paid_user, wilson):
    before = record_snapshot(session, wilson.id)

    outcome = _run(session, paid_user, DUPLICATE_CSV)

    assert (outcome.created, outcome.merged, outcome.skipped) == (2, 0, 2)
    assert record_snapshot(session, wilson.id) == before
    assert [record.name for record in _records(session)] == [
        "Wilson Fisk",
        "Vanessa",
        "Nessa",
    ]


def test_duplicates_merge_fills_empty_fields_and_adds_lists(session, paid_user, wilson):
    outcome = _run(session, paid_user, DUPLICATE_CSV, duplicates="merge")

    assert (outcome.created, outcome.merged, outcome.skipped) == (2, 2, 0)
    merged, vanessa, nessa = _records(session)
    assert merged.id == wilson.id
    # Non-empty values stay; the empty company is filled.
    assert (merged.name, merged.company) == ("Wilson Fisk", "Fisk Industries")
    assert merged.email == "wilson@fisk.example"
    assert merged.other_emails == "kingpin@fisk.example"
    # The same number with a country code and an extension is not added again.
    assert (merged.phone, merged.other_phones) == ("+1 212 555 0100", "")
    assert merged.labels == "vip, crime"
    assert json.loads(merged.extra_json) == {"Floor": "top", "Pet": "cat"}
    assert merged.updated_at is not None
    # Row 5 repeats row 3 (Vanessa), created by this import, and goes into it.
    assert vanessa.phone == "+44 20 7946 0000"
    assert vanessa.labels == "art"
    assert json.loads(vanessa.extra_json) == {"Pet": "dog"}
    assert nessa.phone == "+44 20 7946 0000"


def test_duplicates_create_makes_new_records(session, paid_user, wilson):
    before = record_snapshot(session, wilson.id)

    outcome = _run(session, paid_user, DUPLICATE_CSV, duplicates="create")

    assert (outcome.created, outcome.merged, outcome.skipped) == (4, 0, 0)
    assert record_snapshot(session, wilson.id) == before
    assert _record_count(session) == 5


def test_merge_never_overwrites_and_adds_new_addresses(session, paid_user):
    existing = add_record(
        session,
        paid_user,
        name="Ada",
        company="Engines",
        email="",
        phone="",
        city="London",
    )
    data = b"Name,Company,City,Email,Phone\nAda,Engines,Paris,ada@x.example,777 888\n"

    _run(session, paid_user, data, duplicates="merge")

    merged = _only(session)
    assert merged.id == existing.id
    assert (merged.city, merged.email, merged.phone) == (
        "London",
        "ada@x.example",
        "777 888",
    )


def test_merge_that_would_overflow_a_field_is_left_out(session, paid_user):
    existing = add_record(
        session, paid_user, name="Ada", email="a@x.example", other_emails="b" * 1990
    )
    before = record_snapshot(session, existing.id)
    data = b'Name,Email\nAda,"a@x.example, new@longer.example"\nBob,bob@x.example\n'

    outcome = _run(session, paid_user, data, duplicates="merge")

    assert (outcome.created, outcome.merged) == (1, 0)
    assert outcome.failed[0]["where"] == "row 2"
    assert "list of other e-mails would be too long" in outcome.failed[0]["reason"]
    assert record_snapshot(session, existing.id) == before


def test_records_of_another_kind_or_account_are_no_duplicates(
    session, paid_user, make_user
):
    stranger = make_user("stranger@example.com", name="Stan Stranger")
    add_record(session, paid_user, kind=KIND_LEAD, name="Ada", email="ada@x.example")
    add_record(session, stranger, name="Ada", email="ada@x.example")
    data = b"Name,Email\nAda,ada@x.example\n"

    preview = _preview(session, paid_user, data, kind=KIND_CONTACT)
    outcome = _run(session, paid_user, data, kind=KIND_CONTACT)

    assert preview.duplicates == []
    assert outcome.created == 1
    lead_preview = _preview(session, paid_user, data, kind=KIND_LEAD)
    assert [item["matched_on"] for item in lead_preview.duplicates] == ["same e-mail"]


def test_duplicates_by_name_and_company(session, paid_user):
    existing = add_record(session, paid_user, name="Ada  Lovelace", company="Engines")
    data = b"Name,Company\nada lovelace,ENGINES\nAda Lovelace,\n"

    preview = _preview(session, paid_user, data)

    assert [(item["row"], item["existing_id"]) for item in preview.duplicates] == [
        (2, existing.id)
    ]
    assert preview.duplicates[0]["matched_on"] == "same name and company"


def test_bad_duplicates_choice_is_refused(session, paid_user):
    for choice in ("overwrite", "", None, "SKIP"):
        with pytest.raises(InvalidInput) as caught:
            _run(session, paid_user, b"Name\nAda\n", duplicates=choice)
        assert "skip, merge or create" in caught.value.message
    assert _record_count(session) == 0


# Chunks and progress


def test_chunks_commit_and_report_progress(session, paid_user):
    data = b"Name\n" + b"".join(f"P{n}\n".encode() for n in range(5))
    progress = []

    outcome = _run(
        session,
        paid_user,
        data,
        chunk_rows=2,
        on_progress=lambda done, total: progress.append((done, total)),
    )

    assert outcome.created == 5
    assert progress == [(0, 5), (2, 5), (4, 5), (5, 5)]


def test_database_failure_midway_reports_what_was_saved(
    session, paid_user, monkeypatch
):
    data = b"Name\n" + b"".join(f"P{n}\n".encode() for n in range(5))
    real_commit = session.commit
    commits = []

    def failing_commit():
        commits.append(1)
        if len(commits) == 2:
            raise RuntimeError("disk full")
        real_commit()

    monkeypatch.setattr(session, "commit", failing_commit)

    outcome = _run(session, paid_user, data, chunk_rows=2)

    assert outcome.created == 2
    assert outcome.stopped.startswith("The import stopped at row 4")
    assert "The 2 records imported or merged before it were saved" in outcome.stopped
    monkeypatch.setattr(session, "commit", real_commit)
    assert [record.name for record in _records(session)] == ["P0", "P1"]
    assert "stopped" in import_jobs.outcome_message(outcome, KIND_CONTACT)


def test_outcome_message_counts_everything():
    outcome = import_jobs.ImportOutcome(
        created=3,
        merged=1,
        skipped=2,
        failed=[{"row": 4}],
        record_ids=[1, 2, 3],
    )

    assert import_jobs.outcome_message(outcome, "contact") == (
        "Imported 3 contacts, merged 1 duplicate into existing ones, skipped 2 "
        "duplicates, left out 1 row with problems."
    )


# Attacks and limits


def test_free_plan_can_neither_preview_nor_import(session, free_user):
    for call in (_preview, _run):
        with pytest.raises(PlanRequired):
            call(session, free_user, b"Name\nAda\n")

    assert _record_count(session) == 0


def test_downgrade_after_the_preview_stops_the_import(session, paid_user):
    _preview(session, paid_user, b"Name\nAda\n")
    plans.change_plan(session=session, user=paid_user, plan=PLAN_FREE)

    with pytest.raises(PlanRequired):
        _run(session, paid_user, b"Name\nAda\n")

    assert _record_count(session) == 0


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x00" * 4096, "binary file"),
        (b"Name\nAda\x00\x01\x02\x03\n", "binary file"),
        ("Name\nAda\n", "Choose one CSV or vCard file"),
        (None, "Choose one CSV or vCard file"),
        (b"", "The file is empty."),
    ],
    ids=["nul", "controls", "text-not-bytes", "none", "empty"],
)
def test_unreadable_input_is_refused(session, paid_user, data, expected):
    for call in (_preview, _run):
        with pytest.raises(InvalidInput) as caught:
            call(session, paid_user, data)
        assert expected in caught.value.message

    assert _record_count(session) == 0


def test_huge_file_is_refused(session, paid_user, monkeypatch):
    monkeypatch.setattr(importing.settings, "import_max_bytes", 1024)

    with pytest.raises(InvalidInput) as caught:
        _preview(session, paid_user, b"Name\n" + b"A" * 2048)

    assert "larger than" in caught.value.message


def test_too_many_columns_are_refused(session, paid_user):
    data = ",".join(f"c{n}" for n in range(1001)).encode() + b"\n" + b"x\n"

    with pytest.raises(InvalidInput) as caught:
        _preview(session, paid_user, data)

    assert "at most 1,000 can be imported" in caught.value.message


@pytest.mark.parametrize("kind", ["partner", "", None, ["lead"]])
def test_bad_kind_is_refused(session, paid_user, kind):
    for call in (_preview, _run):
        with pytest.raises(InvalidInput) as caught:
            call(session, paid_user, b"Name\nAda\n", kind=kind)
        assert caught.value.message == import_jobs.KIND_MESSAGE


def test_filename_that_is_not_text_is_read_as_csv(session, paid_user):
    outcome = _run(session, paid_user, b"Name\nAda\n", filename=None)

    assert outcome.created == 1
    assert _only(session).source == "CSV import"


# Uploads kept between preview and import


def test_upload_is_kept_for_its_user_only(
    session, paid_user, make_user, tmp_path, monkeypatch
):
    monkeypatch.setattr(import_jobs.settings, "storage_dir", tmp_path)
    other = make_user("other@example.com")

    key = import_jobs.keep_upload(user=paid_user, data=b"Name\nAda\n")

    assert import_jobs.read_upload(user=paid_user, key=key) == b"Name\nAda\n"
    for user, bad_key in (
        (other, key),
        (paid_user, "../../etc/passwd"),
        (paid_user, f"{paid_user.id}-../x"),
        (paid_user, None),
        (paid_user, key + "x" * 100),
    ):
        with pytest.raises(NotAllowed):
            import_jobs.read_upload(user=user, key=bad_key)
    import_jobs.drop_upload(user=other, key=key)
    assert import_jobs.read_upload(user=paid_user, key=key) == b"Name\nAda\n"
    import_jobs.drop_upload(user=paid_user, key=key)
    with pytest.raises(NotAllowed):
        import_jobs.read_upload(user=paid_user, key=key)


def test_upload_larger_than_the_limit_is_not_kept(paid_user, tmp_path, monkeypatch):
    monkeypatch.setattr(import_jobs.settings, "storage_dir", tmp_path)
    monkeypatch.setattr(importing.settings, "import_max_bytes", 10)

    with pytest.raises(InvalidInput):
        import_jobs.keep_upload(user=paid_user, data=b"x" * 11)

    assert not any((tmp_path / import_jobs.UPLOADS_FOLDER).glob("*"))


def test_old_uploads_are_removed(paid_user, tmp_path, monkeypatch):
    monkeypatch.setattr(import_jobs.settings, "storage_dir", tmp_path)
    old_key = import_jobs.keep_upload(user=paid_user, data=b"old")
    old_path = tmp_path / import_jobs.UPLOADS_FOLDER / old_key
    two_days_ago = old_path.stat().st_mtime - 2 * import_jobs.UPLOAD_MAX_AGE_SECONDS
    os.utime(old_path, (two_days_ago, two_days_ago))

    new_key = import_jobs.keep_upload(user=paid_user, data=b"new")

    assert not old_path.exists()
    assert import_jobs.read_upload(user=paid_user, key=new_key) == b"new"


def test_preview_and_import_log_no_row_contents(session, paid_user, caplog):
    caplog.set_level(logging.INFO, logger=import_jobs.__name__)
    data = b"Name,Email\nAda Secret,ada-secret@example.com\nBob Secret,bad-secret\n"

    _preview(session, paid_user, data)
    _run(session, paid_user, data, only_good_rows=True)

    lines = [r.getMessage() for r in caplog.records if r.name == import_jobs.__name__]
    assert lines == [
        f"user {paid_user.id} previewed a CSV import of 2 rows (1 with problems, 0 "
        "duplicates)",
        f"user {paid_user.id} imported contacts from a CSV file: 1 created, 0 merged, "
        "0 skipped, 1 left out",
    ]
    assert "Secret" not in caplog.text
    assert "secret" not in caplog.text
