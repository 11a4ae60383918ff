"""Importing leads and contacts from CSV files exported by other CRMs."""

import codecs
import csv
import io
import json
import logging
import re
from dataclasses import dataclass, field
from itertools import islice

from sqlmodel import Session

from chub_ui.models import KIND_CONTACT, KIND_LEAD, Record
from chub_ui.services.access import require_paid
from chub_ui.services.addresses import normalize_email
from chub_ui.services.auth import CurrentUser
from chub_ui.services.errors import InvalidInput
from chub_ui.services.exports import neutralise_formula
from chub_ui.services.records import FORM_LABELS
from chub_ui.services.text import printable_only
from chub_ui.settings import settings

logger = logging.getLogger(__name__)

MAX_ROWS = 10_000
MAX_COLUMNS = 1_000
MAX_PROBLEMS_SHOWN = 10
MAX_COLUMNS_NAMED = 10
DELIMITERS = (",", ";", "\t")
# Enough records to tell the delimiter apart without parsing a big file twice.
_SNIFF_RECORDS = 50
UNREADABLE = "The file could not be read as CSV"
BINARY_HINT_CSV = "such as an Excel workbook. Save it as CSV and try again."

# Control characters never found in text; a file holding them is binary. Tab,
# line feed and carriage return are text.
_BINARY_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f]")
_HEADER_PUNCTUATION = re.compile(r"[\W_]+")
_EMAIL_SEPARATORS = re.compile(r"[,;]")
_TRUE_WORDS = {"1", "true", "yes", "y", "x", "company", "organization"}

# Header names as they read after _header_key; each field's first match wins.
_ALIASES: dict[str, tuple[str, ...]] = {
    "name": (
        "name",
        "fullname",
        "contactname",
        "displayname",
        "personname",
        "leadname",
    ),
    "first_name": ("firstname", "givenname", "forename", "first"),
    "middle_name": ("middlename", "middle"),
    "last_name": ("lastname", "surname", "familyname", "last"),
    "title": ("title",),
    "company": (
        "company",
        "companyname",
        "organization",
        "organisation",
        "organizationname",
        "organisationname",
        "account",
        "accountname",
        "relatedcompany",
        "employer",
    ),
    "is_company": ("isacompany", "iscompany", "companytype"),
    "job_title": ("jobtitle", "position", "jobposition", "role", "designation"),
    "email": (
        "email",
        "emails",
        "mail",
        "emailaddress",
        "emailaddresses",
        "workemail",
        "homeemail",
        "primaryemail",
        "secondaryemail",
        "email1",
        "email2",
        "email3",
    ),
    "phone": (
        "phone",
        "phones",
        "telephone",
        "tel",
        "mobile",
        "mobilephone",
        "cell",
        "cellphone",
        "phonenumber",
        "phonenumbers",
        "contactnumber",
        "contactnumbers",
        "workphone",
        "homephone",
        "businessphone",
        "primaryphone",
    ),
    "other_emails": ("otheremails", "otheremail", "additionalemails"),
    "other_phones": ("otherphones", "otherphone", "additionalphones"),
    "website": ("website", "websiteurl", "url", "web", "homepage", "webpage"),
    "street": (
        "street",
        "street1",
        "address",
        "address1",
        "addressline1",
        "streetaddress",
        "billingstreet",
        "mailingstreet",
    ),
    "street2": ("street2", "address2", "addressline2"),
    "city": ("city", "town", "billingcity", "mailingcity"),
    "region": (
        "state",
        "region",
        "stateorregion",
        "province",
        "stateprovince",
        "billingstate",
        "mailingstate",
    ),
    "postal_code": (
        "zip",
        "zipcode",
        "postalcode",
        "postcode",
        "billingpostalcode",
        "mailingpostalcode",
    ),
    "country": ("country", "countryregion", "billingcountry", "mailingcountry"),
    "description": ("description", "notes", "note", "comments", "comment"),
    "source": ("source", "leadsource"),
    "labels": ("labels", "label", "tags", "tag", "categories", "keywords"),
}
# Fields the guess fills from one column only; the others gather every match.
_MULTI_COLUMN_FIELDS = {"email", "other_emails", "phone", "other_phones"}
# The app's own column names, as its CSV export writes them and its forms show
# them: an exact match wins over any alias, so an export imports cleanly.
_OWN_HEADERS = {
    _HEADER_PUNCTUATION.sub("", label.casefold()): name
    for name, label in FORM_LABELS.items()
}
# Where a guessed field goes in a mapping.
_GUESS_TARGETS = {"street2": "street", "title": "job_title"}
# Record fields filled from the columns mapped to them, joined as below.
_PLAIN_FIELDS = (
    "job_title",
    "website",
    "city",
    "region",
    "postal_code",
    "country",
    "description",
)
_JOINERS = {"name": " ", "description": "\n", "street": ", "}
_FIELD_LABELS = {
    "job_title": "job title",
    "email": "e-mail",
    "other_emails": "list of other e-mails",
    "other_phones": "list of other phones",
    "postal_code": "postal code",
    "extra_json": "set of other columns",
}
_LIST_SEPARATORS = re.compile(r"[,;\n]+")

