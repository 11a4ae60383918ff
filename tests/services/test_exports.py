"""Exports of leads and contacts: CSV that spreadsheets cannot run, vCard, links."""

import csv
import io
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
import vobject
from sqlmodel import Session

from chub_ui.models import KIND_CONTACT, KIND_LEAD, PLAN_FREE, Account, Record
from chub_ui.services import exports, records
from chub_ui.services.errors import InvalidInput, NotSignedIn, PlanRequired
from tests.services.rows import add_record

START = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _csv(session, user, kind=KIND_CONTACT, search="") -> str:
    return "".join(
        exports.csv_export(session=session, user=user, kind=kind, search=search)
    )


def _csv_rows(session, user, kind=KIND_CONTACT, search="") -> list[dict]:
    text = _csv(session, user, kind, search).removeprefix(exports.CSV_BOM)
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _vcf(session, user, kind=KIND_CONTACT, search="") -> str:
    return "".join(
        exports.vcard_export(session=session, user=user, kind=kind, search=search)
    )


def _cards(text: str) -> list:
    return list(vobject.readComponents(text))


def _add_many(session: Session, user, count: int, *, kind=KIND_CONTACT) -> None:
    """Insert many records at once, one second apart, the last one newest."""
    session.execute(
        sa.insert(Record),
        [
            {
                "account_id": user.account_id,
                "created_by_id": user.id,
                "kind": kind,
                "name": f"Person {number:05d}",
                "email": f"person{number}@example.com",
                "extra_json": "{}",
                "created_at": START + timedelta(seconds=number),
            }
            for number in range(count)
        ],
    )
    session.commit()


@pytest.fixture
def stranger(make_user):
    """A paid user of another account."""
    return make_user("stranger@example.com", name="Sam Stranger")


# Formula neutralisation


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("http://evil.example","click")',
        "+1+1",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+9)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\rfoo",
        "\tplain text after a tab",
        "   =1+1",
        "\n=1+1",
        "\u00a0\u3000@SUM(A1)",
        " \t x",
        "+49 30 5550 1201",
        "-5",
    ],
)
def test_values_a_spreadsheet_would_run_get_an_apostrophe(value):
    assert exports.neutralise_formula(value) == "'" + value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Ada Lovelace",
        "ada@example.com",
        "first.last+tag@example.com",
        "0049 30 5550 1201",
        "(030) 5550-1201",
        "Müller & Söhne GmbH",
        "a=b",
        "x-ray",
        "user@host",
        "'already quoted",
        "  leading spaces only",
        "Line one\nline two",
    ],
)
def test_safe_values_are_unchanged(value):
    assert exports.neutralise_formula(value) == value


def test_every_dangerous_cell_is_neutralised_in_the_file(session, paid_user):
    add_record(
        session,
        paid_user,
        name="=1+2",
        company="@SUM(A1:A2)",
        job_title="-3",
        email="sam@example.com",
        phone="+49 30 5550 1201",
        city="\t=cmd",
        description="\r=cmd",
    )

    (row,) = _csv_rows(session, paid_user)

    assert row["Name"] == "'=1+2"
    assert row["Company"] == "'@SUM(A1:A2)"
    assert row["Job title"] == "'-3"
    assert row["E-mail"] == "sam@example.com"
    assert row["Phone"] == "'+49 30 5550 1201"
    assert row["City"] == "'\t=cmd"
    assert row["Description"] == "'\r=cmd"


# CSV shape and round trip


