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
from chub_ui.services.addresses import is_valid_email, normalize_email
from chub_ui.services.auth import CurrentUser
from chub_ui.services.errors import InvalidInput
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
        "otheremail",
        "otheremails",
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
        "otherphone",
    ),
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
}
# Fields that gather every matching column instead of only the first one.
_MULTI_COLUMN_FIELDS = {"email", "phone"}
# Record fields filled straight from one column.
_PLAIN_FIELDS = (
    "job_title",
    "website",
    "city",
    "region",
    "postal_code",
    "country",
    "description",
)
_FIELD_LABELS = {
    "job_title": "job title",
    "email": "e-mail",
    "other_emails": "list of other e-mails",
    "other_phones": "list of other phones",
    "postal_code": "postal code",
    "extra_json": "set of other columns",
}


@dataclass(frozen=True)
class ImportResult:
    """What an import created, and what the user should know about it."""

    created: int
    notes: list[str] = field(default_factory=list)
    record_ids: list[int] = field(default_factory=list)


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
        rows, notes = _prepare_rows(data, filename=filename)
    except InvalidInput:
        logger.info(
            "CSV import of %ss refused for user %s: file of %d bytes not usable",
            kind,
            user.id,
            len(data),
        )
        raise
    problems = [problem for _, _, row_problems in rows for problem in row_problems]
    if problems:
        logger.info(
            "CSV import of %ss refused for user %s: %d problems in %d rows",
            kind,
            user.id,
            len(problems),
            len(rows),
        )
        raise InvalidInput(problems_message(problems))

    records = [
        Record(
            account_id=user.account_id,
            created_by_id=user.id,
            kind=kind,
            **values,
        )
        for _, values, _ in rows
    ]
    record_ids = save_records(
        session=session, user=user, kind=kind, records=records, what="a CSV file"
    )
    return ImportResult(created=len(record_ids), notes=notes, record_ids=record_ids)


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


def _prepare_rows(
    data: bytes, *, filename: str
) -> tuple[list[tuple[int, dict, list[str]]], list[str]]:
    """Read the file into record values and problems per row, plus notes."""
    if len(data) > settings.import_max_bytes:
        megabytes = settings.import_max_bytes / (1024 * 1024)
        raise InvalidInput(
            f"The file is larger than {megabytes:g} MB. Split it into smaller files "
            "and import them one by one."
        )
    text, notes = decode_text(data)
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
    plan = _plan_columns(header, data_rows)
    notes.extend(plan.notes)
    if empty_rows:
        notes.append(f"Skipped {count(empty_rows, 'empty row')}.")

    default_source = source_for(filename)
    rows = []
    for row_number, cells in data_rows:
        values, problems = _row_values(cells, plan, row_number, len(header))
        if not values.get("source"):
            values["source"] = default_source
        problems.extend(_length_problems(values, row_number))
        rows.append((row_number, values, problems))
    return rows, notes