TARGET_EXTRA = "extra"
TARGET_IGNORE = "ignore"
# What a CSV column can be mapped to, in the order the page offers them.
FIELD_CHOICES: tuple[tuple[str, str], ...] = (
    ("name", "Name"),
    ("first_name", "First name (joined into the name)"),
    ("middle_name", "Middle name (joined into the name)"),
    ("last_name", "Last name (joined into the name)"),
    ("company", "Company"),
    ("is_company", "Is a company (yes/no: the name is the company)"),
    ("job_title", "Job title"),
    ("email", "E-mail"),
    ("other_emails", "Other e-mails"),
    ("phone", "Phone"),
    ("other_phones", "Other phones"),
    ("website", "Website"),
    ("street", "Street"),
    ("city", "City"),
    ("region", "State or region"),
    ("postal_code", "Postal code"),
    ("country", "Country"),
    ("description", "Description"),
    ("source", "Source"),
    ("labels", "Labels"),
    (TARGET_EXTRA, "Keep as extra data"),
    (TARGET_IGNORE, "Ignore"),
)
TARGETS = frozenset(target for target, _ in FIELD_CHOICES)
_NAME_TARGETS = ("name", "first_name", "middle_name", "last_name")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


@dataclass(frozen=True)
class ImportResult:
    """What an import created, and what the user should know about it."""

    created: int
    notes: list[str] = field(default_factory=list)
    record_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class CsvRow:
    """One data row: its number as a spreadsheet shows it, its first line, cells."""

    number: int
    line: int
    cells: list[str]


@dataclass
class CsvTable:
    """A CSV file read into its header and rows, before any mapping."""

    encoding: str
    delimiter: str
    header: list[str]
    rows: list[CsvRow]
    empty_rows: int
    notes: list[str]


@dataclass(frozen=True)
class RowValues:
    """The record fields of one row or card, or what is wrong with it."""

    number: int
    line: int
    values: dict
    problems: list[str]
    where: str

    @property
    def is_good(self) -> bool:
        """Whether the row can be imported."""
        return not self.problems


@dataclass
class _ColumnPlan:
    """Which columns feed which field, and which are kept as extra data."""

    columns: dict[str, list[int]]
    extra: list[tuple[int, str]]
    notes: list[str]
    company_header: str = ""


def import_records(
    *,
    session: Session,
    user: CurrentUser,
    data: bytes,
    kind: str,
    filename: str = "",
) -> ImportResult:
    """Add one lead or contact per row of a CSV file, all of them or none.

    The columns are mapped as guessed from the header; the import page offers
    preview, mapping and duplicates through services/import_jobs.py instead.

    Args:
        session: the database session; committed once when every row is good.
        user: the acting user; the records belong to their account.
        data: the uploaded file as it arrived.
        kind: KIND_LEAD or KIND_CONTACT.
        filename: the name of the uploaded file, shown in each record's source.

    Returns:
        How many records were created, their ids and notes on how the columns
        were read.

    Raises:
        PlanRequired: the account is on the free plan.
        InvalidInput: for a bad kind, an unreadable, empty or too large file, or
            any row with a problem; the message names the rows, and nothing is
            written.
    """
    user = require_paid(user)
    if kind not in (KIND_LEAD, KIND_CONTACT):
        raise InvalidInput("Choose whether the file holds leads or contacts.")

    try:
        table = read_csv_table(data)
        mapping, guess_notes = guess_mapping(table.header)
        rows, notes = csv_row_values(table, mapping, filename=filename)
    except InvalidInput:
        logger.info(
            "CSV import of %ss refused for user %s: file of %d bytes not usable",
            kind,
            user.id,
            len(data),
        )
        raise
    notes = [*table.notes, *guess_notes, *notes]
    problems = [f"{row.where}: {problem}" for row in rows for problem in row.problems]
    if problems:
        logger.info(
            "CSV import of %ss refused for user %s: %d problems in %d rows",
            kind,
            user.id,
            len(problems),
            len(rows),
        )
        raise InvalidInput(problems_message(problems))

    records = [new_record(user, kind, row.values) for row in rows]
    record_ids = save_records(
        session=session, user=user, kind=kind, records=records, what="a CSV file"
    )
    return ImportResult(created=len(record_ids), notes=notes, record_ids=record_ids)


