"""Importing leads and contacts from vCard files (versions 2.1, 3.0 and 4.0)."""

import binascii
import json
import logging
import re
import unicodedata
from dataclasses import dataclass, field

import vobject
from sqlmodel import Session

from chub_ui.models import KIND_CONTACT, KIND_LEAD, Record
from chub_ui.services import importing
from chub_ui.services.access import require_paid
from chub_ui.services.addresses import normalize_email
from chub_ui.services.auth import CurrentUser
from chub_ui.services.errors import InvalidInput
from chub_ui.services.importing import count, shorten
from chub_ui.services.text import printable_only

logger = logging.getLogger(__name__)

UNREADABLE = "The file could not be read as vCard"
# Card numbers listed in one note before the rest are only counted.
MAX_CARDS_NAMED = 10

# Control characters never found in text; a file holding them is binary.
_LINE_BREAK = re.compile(r"\r*\n|\r")
_PROPERTY_NAME = re.compile(r"(?:([A-Za-z0-9_-]+)\.)?([A-Za-z0-9_-]+)")
_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/=]+")
# Apple writes "\:" in URLs; a colon never needs escaping, and vobject keeps
# the backslash.
_ESCAPED_COLON = re.compile(r"(?<!\\)\\:")
# Apple marks its built-in labels as _$!<HomePage>!$_.
_APPLE_LABEL = re.compile(r"^_\$!<(.*)>!\$_$")
_TEL_SCHEME = re.compile(r"^tel:", re.IGNORECASE)
_COMPONENT_SEPARATOR = re.compile(r"(?<!\\);")