def test_csv_starts_with_a_bom_and_readable_headers(session, paid_user):
    text = _csv(session, paid_user)

    assert text.startswith("\ufeff")
    header = next(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert header == [
        "Name",
        "Company",
        "Job title",
        "E-mail",
        "Other e-mails",
        "Phone",
        "Other phones",
        "Website",
        "Street",
        "City",
        "State or region",
        "Postal code",
        "Country",
        "Description",
        "Source",
        "Created",
    ]
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")


def test_csv_reads_back_the_same_values(session, paid_user):
    fields = {
        "name": 'Ada "Countess" Lovelace',
        "company": "Babbage, Lovelace & Co",
        "job_title": "Analyst; engines",
        "email": "ada@example.com",
        "other_emails": "ada@work.example, countess@example.org",
        "phone": "0044 20 7946 0958",
        "other_phones": "(020) 7946 0000",
        "website": "https://example.com/ada?x=1,2",
        "street": "12 St James's Square\nFlat 3",
        "city": "London",
        "region": "Greater London",
        "postal_code": "SW1Y 4JH",
        "country": "United Kingdom",
        "description": 'Notes with "quotes", commas,\r\nand CRLF\nand LF',
        "source": "Trade fair 2026",
    }
    add_record(session, paid_user, created_at=START, **fields)

    (row,) = _csv_rows(session, paid_user)

    for name, label in records.FIELD_LABELS:
        assert row[label] == fields[name], label
    assert row["Created"] == "2026-03-01 09:30:00"


def test_csv_keeps_accents_and_other_scripts(session, paid_user):
    add_record(session, paid_user, name="Zoë Ångström", company="株式会社 例")

    (row,) = _csv_rows(session, paid_user)

    assert row["Name"] == "Zoë Ångström"
    assert row["Company"] == "株式会社 例"


def test_csv_rows_end_with_crlf(session, paid_user):
    add_record(session, paid_user, name="Ada")

    text = _csv(session, paid_user)

    assert text.endswith("\r\n")
    assert text.count("\r\n") == 2


# What is exported


def test_newest_first_like_the_list(session, paid_user):
    for number, name in enumerate(["Oldest", "Middle", "Newest"]):
        add_record(
            session, paid_user, name=name, created_at=START + timedelta(days=number)
        )

    names = [row["Name"] for row in _csv_rows(session, paid_user)]
    listed = records.list_records(session=session, user=paid_user, kind=KIND_CONTACT)

    assert names == ["Newest", "Middle", "Oldest"]
    assert names == [item["name"] for item in listed.items]


def test_search_filter_is_applied_as_in_the_list(session, paid_user):
    add_record(session, paid_user, name="Anna Schmidt")
    add_record(session, paid_user, name="Bob", company="Hannover Rück")
    add_record(session, paid_user, name="Carla", email="JOANNA@example.com")
    add_record(session, paid_user, name="Dora", description="ann in notes only")
    add_record(session, paid_user, name="100% sure")

    found = {row["Name"] for row in _csv_rows(session, paid_user, search="  ANN ")}
    listed = records.list_records(
        session=session, user=paid_user, kind=KIND_CONTACT, search="  ANN "
    )
    literal = [row["Name"] for row in _csv_rows(session, paid_user, search="0%")]
    nothing = _csv_rows(session, paid_user, search="_0")

    assert found == {"Anna Schmidt", "Bob", "Carla"}
    assert found == {item["name"] for item in listed.items}
    assert literal == ["100% sure"]
    assert nothing == []


def test_only_the_kind_asked_for(session, paid_user):
    add_record(session, paid_user, name="A lead", kind=KIND_LEAD)
    add_record(session, paid_user, name="A contact", kind=KIND_CONTACT)

    leads = [row["Name"] for row in _csv_rows(session, paid_user, KIND_LEAD)]
    contacts = [row["Name"] for row in _csv_rows(session, paid_user, KIND_CONTACT)]

    assert leads == ["A lead"]
    assert contacts == ["A contact"]


def test_other_accounts_records_are_never_exported(session, paid_user, stranger):
    add_record(session, paid_user, name="Mine", email="mine@example.com")
    add_record(session, stranger, name="Theirs", email="theirs@example.com")

    for search in ("", "example", "Theirs"):
        csv_text = _csv(session, paid_user, search=search)
        vcf_text = _vcf(session, paid_user, search=search)
        assert "Theirs" not in csv_text
        assert "theirs@" not in vcf_text
    assert [row["Name"] for row in _csv_rows(session, stranger)] == ["Theirs"]


def test_an_empty_list_is_a_header_only_csv_and_an_empty_vcard(session, paid_user):
    assert len(_csv(session, paid_user).splitlines()) == 1
    assert _vcf(session, paid_user) == ""


# Refusals


@pytest.mark.parametrize(
    "export", [exports.csv_export, exports.vcard_export, exports.export_rows]
)
def test_free_account_is_refused_before_any_output(session, free_user, export):
    with pytest.raises(PlanRequired) as refused:
        export(session=session, user=free_user, kind=KIND_CONTACT)

    assert refused.value.message == exports.EXPORT_PLAN_MESSAGE


def test_without_a_user_or_with_a_bad_kind(session, paid_user):
    with pytest.raises(NotSignedIn):
        exports.csv_export(session=session, user=None, kind=KIND_CONTACT)
    with pytest.raises(InvalidInput):
        exports.csv_export(session=session, user=paid_user, kind="deal")


# Batches


def test_thousands_of_rows_stream_in_batches(session, paid_user, engine):
    _add_many(session, paid_user, 2500)
    selects: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        rows = exports.export_rows(session=session, user=paid_user, kind=KIND_CONTACT)
        first = next(rows)
        after_first = len(selects)
        rest = list(rows)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)

    assert after_first == 1
    assert len(selects) == 3
    assert first.name == "Person 02499"
    names = [first.name] + [record.name for record in rest]
    assert names == [f"Person {number:05d}" for number in range(2499, -1, -1)]