def new_record(user: CurrentUser, kind: str, values: dict) -> Record:
    """An imported lead or contact of the user's account, not yet added."""
    return Record(
        account_id=user.account_id, created_by_id=user.id, kind=kind, **values
    )


def save_records(
    *, session: Session, user: CurrentUser, kind: str, records: list, what: str
) -> list[int]:
    """Insert an import's records in one transaction and return their ids.

    Args:
        session: the database session; committed, or rolled back on failure.
        user: who imports.
        kind: lead or contact, for the log.
        records: the new Record rows.
        what: where they came from, for the log ("a CSV file").
    """
    try:
        session.add_all(records)
        session.flush()
        record_ids = [record.id for record in records]
        session.commit()
    except Exception as error:
        session.rollback()
        # Only the error's type: database errors quote the row values.
        logger.error(
            "import of %ss from %s failed for user %s: %s",
            kind,
            what,
            user.id,
            type(error).__name__,
        )
        raise
    logger.info("user %s imported %d %ss from %s", user.id, len(record_ids), kind, what)
    return record_ids


def check_size(data: bytes) -> None:
    """Refuse a file larger than the import limit."""
    if len(data) > settings.import_max_bytes:
        megabytes = settings.import_max_bytes / (1024 * 1024)
        raise InvalidInput(
            f"The file is larger than {megabytes:g} MB. Split it into smaller files "
            "and import them one by one."
        )


def read_csv_table(data: bytes) -> CsvTable:
    """Read a CSV file into its header and non-empty rows.

    Args:
        data: the uploaded file as it arrived.

    Returns:
        The encoding and delimiter found, the header, the data rows with their
        row and line numbers, how many empty rows were left out, and notes.

    Raises:
        InvalidInput: for an unreadable, empty or too large file, a broken
            quote, too many rows or columns, or a header without data rows.
    """
    check_size(data)
    text, encoding, notes = decode(data)
    if not text.strip():
        raise InvalidInput("The file is empty.")

    delimiter = _pick_delimiter(text)
    header, data_rows, empty_rows = _read_table(text, delimiter)
    if not data_rows:
        raise InvalidInput(
            "The file has a header row but no data rows: nothing to import."
        )
    if len(header) > MAX_COLUMNS:
        raise InvalidInput(
            f"The file has {len(header):,} columns; at most {MAX_COLUMNS:,} can be "
            "imported."
        )
    if empty_rows:
        notes.append(f"Skipped {count(empty_rows, 'empty row')}.")
    return CsvTable(
        encoding=encoding,
        delimiter=delimiter,
        header=header,
        rows=data_rows,
        empty_rows=empty_rows,
        notes=notes,
    )


def guess_mapping(header: list[str]) -> tuple[list[str], list[str]]:
    """The field each column goes to, guessed from its name, with notes.

    A column whose name is not recognised is kept as extra data. With a
    full-name column, name parts are extra data too, and a "title" beside a
    name is the job title; without any name column a "title" column, else the
    first column not used otherwise, is the name, unless a company or e-mail
    column can give each row its name.

    Args:
        header: the column names of the file.

    Returns:
        One target of TARGETS per column, and notes on what was guessed.
    """
    lookup = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
    lookup.update(_OWN_HEADERS)
    mapping = [TARGET_EXTRA] * len(header)
    found: dict[str, list[int]] = {}
    for index, title in enumerate(header):
        name = lookup.get(_header_key(title))
        if name is None:
            continue
        if name in _MULTI_COLUMN_FIELDS or name not in found:
            found.setdefault(name, []).append(index)

    notes = []
    has_name = any(key in found for key in ("name", "first_name", "last_name"))
    if has_name:
        if "name" in found:
            for part in ("first_name", "middle_name", "last_name"):
                found.pop(part, None)
        if "title" in found and "job_title" in found:
            found.pop("title")
    elif "title" in found:
        found["name"] = found.pop("title")
        notes.append(
            f"No name column found; used '{_shown_header(header, found)}' as the name."
        )

    for name, indexes in found.items():
        for index in indexes:
            mapping[index] = _GUESS_TARGETS.get(name, name)
    if not has_name and "name" not in found:
        if any(key in found for key in ("company", "email", "other_emails")):
            notes.append(
                "No name column found; each row's company, else its e-mail "
                "address, is used as the name."
            )
        elif TARGET_EXTRA in mapping:
            index = mapping.index(TARGET_EXTRA)
            mapping[index] = "name"
            title = header[index].strip() or f"column {index + 1}"
            notes.append(f"No name column found; used '{title}' as the name.")
    return mapping, notes