def decode_text(
    data: bytes,
    *,
    unreadable: str = UNREADABLE,
    binary_hint: str = BINARY_HINT_CSV,
    encoding_hint: str = "Save it as 'CSV UTF-8' and try again.",
) -> tuple[str, list[str]]:
    """The file's text, and a note when it was not UTF-8.

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
            text = data[len(codecs.BOM_UTF8) :].decode("utf-8")
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = data.decode("utf-16")
        elif b"\x00" in data:
            # Text other than UTF-16 never holds NUL bytes; spreadsheets do.
            raise binary
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("cp1252")
                notes.append(
                    "The file is not UTF-8; it was read as Windows-1252 "
                    "(Western European)."
                )
    except UnicodeDecodeError as error:
        raise InvalidInput(
            f"{unreadable}: its text is not in UTF-8, UTF-16 or Windows-1252. "
            f"{encoding_hint}"
        ) from error

    # Some tools add a second byte-order mark or end with a DOS end-of-file mark.
    text = text.lstrip("\ufeff").rstrip("\x1a")
    if _BINARY_CHARACTERS.search(text):
        raise binary
    return text, notes


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


def _read_table(
    text: str, delimiter: str
) -> tuple[list[str], list[tuple[int, list[str]]], int]:
    """The header, the non-empty data rows with their numbers, the empty count.

    Row numbers are those a spreadsheet shows: the first line is row 1, and a
    value with line breaks in it still takes one row.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    data_rows: list[tuple[int, list[str]]] = []
    empty_rows = 0
    row_number = 0
    try:
        for row_number, cells in enumerate(reader, start=1):
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
            data_rows.append((row_number, cells))
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
    header: list[str], data_rows: list[tuple[int, list[str]]]
) -> _ColumnPlan:
    """Match the header to record fields; every other column is extra data."""
    lookup = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
    columns: dict[str, list[int]] = {}
    for index, title in enumerate(header):
        name = lookup.get(_header_key(title))
        if name is None:
            continue
        if name in _MULTI_COLUMN_FIELDS or name not in columns:
            columns.setdefault(name, []).append(index)

    notes = []
    has_name = any(key in columns for key in ("name", "first_name", "last_name"))
    if has_name:
        # With a full-name column, name parts are kept as extra data, and a
        # "title" beside a name is a job title (or, with one, a courtesy title).
        if "name" in columns:
            for part in ("first_name", "middle_name", "last_name"):
                columns.pop(part, None)
        if "title" in columns and "job_title" not in columns:
            columns["job_title"] = columns["title"]
        columns.pop("title", None)
    elif "title" in columns:
        columns["name"] = columns.pop("title")
        title = header[columns["name"][0]].strip()
        notes.append(f"No name column found; used '{title}' as the name.")
    else:
        columns["name"] = [0]
        first_header = header[0].strip() or "column 1"
        notes.append(f"No name column found; used '{first_header}' as the name.")

    mapped = {index for indexes in columns.values() for index in indexes}
    extra = []
    used_keys: set[str] = set()
    next_copy: dict[str, int] = {}
    for index, title in enumerate(header):
        if index in mapped:
            continue
        key = title.strip() or f"column {index + 1}"
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

    kept = [
        key
        for index, key in extra
        if any(index < len(cells) and cells[index].strip() for _, cells in data_rows)
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
    cells: list[str], plan: _ColumnPlan, row_number: int, width: int
) -> tuple[dict, list[str]]:
    """The record fields of one row, and what is wrong with it."""
    problems = []
    if len(cells) > width and any(cell.strip() for cell in cells[width:]):
        problems.append(
            f"row {row_number}: {len(cells)} values, but the header has {width} columns"
        )

    def cell(index: int) -> str:
        if index >= len(cells):
            return ""
        return cells[index].replace("\r\n", "\n").replace("\r", "\n").strip()

    def first(name: str) -> str:
        indexes = plan.columns.get(name)
        return cell(indexes[0]) if indexes else ""

    values = {name: first(name) for name in _PLAIN_FIELDS}
    name = first("name") or " ".join(
        part
        for part in (first("first_name"), first("middle_name"), first("last_name"))
        if part
    )
    values["name"] = name
    if not name:
        problems.append(f"row {row_number}: no name")

    extra = {key: cell(index) for index, key in plan.extra if cell(index)}
    related_company = first("company")
    if _is_company(first("is_company")):
        values["company"] = name
        # A company row keeps its own name; a parent company goes to extra data.
        if related_company and related_company != name:
            extra[plan.company_header] = related_company
    else:
        values["company"] = related_company
    values["street"] = ", ".join(
        part for part in (first("street"), first("street2")) if part
    )
    values["source"] = first("source")

    emails: list[str] = []
    for index in plan.columns.get("email", []):
        for address in _email_values(cell(index)):
            if not is_valid_email(address):
                problems.append(
                    f"row {row_number}: '{shorten(address)}' is not a valid "
                    "e-mail address"
                )
            elif (normalized := normalize_email(address)) not in emails:
                emails.append(normalized)
    values["email"] = emails[0] if emails else ""
    values["other_emails"] = ", ".join(emails[1:])

    phones: list[str] = []
    for index in plan.columns.get("phone", []):
        for number in _json_values(cell(index)) or [cell(index)]:
            if number and number not in phones:
                phones.append(number)
    values["phone"] = phones[0] if phones else ""
    values["other_phones"] = ", ".join(phones[1:])

    values["extra_json"] = json.dumps(extra, ensure_ascii=False)
    return values, problems


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


def _length_problems(values: dict, row_number: int) -> list[str]:
    """A problem for every value longer than its column in the database."""
    problems = []
    for name, value in values.items():
        limit = Record.__table__.c[name].type.length
        if limit is not None and len(value) > limit:
            label = _FIELD_LABELS.get(name, name.replace("_", " "))
            problems.append(
                f"row {row_number}: the {label} is too long ({len(value):,} "
                f"characters, at most {limit:,})"
            )
    return problems


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
