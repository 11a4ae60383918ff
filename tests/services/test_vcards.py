"""Tests for the vCard import of leads and contacts, on real exports and edge cases."""

import json
import logging
import quopri
import re

import pytest
from sqlmodel import Session, func, select

from chub_ui.models import KIND_CONTACT, KIND_LEAD, Record
from chub_ui.services import importing
from chub_ui.services.errors import InvalidInput, PlanRequired
from chub_ui.services.vcards import import_vcards, parse_vcards
from tests.conftest import REALDATA

logger = logging.getLogger(__name__)

VCF_DIR = REALDATA / "vcf"
# Cards per real export, counted from its BEGIN:VCARD lines.
REAL_FILE_COUNTS = {
    "ezvcard_John_Doe_ANDROID.vcf": 6,
    "ezvcard_John_Doe_BLACK_BERRY.vcf": 1,
    "ezvcard_John_Doe_EVOLUTION.vcf": 1,
    "ezvcard_John_Doe_GMAIL.vcf": 1,
    "ezvcard_John_Doe_IPHONE.vcf": 1,
    "ezvcard_John_Doe_LOTUS_NOTES.vcf": 1,
    "ezvcard_John_Doe_MAC_ADDRESS_BOOK.vcf": 1,
    "ezvcard_John_Doe_MS_OUTLOOK.vcf": 1,
    "ezvcard_gmail-single.vcf": 1,
    "ezvcard_outlook-2003.vcf": 1,
    "ezvcard_rfc2426-example.vcf": 2,
    "vobject_vcard40_full.vcf": 1,
    "vobject_vcard40_group.vcf": 1,
    "vobject_vcard40_location.vcf": 1,
    "vobject_vcard40_multilang.vcf": 1,
    "vobject_vcard40_org.vcf": 1,
    "vobject_vcard40_simple.vcf": 1,
}
RECORD_TEXT_FIELDS = (
    "name",
    "company",
    "job_title",
    "email",
    "other_emails",
    "phone",
    "other_phones",
    "website",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "description",
)


def _import(session, user, data: bytes, *, kind=KIND_CONTACT, filename="people.vcf"):
    return import_vcards(
        session=session, user=user, data=data, kind=kind, filename=filename
    )


def _import_real(session, user, filename: str):
    return _import(session, user, (VCF_DIR / filename).read_bytes(), filename=filename)


def _records(session: Session) -> list[Record]:
    return list(session.exec(select(Record).order_by(Record.id)).all())


def _record_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Record)).one()


def _extra(record: Record) -> dict:
    return json.loads(record.extra_json)


def _refusal(session, user, data: bytes, **kwargs) -> str:
    """Import data that must be refused; check nothing was written."""
    before = _record_count(session)
    with pytest.raises(InvalidInput) as caught:
        _import(session, user, data, **kwargs)
    assert _record_count(session) == before
    return caught.value.message