def _shown_header(header: list[str], found: dict[str, list[int]]) -> str:
    """The name of the column used as the name."""
    index = found["name"][0]
    return header[index].strip() or f"column {index + 1}"


def check_mapping(mapping: object, header: list[str]) -> list[str]:
    """A mapping from the browser, checked against the file's columns.

    Args:
        mapping: one target per column, as a list of strings.
        header: the column names of the file.

    Returns:
        The mapping as a list of known targets.

    Raises:
        InvalidInput: the mapping is not a list of one known target per
            column, or maps no column to a name, a company or an e-mail
            address, so no row could have a name.
    """
    if not isinstance(mapping, list | tuple) or len(mapping) != len(header):
        raise InvalidInput(
            f"The column mapping does not fit this file's {count(header, 'column')}. "
            "Upload the file again."
        )
    checked = []
    for index, target in enumerate(mapping):
        if not isinstance(target, str) or target not in TARGETS:
            shown = shorten(printable_only(str(target)), 40)
            title = shorten(printable_only(header[index].strip()), 40)
            raise InvalidInput(
                f"'{shown}' is not a field a column can be mapped to (column "
                f"{index + 1}, '{title}'). Choose one of the listed fields."
            )
        checked.append(target)
    name_givers = (*_NAME_TARGETS, "company", "email", "other_emails")
    if not any(target in name_givers for target in checked):
        raise InvalidInput(
            "Map a column to the name (or to the first or last name). Without "
            "one, only a company or e-mail column can give the rows their names."
        )
    return checked


def csv_row_values(
    table: CsvTable, mapping: list[str], *, filename: str
) -> tuple[list[RowValues], list[str]]:
    """The record fields of every row of the table under a checked mapping.

    Args:
        table: the file as read_csv_table read it.
        mapping: one target per column, as check_mapping returns it.
        filename: the uploaded file's name, for the records' source.

    Returns:
        One RowValues per data row, and notes on the columns kept as extra.
    """
    plan = _plan_columns(table.header, table.rows, mapping)
    default_source = source_for(filename)
    rows = []
    for row in table.rows:
        values, problems = _row_values(row.cells, plan, len(table.header))
        if not values.get("source"):
            values["source"] = default_source
        problems.extend(_length_problems(values))
        rows.append(
            RowValues(
                number=row.number,
                line=row.line,
                values=values,
                problems=problems,
                where=f"row {row.number}",
            )
        )
    return rows, plan.notes


def decode_text(
    data: bytes,
    *,
    unreadable: str = UNREADABLE,
    binary_hint: str = BINARY_HINT_CSV,
    encoding_hint: str = "Save it as 'CSV UTF-8' and try again.",
) -> tuple[str, list[str]]:
    """The file's text, and a note when it was not UTF-8.

    Args:
        data: the file as it arrived.
        unreadable: how a refusal starts, naming what the file should have been.
        binary_hint: what to do with a binary file instead.
        encoding_hint: what to do with text in an unknown encoding.
    """
    text, _, notes = decode(
        data,
        unreadable=unreadable,
        binary_hint=binary_hint,
        encoding_hint=encoding_hint,
    )
    return text, notes