def test_batches_keep_order_when_records_share_a_time(session, paid_user, monkeypatch):
    monkeypatch.setattr(exports, "EXPORT_BATCH_SIZE", 3)
    made = [
        add_record(session, paid_user, name=f"Same {number}", created_at=START)
        for number in range(7)
    ]
    add_record(session, paid_user, name="Later", created_at=START + timedelta(1))

    names = [
        record.name
        for record in exports.export_rows(
            session=session, user=paid_user, kind=KIND_CONTACT
        )
    ]

    assert names == ["Later"] + [record.name for record in reversed(made)]


def test_csv_and_vcard_of_thousands_of_records(session, paid_user):
    _add_many(session, paid_user, 3000)

    chunks = list(
        exports.csv_export(session=session, user=paid_user, kind=KIND_CONTACT)
    )
    rows = list(csv.DictReader(io.StringIO("".join(chunks).removeprefix("\ufeff"))))
    cards = _cards(_vcf(session, paid_user))

    assert len(chunks) > 2
    assert len(rows) == 3000
    assert rows[0]["Name"] == "Person 02999"
    assert rows[-1]["E-mail"] == "person0@example.com"
    assert len(cards) == 3000
    assert cards[-1].fn.value == "Person 00000"


# vCard


@pytest.fixture
def full_record(session, paid_user) -> Record:
    return add_record(
        session,
        paid_user,
        name="Ada Lovelace",
        company="Babbage, Lovelace; Co",
        job_title="Analyst\\Engineer",
        email="ada@example.com",
        other_emails="ada@work.example, countess@example.org; a.l@example.net",
        phone="+44 20 7946 0958",
        other_phones="+44 20 7946 0000, 0800 123 456",
        website="https://example.com/ada?x=1,2;3",
        street="12 St James's Square\nFlat 3",
        city="London",
        region="Greater London",
        postal_code="SW1Y 4JH",
        country="United Kingdom",
        description="Met at the fair; likes engines,\r\nand poetry.\\n is not a break",
    )


def test_vcard_reads_back_with_vobject(session, paid_user, full_record):
    (card,) = _cards(_vcf(session, paid_user))

    assert card.version.value == "3.0"
    assert card.fn.value == "Ada Lovelace"
    assert card.n.value.given == "Ada"
    assert card.n.value.family == "Lovelace"
    assert card.org.value == ["Babbage, Lovelace; Co"]
    assert card.title.value == "Analyst\\Engineer"
    assert [line.value for line in card.email_list] == [
        "ada@example.com",
        "ada@work.example",
        "countess@example.org",
        "a.l@example.net",
    ]
    assert [line.value for line in card.tel_list] == [
        "+44 20 7946 0958",
        "+44 20 7946 0000",
        "0800 123 456",
    ]
    assert card.url.value == "https://example.com/ada?x=1,2;3"
    address = card.adr.value
    assert address.street == "12 St James's Square\nFlat 3"
    assert (address.city, address.region, address.code, address.country) == (
        "London",
        "Greater London",
        "SW1Y 4JH",
        "United Kingdom",
    )
    assert card.note.value == (
        "Met at the fair; likes engines,\nand poetry.\\n is not a break"
    )