def _vcf(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


# Real exports


def test_every_real_file_has_an_expected_count():
    assert sorted(path.name for path in VCF_DIR.glob("*.vcf")) == sorted(
        REAL_FILE_COUNTS
    )


@pytest.mark.parametrize("filename", sorted(REAL_FILE_COUNTS))
def test_real_file_imports_every_card(session, paid_user, filename):
    result = _import_real(session, paid_user, filename)

    expected = REAL_FILE_COUNTS[filename]
    assert result.created == expected
    records = _records(session)
    assert [record.id for record in records] == result.record_ids
    for record in records:
        assert record.name
        assert record.kind == KIND_CONTACT
        assert record.account_id == paid_user.account_id
        assert record.source == f"vCard import: {filename}"
        assert isinstance(_extra(record), dict)


def test_android_cards_without_names_and_quoted_printable_lines(session, paid_user):
    result = _import_real(session, paid_user, "ezvcard_John_Doe_ANDROID.vcf")

    john, jane, three, four, five, six = _records(session)
    # Cards 1 and 2 hold only an e-mail address, which becomes the name.
    assert john.name == john.email == "john.doe@company.com"
    assert jane.name == jane.email == "jane.doe@company.com"
    assert _extra(john) == {"categories": "My Contacts"}
    assert (
        "Cards 1 and 2 have no name; the e-mail address is used as the name."
        in result.notes
    )
    assert three.name == "Ñ Ñ Ñ Ñ Ñ"
    assert three.phone == "123456789"
    # Card 4's name goes on over a quoted-printable soft line break.
    assert four.name == " ".join(["Ñ"] * 11)
    assert four.phone == "123456"
    assert four.other_phones == "234567, 3456789, 45678901"
    # Both notes, three physical lines each, are kept whole.
    first_note, second_note = four.description.split("\n\n")
    assert first_note == second_note
    assert first_note.count("Ñ") == 21
    assert five.name == "Ñ Ñ Ñ Ñ"
    assert five.email == "bob@company.com"
    assert five.company == "Ñ" * 12
    assert five.website == "www.company.com"
    assert _extra(five)["website"] == "http://www.company.com"
    assert _extra(five)["e-mail text"] == "Ñ" * 14
    assert (
        "Card 5: 'ÑÑÑÑÑÑÑÑÑÑÑÑÑÑ' is not an e-mail address; it was kept as "
        "'e-mail text'." in result.notes
    )
    assert six.name == "ÑÑÑÑ"
    assert six.company == "Ñ" * 44
    assert _extra(six)["company"] == "Ñ" * 44 + "\ufffd"
    assert "Card 6: some characters of ORG could not be read and show as �." in (
        result.notes
    )
    assert "Skipped 1 photo: pictures are not imported." in result.notes


def test_iphone_card_skips_its_large_photo(session, paid_user):
    result = _import_real(session, paid_user, "ezvcard_John_Doe_IPHONE.vcf")

    (john,) = _records(session)
    assert "Skipped 1 photo: pictures are not imported." in result.notes
    assert john.name == "Mr. John Richter James Doe Sr."
    assert john.company == "IBM"
    assert john.job_title == "Money Counter"
    assert john.email == "john.doe@ibm.com"
    assert john.phone == "905-555-1234"
    assert john.other_phones.split(", ") == [
        "905-666-1234",
        "905-777-1234",
        "905-888-1234",
        "905-999-1234",
        "905-111-1234",
        "905-222-1234",
    ]
    assert john.website == "http://www.ibm.com"
    assert (john.street, john.city, john.region, john.postal_code) == (
        "Silicon Alley 5",
        "New York",
        "New York",
        "12345",
    )
    assert john.country == "United States of America"
    extra = _extra(john)
    assert extra["AssistantPhone"] == "905-222-1234"
    assert extra["HomePage"] == "http://www.ibm.com"
    assert (
        extra["address (work)"] == "Street4\nBuilding 6\nFloor 8, New York, 12345, USA"
    )
    assert extra["department"] == "Accounting"
    assert extra["nickname"] == "Johny"
    assert extra["birthday"] == "2012-06-06"
    assert len(john.extra_json) < 2000


def test_mac_address_book_card_skips_its_photo(session, paid_user):
    result = _import_real(session, paid_user, "ezvcard_John_Doe_MAC_ADDRESS_BOOK.vcf")

    (john,) = _records(session)
    assert "Skipped 1 photo: pictures are not imported." in result.notes
    assert john.name == "Mr. John Richter,James Doe Sr."
    # The preferred number comes first, wherever it is in the card.
    assert john.phone == "905-777-1234"
    assert john.street == "Silicon Alley 5,"
    extra = _extra(john)
    assert extra["Spouse"] == "Jenny"
    assert extra["AssistantPhone"] == "905-222-1234"
    assert extra["X-PHONETIC-FIRST-NAME"] == "Jon"
    assert extra["X-ABUID"] == "6B29A774-D124-4822-B8D0-2780EC117F60:ABPerson"
    assert john.description.endswith("SUCH DAMAGE.\nFavotire Color: Blue")
    assert len(john.extra_json) < 2000


def test_outlook_2_1_quoted_printable_labels_are_whole(session, paid_user):
    _import_real(session, paid_user, "ezvcard_John_Doe_MS_OUTLOOK.vcf")

    (john,) = _records(session)
    extra = _extra(john)
    # The second line of each label is a quoted-printable continuation line.
    assert extra["address label (work)"] == (
        "Cresent moon drive\nAlbaney, New York  12345"
    )
    assert extra["address label (home)"] == (
        "Silicon Alley 5,\nNew York, New York  12345"
    )
    assert john.street == "Cresent moon drive"
    assert john.country == "United States of America"
    assert extra["address (home)"] == (
        "Silicon Alley 5, New York, New York, 12345, United States of America"
    )
    assert john.phone == "(905) 555-1234"
    assert john.other_phones == "(905) 666-1234"
    assert john.email == "john.doe@ibm.cm"
    assert extra["role"] == "Counting Money"
    assert extra["X-MS-IMADDRESS"] == "johny5@aol.com"
    assert extra["middle name"] == "Richter, James"
    # vobject alone would keep only the text before the note's first comma.
    assert john.description.startswith(
        "THIS SOFTWARE IS PROVIDED BY GEORGE EL-HADDAD ''AS IS'' AND ANY EXPRESS OR "
        "IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO,"
    )
    assert john.description.endswith("POSSIBILITY OF SUCH DAMAGE.")


def test_outlook_2003_note_and_label_continuation_lines(session, paid_user):
    result = _import_real(session, paid_user, "ezvcard_outlook-2003.vcf")

    (john,) = _records(session)
    assert john.name == "John Doe III"
    assert john.company == "Company, The"
    assert john.description == (
        "This is the note field!!\nSecond line\n\nThird line is empty"
    )
    extra = _extra(john)
    assert extra["address label (work)"] == (
        "TheOffice\n123 Main St\nAustin, TX 12345\nUnited States of America"
    )
    assert extra["department"] == "TheDepartment"
    assert john.street == "123 Main St, TheOffice"
    assert john.phone == "BusinessPhone"
    assert john.email == "jdoe@hotmail.com"
    assert "Skipped 1 key: binary data is not imported." in result.notes
    assert "MIIDITCC" not in john.extra_json


def test_gmail_card_keeps_its_labels_and_commas(session, paid_user):
    _import_real(session, paid_user, "ezvcard_John_Doe_GMAIL.vcf")

    (john,) = _records(session)
    # An unescaped comma in FN: vobject alone would stop at "Richter".
    assert john.name == "Mr. John Richter, James Doe Sr."
    assert john.street == (
        "Crescent moon drive\n555-asd\nNice Area, Albaney, New York 12345\n"
        "United States of America"
    )
    extra = _extra(john)
    assert extra["Anniversary"] == "1975-03-01"
    assert extra["Spouse"] == "Jenny"
    assert john.website == "http://www.ibm.com"
    assert john.description.endswith("DAMAGE.\nFavotire Color: Blue")


def test_gmail_single_card_resolves_grouped_labels(session, paid_user):
    _import_real(session, paid_user, "ezvcard_gmail-single.vcf")

    (greg,) = _records(session)
    assert greg.name == "Greg Dartmouth"
    assert greg.phone == "555 555 1111"
    assert greg.other_phones == "555 555 2222"
    assert greg.street == "123 Home St\nHome City, HM 12345"
    extra = _extra(greg)
    assert extra["GRAND_CENTRAL"] == "555 555 2222"
    assert extra["CustomAdrType"] == "321 Custom St, Custom City, TX, 98765, USA"
    assert extra["PROFILE"] == "http://TheProfile.com"
    assert extra["CustomRelationship"] == "MyCustom"
    assert "address" not in extra
    assert greg.description == (
        "This is GMail's note field.\nIt should be added as a NOTE type.\n"
        "ACustomField: CustomField"
    )


def test_lotus_notes_card_values_are_present(session, paid_user):
    result = _import_real(session, paid_user, "ezvcard_John_Doe_LOTUS_NOTES.vcf")

    (john,) = _records(session)
    assert "Skipped 1 photo: pictures are not imported." in result.notes
    assert john.name == "Mr. Doe John I Johny"
    assert john.company == "IBM"
    assert john.email == "john.doe@ibm.com"
    assert john.other_emails == "billy_bob@gmail.com"
    assert john.phone == "+1 (212) 204-34456"
    assert john.other_phones == "00-1-212-555-7777"
    assert john.postal_code == "NYC887"
    assert john.website == "http://www.sun.com"
    extra = _extra(john)
    assert extra["nickname"] == "Johny,JayJay"
    assert extra["department"] == "SUN"
    assert extra["role"] == "Counting Money"
    assert extra["location"] == "-2.600000;3.400000"
    assert extra["NAME"] == "VCard for John Doe"
    assert extra["MAILER"] == "Mozilla Thunderbird"
    assert extra["X-LONG-STRING"].startswith("1234567890")
    assert "PROFILE" not in extra
    assert john.description.endswith("POSSIBILITY OF SUCH DAMAGE.")


def test_evolution_card_is_whole(session, paid_user):
    _import_real(session, paid_user, "ezvcard_John_Doe_EVOLUTION.vcf")

    (john,) = _records(session)
    assert john.name == "Mr. John Richter, James Doe Sr."
    assert john.email == "john.doe@ibm.com"
    assert john.phone == "905-666-1234"
    assert john.other_phones == "905-555-1234"
    assert john.street == "15 Crescent moon drive, ASB-123"
    assert john.country == "United States of America"
    extra = _extra(john)
    assert extra["X-AIM (home)"] == "johnny5@aol.com"
    assert extra["department"] == "Accounting, Dungeon"
    assert extra["X-EVOLUTION-FILE-AS"] == "Doe, John"
    assert extra["categories"] == "VIP"
    assert "INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL" in john.description


def test_blackberry_card(session, paid_user):
    result = _import_real(session, paid_user, "ezvcard_John_Doe_BLACK_BERRY.vcf")

    (john,) = _records(session)
    assert (john.name, john.company, john.phone) == (
        "John Doe",
        "Acme Solutions",
        "+96123456789",
    )
    assert john.description == ""
    assert "Skipped 1 photo: pictures are not imported." in result.notes


def test_rfc2426_example_has_two_cards(session, paid_user):
    result = _import_real(session, paid_user, "ezvcard_rfc2426-example.vcf")

    assert result.created == 2
    frank, tim = _records(session)
    assert frank.name == "Frank Dawson"
    assert frank.email == "frank_dawson@lotus.com"
    assert frank.other_emails == "fdawson@earthlink.net"
    assert frank.street == "6544 Battleford Drive"
    assert frank.postal_code == "27613-3502"
    assert tim.name == "Tim Howes"
    assert tim.company == "Netscape Communications Corp."
    assert (tim.city, tim.region, tim.postal_code) == (
        "Mountain View",
        "CA",
        "94043",
    )


def test_vcard40_full_card_prefers_pref_values(session, paid_user):
    _import_real(session, paid_user, "vobject_vcard40_full.vcf")

    (john,) = _records(session)
    assert john.name == "Dr. John Q. Public, III"
    assert john.email == "johnny@personal.example.org"
    assert john.other_emails == "john.public@example.com"
    assert john.phone == "+1-555-555-5555"
    assert john.other_phones == "+1-555-123-4567"
    assert (john.street, john.city) == ("456 Oak Lane", "Somewhere")
    extra = _extra(john)
    assert extra["address (work)"] == (
        "123 Main Street, Any Town, CA, 91921-1234, U.S.A."
    )
    assert extra["name (jp)"] == "John Q. Public"
    assert extra["nickname"] == "Johnny,JQP"
    assert extra["location"] == "geo:37.386013,-122.082932"
    assert extra["photo link"] == "http://www.example.com/pub/photos/jqpublic.gif"
    assert extra["language 2"] == "fr"
    assert extra["categories"] == "BUSINESS, NETWORKING"


def test_vcard40_group_org_location_and_languages(session, paid_user):
    for filename in (
        "vobject_vcard40_group.vcf",
        "vobject_vcard40_org.vcf",
        "vobject_vcard40_location.vcf",
        "vobject_vcard40_multilang.vcf",
        "vobject_vcard40_simple.vcf",
    ):
        _import_real(session, paid_user, filename)

    group, org, location, multilang, simple = _records(session)
    assert group.name == "The Doe Family"
    assert _extra(group) == {
        "kind": "group",
        "member": "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
        "member 2": "urn:uuid:b8767877-b4a1-4c70-9acc-505d3819e519",
        "member 3": "mailto:kid@example.com",
    }
    assert org.company == "ABC, Inc."
    assert _extra(org)["department"] == "North American Division, Marketing"
    assert org.email == "marketing@abc.example.com"
    assert org.phone == "+1-555-000-0000"
    assert location.name == "Empire State Building"
    assert _extra(location)["location"] == "geo:40.748817,-73.985428"
    assert location.postal_code == "10118"
    assert multilang.name == "Yamada Taro"
    assert _extra(multilang)["name (ja)"] == "山田太郎"
    assert _extra(multilang)["last name (ja)"] == "山田"
    assert simple.name == "John Doe"
    assert _extra(simple) == {"first name": "John", "last name": "Doe"}


# No value lost: every real file is read a second time, without vobject, and
# each piece of each value must turn up in the record made from its card.

# Binary data and values that describe the file rather than the person.
_BINARY = {"PHOTO", "LOGO", "SOUND", "KEY"}
_NOT_KEPT = {"BEGIN", "END", "VERSION", "PRODID", "REV", "UID", "PROFILE"}
_PROPERTY = re.compile(r'^((?:[^:"]|"[^"]*")*):(.*)$', re.DOTALL)
_CHARSET = re.compile(r"CHARSET=([^;:]+)", re.IGNORECASE)
_PIECE_SEPARATOR = re.compile(r"(?<!\\)[;,]")
_ESCAPE = re.compile(r"\\(.)")
_APPLE_LABEL = re.compile(r"^_\$!<(.*)>!\$_$")


def _unfolded(text: str) -> list[str]:
    """Logical lines: folds and quoted-printable soft line breaks joined."""
    lines: list[str] = []
    for raw in re.split(r"\r*\n|\r", text):
        previous = lines[-1] if lines else ""
        head = previous.split(":", 1)[0].upper()
        if (
            "QUOTED-PRINTABLE" in head
            and previous.endswith("=")
            and raw.strip().upper() != "END:VCARD"
        ):
            lines[-1] = previous[:-1] + raw
        elif raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif raw.strip():
            lines.append(raw)
    return lines


def _expected_pieces(data: bytes) -> list[list[tuple[str, str]]]:
    """Per card, (property, piece of value) for every value the card holds."""
    cards: list[list[tuple[str, str]]] = []
    for line in _unfolded(data.decode("utf-8-sig")):
        if line.strip().upper() == "BEGIN:VCARD":
            cards.append([])
            continue
        match = _PROPERTY.match(line)
        assert match, line
        head, value = match.groups()
        name = head.split(";")[0].split(".")[-1].upper()
        if name in _BINARY or name in _NOT_KEPT:
            continue
        if "QUOTED-PRINTABLE" in head.upper():
            charset = _CHARSET.search(head)
            value = quopri.decodestring(value.encode("utf-8")).decode(
                charset.group(1) if charset else "utf-8", errors="replace"
            )
        for piece in _PIECE_SEPARATOR.split(value):
            text = _ESCAPE.sub(r"\1", piece.replace("\\n", " ").replace("\\N", " "))
            if name == "TEL":
                text = re.sub(r"^tel:", "", text.strip(), flags=re.IGNORECASE)
            if name == "X-ABLABEL":
                text = _APPLE_LABEL.sub(r"\1", text.strip())
            if _normal(text):
                cards[-1].append((name, _normal(text)))
    return cards


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def _haystack(record: Record) -> str:
    extra = _extra(record)
    texts = [getattr(record, name) for name in RECORD_TEXT_FIELDS]
    texts.extend(f"{key}: {value}" for key, value in extra.items())
    return _normal(" | ".join(texts))


@pytest.mark.parametrize("filename", sorted(REAL_FILE_COUNTS))
def test_real_file_loses_no_value(session, paid_user, filename):
    data = (VCF_DIR / filename).read_bytes()
    _import(session, paid_user, data, filename=filename)

    cards = _expected_pieces(data)
    records = _records(session)
    assert len(cards) == len(records) == REAL_FILE_COUNTS[filename]
    for number, (pieces, record) in enumerate(zip(cards, records, strict=True), 1):
        haystack = _haystack(record)
        missing = [(name, piece) for name, piece in pieces if piece not in haystack]
        assert not missing, f"card {number} lost {missing}"


# Hand-made cases


def test_quoted_printable_soft_line_breaks_and_charsets(session, paid_user):
    data = _vcf(
        "BEGIN:VCARD",
        "VERSION:2.1",
        "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=B6rg;;;",
        "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:J=C3=B6rg M=C3=BC=",
        "ller",
        "ADR;WORK;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:;;Stra=DFe 1=0D=0A=",
        "Hinterhaus;K=F6ln;;50667;Deutschland",
        "NOTE;QUOTED-PRINTABLE:Erste Zeile=0D=0A=",
        "Zweite Zeile, mit Komma",
        "TEL;WORK;VOICE:+49 221 123",
        "EMAIL;PREF;INTERNET:Joerg@Example.COM",
        "END:VCARD",
    )
    _import(session, paid_user, data)

    (jorg,) = _records(session)
    assert jorg.name == "Jörg Müller"
    assert jorg.street == "Straße 1\nHinterhaus"
    assert (jorg.city, jorg.postal_code, jorg.country) == (
        "Köln",
        "50667",
        "Deutschland",
    )
    assert jorg.description == "Erste Zeile\nZweite Zeile, mit Komma"
    assert jorg.phone == "+49 221 123"
    assert jorg.email == "joerg@example.com"
    assert _extra(jorg) == {"first name": "Jörg", "last name": "Müller"}


def test_several_cards_with_folded_lines(session, paid_user):
    data = _vcf(
        "BEGIN:VCARD",
        "VERSION:3.0",
        "FN:Ada Lovelace",
        "NOTE:Wrote the first pro",
        " gram\\, and more.",
        "EMAIL;TYPE=INTERNET:ada@exa",
        "\tmple.com",
        "END:VCARD",
        "BEGIN:VCARD",
        "VERSION:3.0",
        "FN:Grace",
        "  Hopper",
        "TITLE:Rear Admiral, US Navy",
        "END:VCARD",
        "BEGIN:VCARD",
        "VERSION:4.0",
        "FN:Alan Turing",
        "END:VCARD",
    )
    result = _import(session, paid_user, data, kind=KIND_LEAD)

    assert result.created == 3
    ada, grace, alan = _records(session)
    assert ada.description == "Wrote the first program, and more."
    assert ada.email == "ada@example.com"
    assert grace.name == "Grace Hopper"
    # An unescaped comma: vobject alone keeps only "Rear Admiral".
    assert grace.job_title == "Rear Admiral, US Navy"
    assert alan.name == "Alan Turing"
    assert {record.kind for record in (ada, grace, alan)} == {KIND_LEAD}


def test_grouped_labels_name_the_values_they_label(session, paid_user):
    data = _vcf(
        "BEGIN:VCARD",
        "VERSION:3.0",
        "FN:Lin Label",
        "item1.EMAIL;type=INTERNET:lin@work.example.com",
        "item1.X-ABLabel:_$!<Work>!$_",
        "item2.X-ABRELATEDNAMES:Sam",
        "item2.X-ABLabel:_$!<Partner>!$_",
        "ITEM3.X-ABDATE:2001-02-03",
        "item3.X-ABLabel:First met",
        "item4.TEL:+1 555 0100",
        "item4.X-ABLabel:Boat",
        "item9.X-ABLabel:Lonely",
        "END:VCARD",
    )
    _import(session, paid_user, data)

    (lin,) = _records(session)
    assert lin.email == "lin@work.example.com"
    assert lin.phone == "+1 555 0100"
    assert _extra(lin) == {
        "Partner": "Sam",
        "First met": "2001-02-03",
        "Work": "lin@work.example.com",
        "Boat": "+1 555 0100",
        "label": "Lonely",
    }


def test_several_emails_and_phones_preferred_first(session, paid_user):
    data = _vcf(
        "BEGIN:VCARD",
        "VERSION:3.0",
        "FN:Max Many",
        "EMAIL;TYPE=HOME:max@home.example.com",
        "EMAIL;TYPE=WORK,PREF:max@work.example.com",
        "EMAIL:MAX@HOME.example.com",
        "EMAIL:max@other.example.com",
        "TEL;TYPE=HOME:111",
        "TEL;TYPE=CELL;TYPE=pref:222",
        "TEL:333",
        "END:VCARD",
    )
    _import(session, paid_user, data)

    (max_,) = _records(session)
    assert max_.email == "max@work.example.com"
    assert max_.other_emails == "max@home.example.com, max@other.example.com"
    assert max_.phone == "222"
    assert max_.other_phones == "111, 333"


def test_cards_without_a_name(session, paid_user):
    data = _vcf(
        "BEGIN:VCARD",
        "VERSION:3.0",
        "TEL;TYPE=CELL:+44 20 7946 0000",
        "END:VCARD",
        "BEGIN:VCARD",
        "VERSION:3.0",
        "ORG:Nameless Ltd;Sales",
        "END:VCARD",
        "BEGIN:VCARD",
        "VERSION:3.0",
        "UID:only-an-id",
        "END:VCARD",
        "BEGIN:VCARD",
        "VERSION:2.1",
        "N:Curie;Marie;;;",
        "END:VCARD",
    )
    result = _import(session, paid_user, data)

    assert result.created == 3
    phone, company, marie = _records(session)
    assert phone.name == phone.phone == "+44 20 7946 0000"
    assert company.name == company.company == "Nameless Ltd"
    assert marie.name == "Marie Curie"
    assert "Card 1 has no name; the phone number is used as the name." in (result.notes)
    assert "Card 2 has no name; the company is used as the name." in result.notes
    assert "Skipped card 3: no details in it." in result.notes


def test_card_with_details_but_no_name_is_refused(session, paid_user):
    data = _vcf(
        "BEGIN:VCARD",
        "VERSION:3.0",
        "FN:Fine Person",
        "END:VCARD",
        "BEGIN:VCARD",
        "VERSION:3.0",
        "NOTE:Met at the fair",
        "END:VCARD",
    )
    message = _refusal(session, paid_user, data)

    assert message == (
        "Nothing was imported. Fix these cards and try again: card 2: no name, and "
        "no company, e-mail address or phone number to use as one."
    )


def test_bad_email_names_the_card_and_writes_nothing(session, paid_user):
    data = _vcf(
        "BEGIN:VCARD",
        "VERSION:3.0",
        "FN:Good Card",
        "EMAIL:good@example.com",
        "END:VCARD",
        "BEGIN:VCARD",
        "VERSION:3.0",
        "FN:Bad Card",
        "EMAIL:bad@@example.com",
        "END:VCARD",
    )
    message = _refusal(session, paid_user, data)

    assert message == (
        "Nothing was imported. Fix these cards and try again: card 2: "
        "'bad@@example.com' is not a valid e-mail address."
    )


def test_binary_garbage_is_refused(session, paid_user):
    garbage = bytes(range(256)) * 4

    message = _refusal(session, paid_user, garbage)

    assert message.startswith("The file could not be read as vCard:")
    assert "binary" in message


def test_text_without_cards_is_refused(session, paid_user):
    message = _refusal(session, paid_user, b"Name,Email\nAda,ada@example.com\n")

    assert message == (
        "The file could not be read as vCard: it holds no BEGIN:VCARD line. Export "
        "the contacts as vCard (.vcf) and try again."
    )


def test_empty_file_and_empty_cards_are_refused(session, paid_user):
    assert _refusal(session, paid_user, b"  \r\n") == "The file is empty."
    message = _refusal(session, paid_user, _vcf("BEGIN:VCARD", "END:VCARD"))
    assert message == "The file holds no card with any details to import."


def test_free_plan_is_refused(session, free_user):
    with pytest.raises(PlanRequired):
        _import(session, free_user, _vcf("BEGIN:VCARD", "FN:Ada", "END:VCARD"))

    assert _record_count(session) == 0


def test_bad_kind_is_refused(session, paid_user):
    message = _refusal(
        session, paid_user, _vcf("BEGIN:VCARD", "FN:Ada", "END:VCARD"), kind="lion"
    )

    assert message == "Choose whether the file holds leads or contacts."


def test_card_without_end_is_refused(session, paid_user):
    data = _vcf("BEGIN:VCARD", "FN:Ada", "END:VCARD", "BEGIN:VCARD", "FN:Cut")

    message = _refusal(session, paid_user, data)

    assert "card 2: it has no END:VCARD line" in message


def test_too_many_cards_are_refused(session, paid_user, monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 2)
    card = ("BEGIN:VCARD", "FN:Ada", "END:VCARD")

    message = _refusal(session, paid_user, _vcf(*card * 3))

    assert message.startswith("The file has more than 2 cards.")
    assert _import(session, paid_user, _vcf(*card * 2)).created == 2


def test_file_larger_than_the_limit_is_refused(session, paid_user, monkeypatch):
    monkeypatch.setattr(importing.settings, "import_max_bytes", 1024)
    data = _vcf("BEGIN:VCARD", "FN:Ada", "NOTE:" + "x" * 2000, "END:VCARD")

    message = _refusal(session, paid_user, data)

    assert message.startswith("The file is larger than")


def test_too_long_values_name_the_card(session, paid_user):
    data = _vcf(
        "BEGIN:VCARD",
        "FN:Short",
        "END:VCARD",
        "BEGIN:VCARD",
        "FN:" + "A" * 301,
        "END:VCARD",
    )

    message = _refusal(session, paid_user, data)

    assert "card 2: the name is too long (301 characters, at most 300)" in message


def test_unreadable_line_names_the_card_and_line(session, paid_user):
    data = _vcf("BEGIN:VCARD", "this is no property", "FN:Ada", "END:VCARD")

    message = _refusal(session, paid_user, data)

    assert message == (
        "Nothing was imported. Fix these cards and try again: card 1: line 2 could "
        "not be read ('this is no property')."
    )


def test_line_that_vobject_refuses_names_the_card_and_line(session, paid_user):
    data = _vcf("BEGIN:VCARD", "FN:Ada", "TEL;TY PE=x:1", "END:VCARD")

    message = _refusal(session, paid_user, data)

    assert message == (
        "Nothing was imported. Fix these cards and try again: card 1: line 3 could "
        "not be read ('TEL;TY PE=x:1')."
    )


def test_surplus_name_and_address_parts_are_kept(session, paid_user):
    data = _vcf(
        "BEGIN:VCARD",
        "VERSION:3.0",
        "N:Doe;Jo;;;Jr.;Esq.",
        "ADR:;;1 Main St;Town;;;Land;Mars;;",
        "END:VCARD",
    )

    _import(session, paid_user, data)

    (jo,) = _records(session)
    assert jo.name == "Jo Doe Jr.;Esq."
    assert jo.country == "Land;Mars"


def test_8bit_and_base64_text_values(session, paid_user):
    data = _vcf(
        "BEGIN:VCARD",
        "VERSION:2.1",
        "FN;CHARSET=UTF-8;ENCODING=8BIT:Ada, Countess",
        "NOTE;ENCODING=BASE64;CHARSET=UTF-8:S8O2bG4sIGFtIFJoZWlu",
        "TITLE;CHARSET=no-such-charset;QUOTED-PRINTABLE:Gr=C3=A4fin",
        "END:VCARD",
    )

    _import(session, paid_user, data)

    (ada,) = _records(session)
    assert ada.name == "Ada, Countess"
    assert ada.description == "Köln, am Rhein"
    assert ada.job_title == "Gräfin"


def test_unencoded_line_break_is_kept_in_the_value(session, paid_user):
    data = _vcf(
        "BEGIN:VCARD",
        "VERSION:2.1",
        "FN:Ada",
        "NOTE:first line",
        "second line",
        "END:VCARD",
    )

    result = _import(session, paid_user, data)

    (ada,) = _records(session)
    assert ada.description == "first line\nsecond line"
    assert any("did not encode" in note for note in result.notes)


def test_inline_photos_and_unindented_base64_are_skipped(session, paid_user):
    data = _vcf(
        "BEGIN:VCARD",
        "VERSION:2.1",
        "FN:Pia Picture",
        "PHOTO;JPEG;BASE64:/9j/4AAQSkZJRgABAQAAAQABAAD",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "",
        "LOGO;ENCODING=b;TYPE=PNG:iVBORw0KGgo=",
        "TEL:123",
        "END:VCARD",
        "BEGIN:VCARD",
        "VERSION:4.0",
        "FN:Dan Data",
        "PHOTO:data:image/png;base64,iVBORw0KGgo=",
        "END:VCARD",
    )

    result = _import(session, paid_user, data)

    pia, dan = _records(session)
    assert pia.phone == "123"
    assert _extra(pia) == {}
    assert _extra(dan) == {}
    assert "Skipped 2 photos: pictures are not imported." in result.notes
    assert "Skipped 1 logo: binary data is not imported." in result.notes


def test_windows_1252_file_and_byte_order_mark(session, paid_user):
    latin = _vcf("BEGIN:VCARD", "FN:Zoë Café", "END:VCARD").decode().encode("cp1252")
    result = _import(session, paid_user, latin)
    assert _records(session)[-1].name == "Zoë Café"
    assert any("Windows-1252" in note for note in result.notes)

    _import(
        session, paid_user, b"\xef\xbb\xbf" + _vcf("BEGIN:VCARD", "FN:Åsa", "END:VCARD")
    )
    assert _records(session)[-1].name == "Åsa"


def test_source_names_the_file_without_its_path(session, paid_user):
    data = _vcf("BEGIN:VCARD", "FN:Ada", "END:VCARD")

    _import(session, paid_user, data, filename="C:\\fakepath\\friends.vcf")
    _import(session, paid_user, data, filename="")

    first, second = _records(session)
    assert first.source == "vCard import: friends.vcf"
    assert second.source == "vCard import"


def test_embedded_agent_card_is_noted(session, paid_user):
    data = _vcf(
        "BEGIN:VCARD",
        "VERSION:2.1",
        "FN:Boss",
        "AGENT:",
        "BEGIN:VCARD",
        "VERSION:2.1",
        "FN:Assistant",
        "END:VCARD",
        "TEL:555",
        "END:VCARD",
    )

    result = _import(session, paid_user, data)

    (boss,) = _records(session)
    assert (boss.name, boss.phone) == ("Boss", "555")
    assert any("holds another card" in note for note in result.notes)


def test_parse_vcards_returns_values_and_notes():
    cards, notes = parse_vcards(
        _vcf(
            "BEGIN:VCARD",
            "VERSION:3.0",
            "FN:Ada Lovelace",
            "ORG:Analytical Engines;Research",
            "BDAY:1815-12-10",
            "END:VCARD",
        )
    )

    assert notes == []
    (ada,) = cards
    assert ada["name"] == "Ada Lovelace"
    assert ada["company"] == "Analytical Engines"
    assert ada["extra"] == {"birthday": "1815-12-10", "department": "Research"}