def decode(
    data: bytes,
    *,
    unreadable: str = UNREADABLE,
    binary_hint: str = BINARY_HINT_CSV,
    encoding_hint: str = "Save it as 'CSV UTF-8' and try again.",
) -> tuple[str, str, list[str]]:
    """The file's text, the name of its encoding, and a note when not UTF-8.

    UTF-8 and UTF-16 are read with or without a byte-order mark; UTF-16
    without one is told by its zero bytes, which fall on every other byte.

    Known limit: a file that is neither UTF-8 nor UTF-16 is read as Windows-1252,
    so Mac Roman or Cyrillic files come out with the wrong accented letters.

    Args:
        data: the file as it arrived.
        unreadable: how a refusal starts, naming what the file should have been.
        binary_hint: what to do with a binary file instead.
        encoding_hint: what to do with text in an unknown encoding.
    """
    binary = InvalidInput(f"{unreadable}: it looks like a binary file, {binary_hint}")
    notes: list[str] = []
    try:
        if data.startswith(codecs.BOM_UTF8):
            text, encoding = data[len(codecs.BOM_UTF8) :].decode("utf-8"), "UTF-8"
        elif data.startswith(codecs.BOM_UTF16_LE):
            text, encoding = data.decode("utf-16"), "UTF-16 (little-endian)"
        elif data.startswith(codecs.BOM_UTF16_BE):
            text, encoding = data.decode("utf-16"), "UTF-16 (big-endian)"
        elif b"\x00" in data:
            # Text other than UTF-16 never holds NUL bytes; spreadsheets do.
            encoding = _utf16_without_mark(data)
            if not encoding:
                raise binary
            codec = "utf-16-le" if "little" in encoding else "utf-16-be"
            text = data.decode(codec)
        else:
            try:
                text, encoding = data.decode("utf-8"), "UTF-8"
            except UnicodeDecodeError:
                text, encoding = data.decode("cp1252"), "Windows-1252"
                notes.append(
                    "The file is not UTF-8; it was read as Windows-1252 "
                    "(Western European)."
                )
    except UnicodeDecodeError as error:
        if b"\x00" in data and not data.startswith(codecs.BOM_UTF8):
            raise binary from error
        raise InvalidInput(
            f"{unreadable}: its text is not in UTF-8, UTF-16 or Windows-1252. "
            f"{encoding_hint}"
        ) from error

    # Some tools add a second byte-order mark or end with a DOS end-of-file mark.
    text = text.lstrip("\ufeff").rstrip("\x1a")
    if _BINARY_CHARACTERS.search(text):
        raise binary
    return text, encoding, notes


def _utf16_without_mark(data: bytes) -> str:
    """UTF-16 little- or big-endian when its zero bytes say so, else ''.

    Text in a Latin script written as UTF-16 has a zero in every other byte,
    always on the same side; binary files scatter them.
    """
    if len(data) % 2:
        return ""
    even, odd = data[0::2], data[1::2]
    half = len(data) // 2
    if odd.count(0) * 2 >= half and even.count(0) == 0:
        return "UTF-16 (little-endian)"
    if even.count(0) * 2 >= half and odd.count(0) == 0:
        return "UTF-16 (big-endian)"
    return ""


def _pick_delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever splits the header into most columns.

    A tie goes to the delimiter that gives more of the first rows the header's
    width, then to the comma.
    """
    best, best_score = DELIMITERS[0], (0, 0)
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            records = [
                cells
                for cells in islice(reader, _SNIFF_RECORDS)
                if any(cell.strip() for cell in cells)
            ]
        except csv.Error:
            continue
        if not records:
            continue
        width = len(records[0])
        score = (width, sum(1 for cells in records[1:] if len(cells) == width))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_table(text: str, delimiter: str) -> tuple[list[str], list[CsvRow], int]:
    """The header, the non-empty data rows, and how many rows were empty.

    Row numbers are those a spreadsheet shows: the first line is row 1, and a
    value with line breaks in it still takes one row. Line numbers are those a
    text editor shows for the row's first line.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    data_rows: list[CsvRow] = []
    empty_rows = 0
    row_number = 0
    next_line = 1
    try:
        for row_number, cells in enumerate(reader, start=1):
            line, next_line = next_line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                if header is not None:
                    empty_rows += 1
                continue
            if header is None:
                header = cells
                continue
            if len(data_rows) == MAX_ROWS:
                raise InvalidInput(
                    f"The file has more than {MAX_ROWS:,} rows. Split it into "
                    "smaller files and import them one by one."
                )
            data_rows.append(CsvRow(number=row_number, line=line, cells=cells))
    except csv.Error as error:
        raise InvalidInput(
            f"{UNREADABLE}: row {row_number + 1}: {error}. A quote may be missing."
        ) from error
    if header is None:
        raise InvalidInput("The file is empty.")
    return header, data_rows, empty_rows