def test_vcard_escapes_special_characters(session, paid_user, full_record):
    text = _vcf(session, paid_user)

    assert "ORG:Babbage\\, Lovelace\\; Co\r\n" in text
    assert "TITLE:Analyst\\\\Engineer\r\n" in text
    assert "NOTE:Met at the fair\\; likes engines\\,\\nand poetry.\\\\n is" in text
    assert "ADR:;;12 St James's Square\\nFlat 3;London;" in text


def test_vcard_first_email_and_phone_are_preferred(session, paid_user, full_record):
    (card,) = _cards(_vcf(session, paid_user))

    assert card.email_list[0].params["TYPE"] == ["INTERNET", "PREF"]
    assert card.email_list[1].params["TYPE"] == ["INTERNET"]
    assert card.tel_list[0].params["TYPE"] == ["PREF"]
    assert "TYPE" not in card.tel_list[1].params


def test_a_line_break_in_a_value_cannot_start_a_new_property(session, paid_user):
    add_record(
        session,
        paid_user,
        name="Eve\r\nEND:VCARD\r\nBEGIN:VCARD\r\nFN:Injected",
        job_title="x\u2028TEL:123\x85y\x1bz",
    )

    text = _vcf(session, paid_user)
    (card,) = _cards(text)

    assert text.split("\r\n").count("BEGIN:VCARD") == 1
    assert card.fn.value == "Eve\nEND:VCARD\nBEGIN:VCARD\nFN:Injected"
    assert card.title.value == "x\nTEL:123\nyz"
    assert not hasattr(card, "tel")