# vCard 2.1 writes some parameters bare: "TEL;WORK;VOICE:" or "PHOTO;BASE64:".
_BARE_ENCODINGS = {"QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"}
_BINARY_PROPERTIES = {"PHOTO": "photo", "LOGO": "logo", "SOUND": "sound", "KEY": "key"}
# Values that describe the file rather than the person.
_METADATA = {"VERSION", "PRODID", "REV", "UID"}
# vobject splits these on commas itself (or, for GEO, not at all); in every
# other property it keeps only the text before the first unescaped comma.
_COMMA_AWARE = {"N", "ADR", "ORG", "CATEGORIES", "GEO"}
_FIELD_PROPERTIES = {"FN", "N", "ORG", "TITLE", "EMAIL", "TEL", "URL", "ADR", "NOTE"}
_NAME_PARTS = (
    ("prefix", "name prefix"),
    ("given", "first name"),
    ("additional", "middle name"),
    ("family", "last name"),
    ("suffix", "name suffix"),
)
_ADDRESS_PARTS = ("box", "extended", "street", "city", "region", "code", "country")
# vobject drops the parts of N and ADR beyond these counts.
_COMPONENT_COUNTS = {"N": len(_NAME_PARTS), "ADR": len(_ADDRESS_PARTS)}
_LABELS = {
    "ANNIVERSARY": "anniversary",
    "BDAY": "birthday",
    "CATEGORIES": "categories",
    "GENDER": "gender",
    "GEO": "location",
    "IMPP": "instant messaging",
    "KIND": "kind",
    "LABEL": "address label",
    "LANG": "language",
    "MEMBER": "member",
    "NICKNAME": "nickname",
    "PHOTO": "photo link",
    "LOGO": "logo link",
    "SOUND": "sound link",
    "KEY": "key",
    "RELATED": "related",
    "ROLE": "role",
    "TZ": "time zone",
    "X-ABDATE": "date",
    "X-ABRELATEDNAMES": "related name",
}
# Type words too common to say anything in a label.
_PLAIN_TYPES = {"pref", "internet", "voice", "x400"}
_FIELD_LABELS = {
    "job_title": "job title",
    "email": "e-mail",
    "other_emails": "list of other e-mails",
    "other_phones": "list of other phones",
    "postal_code": "postal code",
    "extra_json": "set of other values",
}
_RECORD_FIELDS = (
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


@dataclass
class _Line:
    """One logical line of the file: folds unfolded, soft line breaks joined."""

    number: int
    text: str
    quoted_printable: bool = False
    binary: bool = False
    continued: bool = False


@dataclass
class _Property:
    """A logical line split into its parts, before any repair."""

    group: str
    name: str
    params: list[str]
    value: str


@dataclass
class _RawCard:
    """The lines between one BEGIN:VCARD and its END:VCARD."""

    number: int
    line: int
    lines: list[_Line] = field(default_factory=list)
    closed: bool = False
    # How deep inside cards held by this one (a 2.1 AGENT) the reading is.
    nested: int = 0
    embedded: int = 0


@dataclass
class _CardReport:
    """What reading the cards found, gathered across the file."""

    # Per card number: what is wrong with it.
    problems: dict[int, list[str]] = field(default_factory=dict)
    binaries: dict[str, int] = field(default_factory=dict)
    nameless: dict[str, list[int]] = field(default_factory=dict)
    empty: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class VcardCard:
    """One card with details or problems: where it starts, values, problems."""

    number: int
    line: int
    # The record fields and "extra", or None when the card has problems.
    values: dict | None
    problems: list[str]


@dataclass
class VcardFile:
    """A vCard file read card by card, before anything is saved."""

    encoding: str
    cards: list[VcardCard]
    notes: list[str]
    photos_skipped: int


def read_vcard_file(data: bytes) -> VcardFile:
    """Read every card of a vCard file, keeping each card's problems apart.

    vobject reads 2.1 files badly, so the text is repaired first: folded lines
    are unfolded, quoted-printable values are joined across their soft line
    breaks and decoded with their CHARSET, bare 2.1 parameters get their names,
    photos and other binary values are left out, and commas are escaped where
    vobject would otherwise drop what follows them. vobject then reads each
    card on its own.

    Args:
        data: the uploaded file as it arrived.

    Returns:
        The encoding; per card that has details or problems, in file order, a
        VcardCard with its number, the line of its BEGIN:VCARD, its values (the
        Record fields name, company, job_title, email, other_emails, phone,
        other_phones, website, street, city, region, postal_code, country,
        description, and "extra", a dict of every other value by label) or
        None, and its problems; notes on what was skipped or guessed; and how
        many photos were left out.

    Raises:
        InvalidInput: for an unreadable, empty or too large file, a file
            without cards, or too many cards.
    """
    importing.check_size(data)
    text, encoding, notes = importing.decode(
        data,
        unreadable=UNREADABLE,
        binary_hint="not a contacts export. Export the contacts as vCard (.vcf) "
        "and try again.",
        encoding_hint="Export the contacts again as UTF-8.",
    )
    if not text.strip():
        raise InvalidInput("The file is empty.")

    raw_cards, outside = _split_cards(_logical_lines(text))
    if not raw_cards:
        raise InvalidInput(
            f"{UNREADABLE}: it holds no BEGIN:VCARD line. Export the contacts as "
            "vCard (.vcf) and try again."
        )
    if outside:
        notes.append(f"Ignored {count(outside, 'line')} outside any card.")

    report = _CardReport()
    cards = []
    for raw_card in raw_cards:
        values = _read_card(raw_card, report)
        problems = report.problems.get(raw_card.number, [])
        if values is not None or problems:
            cards.append(
                VcardCard(
                    number=raw_card.number,
                    line=raw_card.line,
                    values=values,
                    problems=problems,
                )
            )

    notes.extend(report.notes)
    notes.extend(_summary_notes(report))
    return VcardFile(
        encoding=encoding,
        cards=cards,
        notes=notes,
        photos_skipped=report.binaries.get("photo", 0),
    )


def parse_vcards(data: bytes) -> tuple[list[dict], list[str]]:
    """Read every card of a vCard file into the values of a record.

    Args:
        data: the uploaded file as it arrived.

    Returns:
        One dict per card with content, in file order, holding the Record
        fields and "extra" (see read_vcard_file); and notes on what was
        skipped or guessed.

    Raises:
        InvalidInput: for an unreadable, empty or too large file, too many
            cards, or any card with a problem; the message names the cards.
    """
    vcard_file = read_vcard_file(data)
    problems = [
        f"card {card.number}: {problem}"
        for card in vcard_file.cards
        for problem in card.problems
    ]
    if problems:
        raise InvalidInput(importing.problems_message(problems, "cards"))
    cards = [card.values for card in vcard_file.cards]
    return cards, vcard_file.notes


def record_values(values: dict, *, source: str) -> dict:
    """The fields of a Record for a card's values, with its source."""
    fields = {name: values[name] for name in _RECORD_FIELDS}
    return {
        **fields,
        "source": source,
        "labels": "",
        "extra_json": json.dumps(values["extra"], ensure_ascii=False),
    }


def import_vcards(
    *,
    session: Session,
    user: CurrentUser,
    data: bytes,
    kind: str,
    filename: str = "",
) -> importing.ImportResult:
    """Add one lead or contact per card of a vCard file, all of them or none.

    Args:
        session: the database session; committed once when every card is good.
        user: the acting user; the records belong to their account.
        data: the uploaded file as it arrived.
        kind: KIND_LEAD or KIND_CONTACT.
        filename: the name of the uploaded file, shown in each record's source.

    Returns:
        How many records were created, their ids, and notes on what was
        skipped (photos, empty cards) or guessed (names of nameless cards).

    Raises:
        PlanRequired: the account is on the free plan.
        InvalidInput: for a bad kind, an unreadable, empty or too large file, or
            any card with a problem; the message names the cards, and nothing is
            written.
    """
    user = require_paid(user)
    if kind not in (KIND_LEAD, KIND_CONTACT):
        raise InvalidInput("Choose whether the file holds leads or contacts.")

    try:
        cards, notes = parse_vcards(data)
        if not cards:
            raise InvalidInput("The file holds no card with any details to import.")
    except InvalidInput:
        logger.info(
            "vCard import of %ss refused for user %s: file of %d bytes not usable",
            kind,
            user.id,
            len(data),
        )
        raise

    source = importing.source_for(filename, "vCard import")
    records = [
        importing.new_record(user, kind, record_values(values, source=source))
        for values in cards
    ]
    record_ids = importing.save_records(
        session=session, user=user, kind=kind, records=records, what="a vCard file"
    )
    return importing.ImportResult(
        created=len(record_ids), notes=notes, record_ids=record_ids
    )


def _logical_lines(text: str) -> list[_Line]:
    """Join the physical lines into logical ones.

    A line starting with a space or tab continues the one before (the first
    space or tab is dropped). A quoted-printable value ending in "=" continues
    on the next line whatever it starts with; vobject does not join those
    lines, and skips or refuses the rest of the value. Lines of base64 data
    that a 2.1 writer did not indent belong to the binary value before them.
    Any other line that cannot start a property is a line break its writer
    forgot to encode; it is kept in the value before it.

    Known limit: a writer that folds with two spaces (Lotus Notes does) leaves
    one space inside the folded word, as in "Dr ive".
    """
    lines: list[_Line] = []
    current: _Line | None = None
    for number, raw in enumerate(_LINE_BREAK.split(text), start=1):
        if _soft_line_break(current) and raw.strip().upper() != "END:VCARD":
            current.text = current.text[:-1] + raw
            continue
        if raw[:1] in (" ", "\t") and current and not _is_marker(current.text):
            current.text += raw[1:]
            continue
        if not raw.strip():
            continue
        prop = _split_property(raw)
        if prop is None and current is not None and not _is_marker(current.text):
            if current.binary and _BASE64_TEXT.fullmatch(raw.strip()):
                current.text += raw.strip()
            else:
                line_break = "=0D=0A" if current.quoted_printable else "\\n"
                current.text += line_break + raw
                current.continued = True
            continue
        current = _Line(number=number, text=raw)
        if prop is not None:
            params = [param.upper() for param in prop.params]
            current.quoted_printable = any(
                "QUOTED-PRINTABLE" in param for param in params
            )
            current.binary = prop.name in _BINARY_PROPERTIES and any(
                param in ("BASE64", "B", "ENCODING=BASE64", "ENCODING=B")
                for param in params
            )
        lines.append(current)
    return lines


def _soft_line_break(line: _Line | None) -> bool:
    """Whether a quoted-printable value goes on in the next line."""
    return line is not None and line.quoted_printable and line.text.endswith("=")


def _is_marker(text: str) -> bool:
    """Whether the line begins or ends a card."""
    return text.strip().upper() in ("BEGIN:VCARD", "END:VCARD")


def _split_property(text: str) -> _Property | None:
    """Group, name, parameters and value of a line, or None if it has none."""
    in_quotes = False
    pieces: list[str] = []
    start = 0
    for index, char in enumerate(text):
        if char == '"':
            in_quotes = not in_quotes
        elif char == ";" and not in_quotes:
            pieces.append(text[start:index])
            start = index + 1
        elif char == ":" and not in_quotes:
            pieces.append(text[start:index])
            match = _PROPERTY_NAME.fullmatch(pieces[0].strip())
            if match is None:
                return None
            return _Property(
                group=match.group(1) or "",
                name=match.group(2).upper(),
                params=[piece.strip() for piece in pieces[1:] if piece.strip()],
                value=text[index + 1 :],
            )
    return None


def _split_cards(lines: list[_Line]) -> tuple[list[_RawCard], int]:
    """The cards of the file, and how many lines were outside any card."""
    cards: list[_RawCard] = []
    outside = 0
    card: _RawCard | None = None
    for line in lines:
        marker = line.text.strip().upper()
        if card is None:
            if marker == "BEGIN:VCARD":
                if len(cards) == importing.MAX_ROWS:
                    raise InvalidInput(
                        f"The file has more than {importing.MAX_ROWS:,} cards. "
                        "Split it into smaller files and import them one by one."
                    )
                card = _RawCard(number=len(cards) + 1, line=line.number)
                cards.append(card)
            else:
                outside += 1
        elif marker == "BEGIN:VCARD":
            # A 2.1 AGENT property holds a whole card of its own. Known limit:
            # that card is not imported; a note says so.
            card.nested += 1
            card.embedded += 1
        elif marker == "END:VCARD":
            if card.nested:
                card.nested -= 1
            else:
                card.closed = True
                card = None
        elif not card.nested:
            card.lines.append(line)
    return cards, outside


def _read_card(raw_card: _RawCard, report: _CardReport) -> dict | None:
    """The record values of one card, or None when it has none or has problems."""
    number = raw_card.number
    if not raw_card.closed:
        report.problems[number] = ["it has no END:VCARD line"]
        return None
    if raw_card.embedded:
        report.notes.append(
            f"Card {number} holds another card (an agent); that card was not imported."
        )
    if any(line.continued for line in raw_card.lines):
        report.notes.append(
            f"Card {number} has a line break that its writer did not encode; the "
            "line was kept in the value before it."
        )

    repaired: list[tuple[_Line, str]] = []
    for line in raw_card.lines:
        prop = _split_property(line.text)
        if prop is None:
            report.problems[number] = [
                f"line {line.number} could not be read "
                f"('{shorten(printable_only(line.text))}')"
            ]
            return None
        text = _repair(prop, number, report)
        if text is not None:
            repaired.append((line, text))

    card_text = "\r\n".join(
        ["BEGIN:VCARD", *(text for _, text in repaired), "END:VCARD", ""]
    )
    try:
        component = next(vobject.readComponents(card_text))
    except Exception:
        # vobject raises many kinds of errors on malformed input; all mean the
        # card cannot be read.
        report.problems[number] = [_unreadable_line(repaired)]
        return None
    return _card_values(component, number, report)


def _repair(prop: _Property, number: int, report: _CardReport) -> str | None:
    """The line as vobject reads it right, or None to leave it out."""
    # Known limit: photos, logos, sounds and keys held in the card are left
    # out, not stored as documents; links to them are kept.
    if prop.name in _BINARY_PROPERTIES and _is_inline_binary(prop):
        if prop.value.strip():
            what = _BINARY_PROPERTIES[prop.name]
            report.binaries[what] = report.binaries.get(what, 0) + 1
        return None
    if prop.name == "PROFILE":
        # PROFILE:VCARD only says the text is a vCard, and vobject mistakes
        # it for the start of a second card.
        return None

    params = [_named_param(param) for param in prop.params]
    value = prop.value
    encoding = _param_value(params, "ENCODING").upper()
    if encoding in ("QUOTED-PRINTABLE", "B", "BASE64"):
        value, damaged = _decode_value(value, encoding, _param_value(params, "CHARSET"))
        if damaged:
            report.notes.append(
                f"Card {number}: some characters of {prop.name} could not be read "
                "and show as �."
            )
        value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
        params = [
            param
            for param in params
            if not param.upper().startswith(("ENCODING=", "CHARSET="))
        ]
    elif encoding:
        # 8BIT and 7BIT say nothing, but vobject takes any ENCODING for base64.
        params = [
            param for param in params if not param.upper().startswith("ENCODING=")
        ]
    # Known limit: 2.1 has no backslash escapes, but vobject reads every card
    # as 3.0, so a 2.1 value holding "\n" or "\\" as text loses a backslash.
    value = _ESCAPED_COLON.sub(":", value)
    if prop.name in _COMPONENT_COUNTS:
        value = _fit_components(value, _COMPONENT_COUNTS[prop.name])
    if prop.name not in _COMMA_AWARE:
        value = _escape_commas(value)

    head = f"{prop.group}.{prop.name}" if prop.group else prop.name
    return ";".join([head, *params]) + ":" + value


def _is_inline_binary(prop: _Property) -> bool:
    """Whether a photo, logo, sound or key holds its data rather than a link."""
    for param in prop.params:
        upper = param.upper()
        if upper in ("BASE64", "B") or upper.startswith("ENCODING="):
            return True
    return prop.value.strip().lower().startswith("data:")


def _named_param(param: str) -> str:
    """A parameter in 3.0 form: a bare 2.1 word gets its parameter's name."""
    if "=" in param:
        name, value = param.split("=", 1)
        return f"{name.strip().upper()}={value.strip()}"
    word = param.strip()
    if word.upper() in _BARE_ENCODINGS:
        return f"ENCODING={word.upper()}"
    return f"TYPE={word}"


def _param_value(params: list[str], name: str) -> str:
    """The value of the first parameter of that name, unquoted, or ''."""
    for param in params:
        key, _, value = param.partition("=")
        if key.upper() == name:
            return value.strip().strip('"')
    return ""


def _decode_value(value: str, encoding: str, charset: str) -> tuple[str, bool]:
    """A quoted-printable or base64 text decoded, and whether bytes were lost.

    Bytes that do not fit the CHARSET are lost (shown as U+FFFD). Without a
    charset Python knows, UTF-8 is tried first and Windows-1252 second. Base64
    that does not decode is kept as it is.
    """
    if encoding == "QUOTED-PRINTABLE":
        data = binascii.a2b_qp(value.encode("utf-8"))
    else:
        try:
            data = binascii.a2b_base64(value.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError):
            return value, False
    if charset:
        try:
            return data.decode(charset), False
        except LookupError:
            pass
        except UnicodeDecodeError:
            return data.decode(charset, errors="replace"), True
    for name in ("utf-8", "cp1252"):
        try:
            return data.decode(name), False
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace"), True


def _fit_components(value: str, count: int) -> str:
    """A structured value with its surplus parts joined to the last part."""
    parts = _COMPONENT_SEPARATOR.split(value)
    while len(parts) > count and not parts[-1].strip():
        parts.pop()
    if len(parts) <= count:
        return ";".join(parts)
    return ";".join(parts[: count - 1]) + ";" + "\\;".join(parts[count - 1 :])


def _escape_commas(value: str) -> str:
    """The value with every comma that is not escaped yet escaped."""
    escaped = []
    backslash = False
    for char in value:
        if backslash:
            backslash = False
        elif char == "\\":
            backslash = True
        elif char == ",":
            escaped.append("\\")
        escaped.append(char)
    return "".join(escaped)


def _unreadable_line(repaired: list[tuple[_Line, str]]) -> str:
    """Which line of a card vobject refused, found by reading one at a time.

    vobject's own line numbers count each line twice, so they are not used.
    """
    for line, text in repaired:
        try:
            vobject.base.textLineToContentLine(text)
        except Exception:
            return (
                f"line {line.number} could not be read "
                f"('{shorten(printable_only(line.text))}')"
            )
    return "the card could not be read"


@dataclass
class _CardValues:
    """The values of one card as they are sorted into a record."""

    number: int
    report: _CardReport
    values: dict[str, str] = field(
        default_factory=lambda: dict.fromkeys(_RECORD_FIELDS, "")
    )
    extra: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    # Lines named by a grouped X-ABLabel, with their label, by id of the line.
    labelled: dict[int, tuple[object, str]] = field(default_factory=dict)

    def keep(self, child, base: str = "", value: str | None = None) -> None:
        """Keep a value as extra data, under its grouped label if it has one."""
        _, label = self.labelled.pop(id(child), (None, ""))
        text = _shown(child) if value is None else value
        _put(self.extra, label or _extra_label(child, base), text)

    def keep_labels(self) -> None:
        """Keep the labels of lines that went into fields, with their values."""
        for child, label in self.labelled.values():
            _put(self.extra, label, _shown(child))
        self.labelled.clear()


def _card_values(card, number: int, report: _CardReport) -> dict | None:
    """The record values of a card that vobject has read."""
    children = sorted(
        (child for child in card.getChildren() if hasattr(child, "value")),
        key=lambda child: child.lineNumber or 0,
    )
    labels = {
        child.group.lower(): _label_text(_text(child.value))
        for child in children
        if child.name == "X-ABLABEL" and child.group
    }
    sorted_card = _CardValues(number=number, report=report)
    grouped = {
        child.group.lower()
        for child in children
        if child.group and child.name != "X-ABLABEL" and child.name not in _METADATA
    }
    for group, label in labels.items():
        if group not in grouped:
            _put(sorted_card.extra, "label", label)
    by_name: dict[str, list] = {}
    for child in children:
        if child.name in _METADATA or child.name == "X-ABLABEL":
            continue
        label = labels.get((child.group or "").lower())
        if label:
            sorted_card.labelled[id(child)] = (child, label)
        if child.name in _FIELD_PROPERTIES:
            by_name.setdefault(child.name, []).append(child)
        else:
            sorted_card.keep(child)

    _read_names(sorted_card, by_name)
    _read_company(sorted_card, by_name.get("ORG", []))
    _read_emails(sorted_card, by_name.get("EMAIL", []))
    _read_phones(sorted_card, by_name.get("TEL", []))
    _read_address(sorted_card, by_name.get("ADR", []))
    _read_firsts(sorted_card, by_name)
    sorted_card.keep_labels()

    values, extra, problems = (
        sorted_card.values,
        sorted_card.extra,
        sorted_card.problems,
    )
    if not any(values.values()) and not extra and not problems:
        report.empty.append(number)
        return None
    if not values["name"]:
        for source, field_name in (
            ("company", "company"),
            ("e-mail address", "email"),
            ("phone number", "phone"),
        ):
            if values[field_name]:
                values["name"] = values[field_name]
                report.nameless.setdefault(source, []).append(number)
                break
        else:
            problems.append(
                "no name, and no company, e-mail address or phone number to use as one"
            )
    problems.extend(_length_problems(values, extra))
    if problems:
        report.problems[number] = problems
        return None
    return {**values, "extra": extra}


def _read_names(card: _CardValues, by_name: dict) -> None:
    """The name from FN or else N; name parts and other names kept as extra."""
    values = card.values
    for child in by_name.get("FN", []):
        text = _text(child.value)
        if not values["name"]:
            values["name"] = text
        elif text != values["name"]:
            card.keep(child, "name", text)
    for index, child in enumerate(by_name.get("N", [])):
        suffix = "" if index == 0 else _label_suffix(child)
        parts = {key: _text(getattr(child.value, key, "")) for key, _ in _NAME_PARTS}
        for key, label in _NAME_PARTS:
            _put(card.extra, f"{label}{suffix}", parts[key])
        if not values["name"]:
            values["name"] = " ".join(
                parts[key] for key, _ in _NAME_PARTS if parts[key]
            )


def _read_company(card: _CardValues, orgs: list) -> None:
    """The company from the first ORG; departments and other ORGs as extra."""
    first = ""
    for child in orgs:
        units = child.value if isinstance(child.value, list) else [child.value]
        units = [text for text in (_text(unit) for unit in units) if text]
        if not units:
            continue
        joined = ", ".join(units)
        if not card.values["company"]:
            card.values["company"] = units[0]
            first = joined
            _put(card.extra, "department", ", ".join(units[1:]))
        elif joined not in (card.values["company"], first):
            card.keep(child, "company", joined)


def _read_emails(card: _CardValues, emails: list) -> None:
    """The e-mail addresses, preferred first; each one checked."""
    found: list[str] = []
    for child in _by_preference(emails):
        text = _text(child.value)
        if not text:
            continue
        if "@" not in text:
            # Some phones store a name in the e-mail field; it is no address.
            card.keep(child, "e-mail text", text)
            card.report.notes.append(
                f"Card {card.number}: '{shorten(text)}' is not an e-mail address; "
                "it was kept as 'e-mail text'."
            )
            continue
        try:
            address = normalize_email(text)
        except InvalidInput:
            card.problems.append(f"'{shorten(text)}' is not a valid e-mail address")
            continue
        if address not in found:
            found.append(address)
    card.values["email"] = found[0] if found else ""
    card.values["other_emails"] = ", ".join(found[1:])


def _read_phones(card: _CardValues, phones: list) -> None:
    """The phone numbers, preferred first, without a tel: scheme.

    Known limit: the types of phones and e-mails (home, work, cell) are not
    kept; a grouped label is.
    """
    found: list[str] = []
    for child in _by_preference(phones):
        text = _shown(child)
        if text and text not in found:
            found.append(text)
    card.values["phone"] = found[0] if found else ""
    card.values["other_phones"] = ", ".join(found[1:])


def _read_address(card: _CardValues, addresses: list) -> None:
    """The preferred (else first) address in the fields; the others as extra."""
    values = card.values
    filled = False
    for child in _by_preference(addresses):
        parts = {key: _text(getattr(child.value, key, "")) for key in _ADDRESS_PARTS}
        if not any(parts.values()):
            card.keep(child, "address")
            continue
        if filled:
            card.keep(child, "address")
            continue
        filled = True
        values["street"] = ", ".join(
            part for part in (parts["street"], parts["extended"], parts["box"]) if part
        )
        values["city"] = parts["city"]
        values["region"] = parts["region"]
        values["postal_code"] = parts["code"]
        values["country"] = parts["country"]


def _read_firsts(card: _CardValues, by_name: dict) -> None:
    """Job title and website from the first of each; notes joined."""
    for name, field_name, label in (
        ("TITLE", "job_title", "job title"),
        ("URL", "website", "website"),
    ):
        for child in _by_preference(by_name.get(name, [])):
            text = _text(child.value)
            if not card.values[field_name]:
                card.values[field_name] = text
            elif text != card.values[field_name]:
                card.keep(child, label, text)
    notes = [_text(child.value) for child in by_name.get("NOTE", [])]
    card.values["description"] = "\n\n".join(note for note in notes if note)


def _by_preference(children: list) -> list:
    """The lines with PREF (lowest PREF number) first, otherwise in file order."""

    def rank(child) -> int:
        for value in child.params.get("PREF", []):
            if str(value).strip().isdigit():
                return int(str(value).strip())
        types = {str(value).lower() for value in child.params.get("TYPE", [])}
        return 1 if "pref" in types else 101

    return sorted(children, key=rank)


def _text(value: object) -> str:
    """A value of vobject's as clean text: lists joined, controls removed."""
    if isinstance(value, list | tuple):
        return ", ".join(text for text in (_text(item) for item in value) if text)
    if not isinstance(value, str):
        return ""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(
        char
        for char in text
        if char in "\n\t" or unicodedata.category(char) not in {"Cc", "Cs"}
    )
    return text.strip()


def _shown(child) -> str:
    """A whole property value as one text, for the extra data."""
    value = child.value
    if isinstance(value, vobject.vcard.Address):
        return ", ".join(
            part
            for part in (_text(getattr(value, key, "")) for key in _ADDRESS_PARTS)
            if part
        )
    if isinstance(value, vobject.vcard.Name):
        return " ".join(
            part
            for part in (_text(getattr(value, key, "")) for key, _ in _NAME_PARTS)
            if part
        )
    if child.name == "TEL":
        return _TEL_SCHEME.sub("", _text(value)).strip()
    return _text(value)


def _label_text(value: str) -> str:
    """A grouped X-ABLabel as a user reads it: Apple's markers removed."""
    match = _APPLE_LABEL.match(value)
    return (match.group(1) if match else value).strip()


def _extra_label(child, base: str = "") -> str:
    """The key of a value in the extra data: a plain name, types and language."""
    return (base or _LABELS.get(child.name, child.name)) + _label_suffix(child)


def _label_suffix(child) -> str:
    """' (home, en)' for a line typed HOME in English; '' when untyped."""
    words = [
        str(value).lower()
        for value in child.params.get("TYPE", [])
        if str(value).lower() not in _PLAIN_TYPES
    ]
    words.extend(str(value) for value in child.params.get("LANGUAGE", []))
    return f" ({', '.join(words)})" if words else ""


def _put(extra: dict[str, str], label: str, value: str) -> None:
    """Keep a value under its label, numbering labels that repeat."""
    if not value:
        return
    key = label
    copy = 2
    while key in extra:
        if extra[key] == value:
            return
        key = f"{label} {copy}"
        copy += 1
    extra[key] = value


def _length_problems(values: dict, extra: dict) -> list[str]:
    """A problem for every value longer than its column in the database."""
    lengths = {name: len(value) for name, value in values.items()}
    lengths["extra_json"] = len(json.dumps(extra, ensure_ascii=False))
    problems = []
    for name, length in lengths.items():
        limit = Record.__table__.c[name].type.length
        if limit is not None and length > limit:
            label = _FIELD_LABELS.get(name, name.replace("_", " "))
            problems.append(
                f"the {label} is too long ({length:,} characters, at most {limit:,})"
            )
    return problems


def _summary_notes(report: _CardReport) -> list[str]:
    """Notes on skipped binary values, nameless and empty cards."""
    notes = []
    photos = report.binaries.get("photo", 0)
    if photos:
        notes.append(f"Skipped {count(photos, 'photo')}: pictures are not imported.")
    others = [
        count(report.binaries[what], what)
        for what in ("logo", "sound", "key")
        if report.binaries.get(what)
    ]
    if others:
        notes.append(f"Skipped {', '.join(others)}: binary data is not imported.")
    for source, numbers in report.nameless.items():
        notes.append(f"{_cards(numbers)} no name; the {source} is used as the name.")
    if report.empty:
        notes.append(f"Skipped {_cards(report.empty, verb=False)}: no details in it.")
    return notes


def _cards(numbers: list[int], *, verb: bool = True) -> str:
    """'Card 3 has' or 'Cards 1, 2 and 5 have', naming at most a few."""
    shown = [str(number) for number in numbers[:MAX_CARDS_NAMED]]
    hidden = len(numbers) - len(shown)
    if hidden:
        listed = f"{', '.join(shown)} and {hidden} more"
    elif len(shown) > 1:
        listed = f"{', '.join(shown[:-1])} and {shown[-1]}"
    else:
        listed = shown[0]
    if len(numbers) == 1:
        return f"Card {listed} has" if verb else f"card {listed}"
    return f"Cards {listed} have" if verb else f"cards {listed}"