def _header_key(header: str) -> str:
    """A header as compared to the aliases: no case, spaces or punctuation."""
    return _HEADER_PUNCTUATION.sub("", header.casefold())


def _plan_columns(
    header: list[str], data_rows: list[CsvRow], mapping: list[str]
) -> _ColumnPlan:
    """The columns of each field under the mapping, and the extra columns' keys."""
    columns: dict[str, list[int]] = {}
    extra = []
    used_keys: set[str] = set()
    next_copy: dict[str, int] = {}
    for index, target in enumerate(mapping):
        if target == TARGET_IGNORE:
            continue
        if target != TARGET_EXTRA:
            columns.setdefault(target, []).append(index)
            continue
        key = header[index].strip() or f"column {index + 1}"
        # One counter per name keeps a header of many equal names linear.
        if key in used_keys:
            base = key
            copy = next_copy.get(base, 2)
            while f"{base} ({copy})" in used_keys:
                copy += 1
            key = f"{base} ({copy})"
            next_copy[base] = copy + 1
        used_keys.add(key)
        extra.append((index, key))

    notes = []
    kept = [
        key
        for index, key in extra
        if any(index < len(row.cells) and row.cells[index].strip() for row in data_rows)
    ]
    if kept:
        named = ", ".join(kept[:MAX_COLUMNS_NAMED])
        if len(kept) > MAX_COLUMNS_NAMED:
            named += f" and {len(kept) - MAX_COLUMNS_NAMED} more"
        notes.append(
            f"Kept {count(kept, 'column')} without a matching field as extra "
            f"data: {named}."
        )
    company_header = header[columns["company"][0]] if "company" in columns else ""
    return _ColumnPlan(
        columns=columns,
        extra=extra,
        notes=notes,
        company_header=company_header.strip() or "related company",
    )


def _row_values(
    cells: list[str], plan: _ColumnPlan, width: int
) -> tuple[dict, list[str]]:
    """The record fields of one row, and what is wrong with it."""
    problems = []
    if len(cells) > width and any(cell.strip() for cell in cells[width:]):
        problems.append(f"{len(cells)} values, but the header has {width} columns")

    def cell(index: int) -> str:
        if index >= len(cells):
            return ""
        text = without_formula_guard(cells[index])
        return text.replace("\r\n", "\n").replace("\r", "\n").strip()

    def joined(name: str) -> str:
        texts = [cell(index) for index in plan.columns.get(name, [])]
        return _JOINERS.get(name, ", ").join(text for text in texts if text)

    values = {name: joined(name) for name in _PLAIN_FIELDS}
    values["street"] = joined("street")
    values["source"] = next(
        (cell(index) for index in plan.columns.get("source", []) if cell(index)), ""
    )
    labels = [cell(index) for index in plan.columns.get("labels", [])]
    values["labels"] = ", ".join(split_labels(",".join(labels)))
    extra = {key: cell(index) for index, key in plan.extra if cell(index)}

    emails: list[str] = []
    for index in [
        *plan.columns.get("email", []),
        *plan.columns.get("other_emails", []),
    ]:
        for address in _email_values(cell(index)):
            # One check per address: validating is most of an import's time.
            try:
                normalized = normalize_email(address)
            except InvalidInput:
                problems.append(f"'{shorten(address)}' is not a valid e-mail address")
                continue
            if normalized not in emails:
                emails.append(normalized)
    values["email"] = emails[0] if emails else ""
    values["other_emails"] = ", ".join(emails[1:])

    phones: list[str] = []
    for target in ("phone", "other_phones"):
        for index in plan.columns.get(target, []):
            numbers = _json_values(cell(index))
            if not numbers:
                numbers = (
                    [cell(index)]
                    if target == "phone"
                    else [part.strip() for part in _LIST_SEPARATORS.split(cell(index))]
                )
            for number in numbers:
                if number and number not in phones:
                    phones.append(number)
    values["phone"] = phones[0] if phones else ""
    values["other_phones"] = ", ".join(phones[1:])

    name = joined("name") or " ".join(
        text
        for text in (joined("first_name"), joined("middle_name"), joined("last_name"))
        if text
    )
    related_company = next(
        (cell(index) for index in plan.columns.get("company", []) if cell(index)), ""
    )
    is_company = any(
        _is_company(cell(index)) for index in plan.columns.get("is_company", [])
    )
    if not name:
        name = (related_company if not is_company else "") or values["email"]
        if not name:
            problems.append("no name, and no company or e-mail address to use as one")
    values["name"] = name
    if is_company and name:
        values["company"] = name
        # A company row keeps its own name; a parent company goes to extra data.
        if related_company and related_company != name:
            extra[plan.company_header] = related_company
    else:
        values["company"] = related_company

    values["extra_json"] = json.dumps(extra, ensure_ascii=False)
    return values, problems