def test_vcard_lines_end_with_crlf_and_fold_at_75_octets(session, paid_user):
    long_note = "Zoë writes 漢字 and emoji 🙂 " * 40 + "end"
    add_record(
        session,
        paid_user,
        name="Ünïcode Ñame " * 10,
        company="x" * 200,
        description=long_note,
    )

    text = _vcf(session, paid_user)
    lines = text.split("\r\n")
    (card,) = _cards(text)

    assert text.endswith("END:VCARD\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert "\r" not in text.replace("\r\n", "")
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    assert any(len(line.encode("utf-8")) >= 73 for line in lines)
    assert sum(line.startswith(" ") for line in lines) > 10
    assert card.note.value == long_note
    assert card.fn.value == ("Ünïcode Ñame " * 10).strip()
    assert card.org.value == ["x" * 200]


def test_fold_line_never_splits_a_character():
    line = "NOTE:" + "é" * 100 + "🙂" * 30

    folded = exports.fold_line(line)
    pieces = folded.removesuffix("\r\n").split("\r\n")

    assert all(len(piece.encode("utf-8")) <= 75 for piece in pieces)
    assert "".join([pieces[0]] + [piece[1:] for piece in pieces[1:]]) == line
    assert exports.fold_line("FN:Short") == "FN:Short\r\n"


@pytest.mark.parametrize(
    ("name", "family", "given"),
    [
        ("Ada Lovelace", "Lovelace", "Ada"),
        ("Anna Maria Schmidt", "Schmidt", "Anna Maria"),
        ("Lovelace, Ada", "Lovelace", "Ada"),
        ("Madonna", "Madonna", ""),
    ],
)
def test_structured_name_is_guessed(session, paid_user, name, family, given):
    add_record(session, paid_user, name=name)

    (card,) = _cards(_vcf(session, paid_user))

    assert card.n.value.family == family
    assert card.n.value.given == given
    assert card.fn.value == name


def test_a_card_without_a_name_still_has_a_formatted_name(session, paid_user):
    add_record(session, paid_user, name="", company="Acme GmbH")
    add_record(session, paid_user, name="", email="only@example.com")

    cards = _cards(_vcf(session, paid_user))

    assert [card.fn.value for card in cards] == ["only@example.com", "Acme GmbH"]
    assert not hasattr(cards[0], "adr")
    assert not hasattr(cards[0], "note")


# Signed links


def _query(link: str) -> dict:
    return {key: values[0] for key, values in parse_qs(urlsplit(link).query).items()}


def test_link_names_the_route_and_carries_the_cleaned_search(session, paid_user):
    link = exports.export_link(
        session=session,
        user=paid_user,
        kind=KIND_LEAD,
        fmt=exports.FORMAT_VCARD,
        search="  Müller & Co ",
    )
    values = _query(link)

    assert urlsplit(link).path == "/api/export/lead.vcf"
    assert values["q"] == "Müller & Co"
    assert values["u"] == str(paid_user.id)
    user = exports.user_for_export_link(
        session=session,
        kind=KIND_LEAD,
        fmt=exports.FORMAT_VCARD,
        search=values["q"],
        user_id=values["u"],
        expires=values["e"],
        signature=values["s"],
    )
    assert user.id == paid_user.id


def test_no_link_for_a_free_account(session, free_user, paid_user):
    with pytest.raises(PlanRequired):
        exports.export_link(
            session=session, user=free_user, kind=KIND_CONTACT, fmt="csv"
        )
    with pytest.raises(InvalidInput):
        exports.export_link(
            session=session, user=paid_user, kind=KIND_CONTACT, fmt="xlsx"
        )


def test_no_link_once_the_account_was_downgraded(session, paid_user):
    account = session.get(Account, paid_user.account_id)
    account.plan = PLAN_FREE
    session.add(account)
    session.commit()

    with pytest.raises(PlanRequired):
        exports.export_link(
            session=session, user=paid_user, kind=KIND_CONTACT, fmt="csv"
        )


@pytest.mark.parametrize(
    "change",
    [
        {"kind": KIND_LEAD},
        {"fmt": exports.FORMAT_VCARD},
        {"search": "something else"},
        {"user_id": "999"},
        {"signature": "0" * 64},
        {"signature": "é" * 64},
        {"signature": ""},
        {"expires": "soon"},
        {"user_id": "9" * 5000},
    ],
)
def test_a_changed_link_is_refused(session, paid_user, change):
    link = exports.export_link(
        session=session, user=paid_user, kind=KIND_CONTACT, fmt="csv", search="ann"
    )
    values = _query(link)
    parts = {
        "kind": KIND_CONTACT,
        "fmt": exports.FORMAT_CSV,
        "search": values["q"],
        "user_id": values["u"],
        "expires": values["e"],
        "signature": values["s"],
    }

    with pytest.raises(NotSignedIn):
        exports.user_for_export_link(session=session, **{**parts, **change})


def test_an_expired_link_is_refused(session, paid_user, monkeypatch):
    link = exports.export_link(
        session=session, user=paid_user, kind=KIND_CONTACT, fmt="csv"
    )
    values = _query(link)
    later = exports.time.time() + exports.EXPORT_LINK_SECONDS + 1
    monkeypatch.setattr(exports.time, "time", lambda: later)

    with pytest.raises(NotSignedIn):
        exports.user_for_export_link(
            session=session,
            kind=KIND_CONTACT,
            fmt="csv",
            search=values.get("q", ""),
            user_id=values["u"],
            expires=values["e"],
            signature=values["s"],
        )


def test_file_name_is_dated():
    day = datetime(2026, 12, 4, tzinfo=UTC).date()

    assert exports.export_file_name(KIND_CONTACT, "csv", day) == (
        "contacts-2026-12-04.csv"
    )
    assert exports.export_file_name(KIND_LEAD, "vcf", day) == "leads-2026-12-04.vcf"