def without_formula_guard(value: str) -> str:
    """A CSV cell without the apostrophe an export put before a formula-like value.

    Exports (this app's, see exports.neutralise_formula, and many others) write
    "'=1+2" or "'+1 555 0102" so that a spreadsheet shows the value instead of
    running it. That one apostrophe is removed when what follows it is exactly
    such a value; "'quoted'" or "O'Brien" stay as they are.

    Known limit: a value that really starts with an apostrophe before =, +, -
    or @ loses that apostrophe.
    """
    if value.startswith("'") and neutralise_formula(value[1:]) == value:
        return value[1:]
    return value


def split_labels(text: str) -> list[str]:
    """The labels in a cell such as "vip; fair, 2024": trimmed, each once.

    Labels that differ only in case count as one; the first spelling is kept.
    """
    labels: list[str] = []
    seen: set[str] = set()
    for part in _LIST_SEPARATORS.split(text or ""):
        label = " ".join(part.split())
        if label and label.casefold() not in seen:
            seen.add(label.casefold())
            labels.append(label)
    return labels


def _is_company(value: str) -> bool:
    """Whether an 'Is a company' or 'Company Type' cell says company."""
    return value.casefold() in _TRUE_WORDS


def _json_values(value: str) -> list[str]:
    """The values of a cell holding a JSON list, as Krayin exports them.

    Krayin writes `[{"label": "work", "value": "a@b.com"}]`; plain lists of
    strings are read too. Any other cell gives an empty list.
    """
    if not (value.startswith("[") and value.endswith("]")):
        return []
    try:
        items = json.loads(value)
    except ValueError:
        return []
    found = []
    for item in items:
        text = item.get("value") if isinstance(item, dict) else item
        if isinstance(text, str | int) and str(text).strip():
            found.append(str(text).strip())
    return found


def _email_values(value: str) -> list[str]:
    """The addresses in one e-mail cell: a JSON list, or split on , and ;."""
    if not value:
        return []
    found = _json_values(value)
    if found:
        return found
    return [part.strip() for part in _EMAIL_SEPARATORS.split(value) if part.strip()]


def _length_problems(values: dict) -> list[str]:
    """A problem for every value longer than its column in the database."""
    return [
        f"the {label} is too long ({length:,} characters, at most {limit:,})"
        for label, length, limit in too_long(values)
    ]


def too_long(values: dict) -> list[tuple[str, int, int]]:
    """Each record field longer than its column: its label, length and limit."""
    found = []
    for name, value in values.items():
        limit = Record.__table__.c[name].type.length
        if limit is not None and len(value) > limit:
            label = _FIELD_LABELS.get(name, name.replace("_", " "))
            found.append((label, len(value), limit))
    return found


def source_for(filename: str, what: str = "CSV import") -> str:
    """Where the records came from, as stored in each one."""
    # Browsers may send a full path such as C:\fakepath\people.csv.
    name = printable_only(re.split(r"[\\/]", filename.strip())[-1]).strip()
    limit = Record.__table__.c["source"].type.length
    return f"{what}: {name}"[:limit] if name else what


def problems_message(problems: list[str], noun: str = "rows") -> str:
    """One message naming the first problems and counting the rest."""
    shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
    hidden = len(problems) - MAX_PROBLEMS_SHOWN
    if hidden > 0:
        shown += f"; and {hidden} more"
    return f"Nothing was imported. Fix these {noun} and try again: {shown}."


def shorten(value: str, limit: int = 60) -> str:
    """The value cut to the limit, with an ellipsis when it was longer."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def count(items: list | int, noun: str) -> str:
    """ "1 row", "3 rows": a number with its noun."""
    number = items if isinstance(items, int) else len(items)
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
