"""Exports of an account's leads or contacts as CSV and vCard, and their links."""

import csv
import hashlib
import hmac
import io
import json
import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, date
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlmodel import Session, select

from chub_ui.models import Record, utcnow
from chub_ui.services.access import require_paid
from chub_ui.services.auth import CurrentUser, current_user_for
from chub_ui.services.errors import InvalidInput, NotSignedIn, PlanRequired
from chub_ui.services.records import (
    FIELD_LABELS,
    RECORD_KINDS,
    clean_list_view,
    clean_search,
    list_conditions,
    list_order,
    sort_key,
)
from chub_ui.services.text import LINE_BREAKS
from chub_ui.settings import settings

logger = logging.getLogger(__name__)

FORMAT_CSV = "csv"
FORMAT_VCARD = "vcf"
EXPORT_FORMATS = (FORMAT_CSV, FORMAT_VCARD)
EXPORT_PLAN_MESSAGE = (
    "Exporting leads and contacts is part of the paid plan. Upgrade to export "
    "your lists."
)
EXPORT_LINK_SECONDS = 120
# Records read per query, so a list of 100,000 never sits in memory at once.
EXPORT_BATCH_SIZE = 1000
# Text gathered before it is handed on, so a large export is a few hundred
# chunks rather than one per record.
CHUNK_CHARS = 64 * 1024

CSV_BOM = "\ufeff"
CSV_HEADER = (*(label for _, label in FIELD_LABELS), "Created")
# A cell whose first visible character is one of these is run as a formula by
# Excel, LibreOffice or Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@")
# A tab or carriage return before the first visible character can also make a
# spreadsheet read what follows as a formula.
FORMULA_LEADERS = ("\t", "\r")

VCARD_LINE_OCTETS = 75
# How other_emails and other_phones hold several values: addresses never
# contain spaces, phone numbers often do.
_EMAIL_SEPARATORS = re.compile(r"[,;\s]+")
_PHONE_SEPARATORS = re.compile(r"[,;\n]+")
_VCARD_BREAKS = re.compile(
    "\r\n|[" + "".join(re.escape(char) for char in sorted(LINE_BREAKS | {"\r"})) + "]"
)
# Control characters dropped from vCard values; tab and \n stay.
_VCARD_DROPPED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def check_export(
    *, user: CurrentUser | None, kind: str, fmt: str = FORMAT_CSV
) -> CurrentUser:
    """The user if they may export this list in this format.

    Args:
        user: the acting user.
        kind: "lead" or "contact".
        fmt: "csv" or "vcf".

    Returns:
        The user.

    Raises:
        NotSignedIn: without a user.
        PlanRequired: the account is on the free plan.
        InvalidInput: for another kind or format.
    """
    try:
        user = require_paid(user)
    except PlanRequired:
        raise PlanRequired(EXPORT_PLAN_MESSAGE) from None
    if kind not in RECORD_KINDS:
        raise InvalidInput("Choose leads or contacts.")
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput("Choose CSV or vCard.")
    return user


def export_rows(
    *,
    session: Session,
    user: CurrentUser | None,
    kind: str,
    search: str = "",
    tag: str = "",
    source: str = "",
    referred: str = "",
    sort: str = "",
) -> Iterator[Record]:
    """The account's leads or contacts as the list shows them, read in batches.

    The conditions and the order are the list's own (records.list_conditions
    and records.list_order), so the export holds exactly the filtered list.
    Access and filters are checked when this is called, not when the first
    record is read, so a refusal comes before any output.

    Args:
        session: an open session, only read from, kept open while iterating.
        user: the acting user.
        kind: "lead" or "contact".
        search: the list's search text.
        tag, source, referred: the list's filters, as list_conditions takes them.
        sort: the list's order, one of records.SORT_OPTIONS ("" newest first).

    Returns:
        An iterator of records that queries EXPORT_BATCH_SIZE rows at a time.

    Raises:
        NotSignedIn: without a user.
        PlanRequired: the account is on the free plan.
        InvalidInput: for another kind, filter value or sort.
    """
    user = check_export(user=user, kind=kind)
    conditions = list_conditions(
        user=user, kind=kind, search=search, tag=tag, source=source, referred=referred
    )
    sort_key(sort)
    return _in_list_order(session, conditions, sort)


def _in_list_order(session: Session, conditions: list, sort: str) -> Iterator[Record]:
    expression, _ = sort_key(sort)
    if expression is Record.created_at:
        return _by_time(session, conditions, sort)
    return _by_sorted_ids(session, conditions, sort)


def _by_time(session: Session, conditions: list, sort: str) -> Iterator[Record]:
    # Keyset paging along ix_record_account_kind_created: each batch starts
    # after the last record of the one before, so no cursor or offset is held
    # between batches.
    _, descending = sort_key(sort)
    after = None
    while True:
        query = select(Record).where(*conditions)
        if after is not None:
            created_at, record_id = after
            if descending:
                later = sa.or_(
                    Record.created_at < created_at,
                    sa.and_(Record.created_at == created_at, Record.id < record_id),
                )
            else:
                later = sa.or_(
                    Record.created_at > created_at,
                    sa.and_(Record.created_at == created_at, Record.id > record_id),
                )
            query = query.where(later)
        batch = session.exec(
            query.order_by(*list_order(sort)).limit(EXPORT_BATCH_SIZE)
        ).all()
        yield from batch
        if len(batch) < EXPORT_BATCH_SIZE:
            return
        after = (batch[-1].created_at, batch[-1].id)


def _by_sorted_ids(session: Session, conditions: list, sort: str) -> Iterator[Record]:
    # No index serves a name or company order, so the ids are sorted once
    # (100,000 ids are under a megabyte) and the records read by id in batches,
    # instead of sorting the whole list again for every batch.
    # Known limit: a record deleted during the export is left out, and one
    # edited during it is exported as it is when its batch is read.
    ids = session.exec(
        select(Record.id).where(*conditions).order_by(*list_order(sort))
    ).all()
    for start in range(0, len(ids), EXPORT_BATCH_SIZE):
        wanted = ids[start : start + EXPORT_BATCH_SIZE]
        found = session.exec(select(Record).where(Record.id.in_(wanted))).all()
        by_id = {record.id: record for record in found}
        yield from (by_id[record_id] for record_id in wanted if record_id in by_id)


def _encodable(text: str) -> str:
    """The text with lone surrogates, which UTF-8 cannot carry, replaced."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def neutralise_formula(value: str) -> str:
    """A cell value that a spreadsheet shows as text instead of running it.

    Args:
        value: the value as stored.

    Returns:
        The value with a leading apostrophe when it starts with =, +, - or @
        (after any white space) or with a tab or carriage return; otherwise
        the value unchanged.
    """
    if not value or not (value[0] in FORMULA_STARTS or value[0].isspace()):
        return value
    visible = value.lstrip()
    leading = value[: len(value) - len(visible)]
    # Phone numbers such as "+49 30 5550 1201" and numbers such as "-5" get
    # the apostrophe too: a formula can be made to look like either, and a
    # visible apostrophe is a smaller harm than a formula that runs.
    if visible.startswith(FORMULA_STARTS) or any(
        char in leading for char in FORMULA_LEADERS
    ):
        return "'" + value
    return value


def csv_cells(record: Record) -> list[str]:
    """One CSV row of a record, in CSV_HEADER's order, formulas neutralised."""
    values = [str(getattr(record, name) or "") for name, _ in FIELD_LABELS]
    # UTC without an offset, in the form spreadsheets read as a date and time.
    values.append(record.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"))
    return [neutralise_formula(_encodable(value)) for value in values]


def csv_export(
    *,
    session: Session,
    user: CurrentUser | None,
    kind: str,
    search: str = "",
    **view: str,
) -> Iterator[str]:
    """The list as CSV text, in chunks: a UTF-8 BOM, a header, a row per record.

    The BOM makes Excel read the file as UTF-8. Known limit: the extra fields
    kept from an import's unmapped columns are not exported.

    Args:
        session: an open session, kept open while iterating.
        user: the acting user.
        kind: "lead" or "contact".
        search: the list's search text.
        **view: the list's tag, source, referred and sort, as export_rows.

    Returns:
        An iterator of text chunks to encode as UTF-8 and send in order.

    Raises:
        NotSignedIn: without a user.
        PlanRequired: the account is on the free plan.
        InvalidInput: for another kind, filter value or sort.
    """
    rows = export_rows(session=session, user=user, kind=kind, search=search, **view)
    return _csv_chunks(rows)


def _csv_chunks(rows: Iterator[Record]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    yield CSV_BOM + buffer.getvalue()

    buffer.seek(0)
    buffer.truncate()
    for record in rows:
        writer.writerow(csv_cells(record))
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def vcard_text(value: str) -> str:
    """A value escaped for a vCard 3.0 line: \\, ; , and line breaks.

    Other control characters are dropped; every kind of line break becomes an
    escaped \\n.
    """
    text = _VCARD_BREAKS.sub("\n", _encodable(value))
    text = _VCARD_DROPPED.sub("", text)
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\n", "\\n")
    )


def fold_line(line: str) -> str:
    """A content line folded to at most 75 octets a line, with CRLF line ends.

    A continuation line starts with one space, which counts towards its 75
    octets; a character of several UTF-8 bytes is never split.
    """
    if len(line.encode("utf-8")) <= VCARD_LINE_OCTETS:
        return line + "\r\n"
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > VCARD_LINE_OCTETS:
            pieces.append("".join(current))
            current, size = [" "], 1
        current.append(char)
        size += width
    pieces.append("".join(current))
    return "\r\n".join(pieces) + "\r\n"


def _several(first: str, others: str, separators: re.Pattern) -> list[str]:
    """The first value and the others, trimmed, without blanks or repeats."""
    values: list[str] = []
    for value in [first or "", *separators.split(others or "")]:
        value = value.strip()
        if value and value not in values:
            values.append(value)
    return values


def _name_parts(name: str) -> tuple[str, str]:
    """The family and given names guessed from the one name a record holds.

    Known limit: without a comma the name is split at its last space, so
    "Anna de la Cruz" becomes given name "Anna de la" and family name "Cruz".
    """
    if "," in name:
        family, _, given = name.partition(",")
        return family.strip(), given.strip()
    given, _, family = name.strip().rpartition(" ")
    return family, given.strip()


def vcard_card(record: Record) -> str:
    """One vCard 3.0 of a record, folded, with CRLF line ends."""
    name = record.name.strip()
    family, given = _name_parts(name)
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        "FN:" + vcard_text(name or record.company or record.email or "Unnamed"),
        f"N:{vcard_text(family)};{vcard_text(given)};;;",
    ]
    if record.company:
        lines.append("ORG:" + vcard_text(record.company))
    if record.job_title:
        lines.append("TITLE:" + vcard_text(record.job_title))
    emails = _several(record.email, record.other_emails, _EMAIL_SEPARATORS)
    for index, email in enumerate(emails):
        kinds = "INTERNET,PREF" if index == 0 else "INTERNET"
        lines.append(f"EMAIL;TYPE={kinds}:{vcard_text(email)}")
    phones = _several(record.phone, record.other_phones, _PHONE_SEPARATORS)
    for index, phone in enumerate(phones):
        kinds = ";TYPE=PREF" if index == 0 else ""
        lines.append(f"TEL{kinds}:{vcard_text(phone)}")
    if record.website:
        lines.append("URL:" + vcard_text(record.website))
    address = (
        record.street,
        record.city,
        record.region,
        record.postal_code,
        record.country,
    )
    if any(address):
        lines.append("ADR:;;" + ";".join(vcard_text(part) for part in address))
    if record.description:
        lines.append("NOTE:" + vcard_text(record.description))
    lines.append("END:VCARD")
    return "".join(fold_line(line) for line in lines)


def vcard_export(
    *,
    session: Session,
    user: CurrentUser | None,
    kind: str,
    search: str = "",
    **view: str,
) -> Iterator[str]:
    """The list as vCard 3.0 text, in chunks of whole cards, one per record.

    Args:
        session: an open session, kept open while iterating.
        user: the acting user.
        kind: "lead" or "contact".
        search: the list's search text.
        **view: the list's tag, source, referred and sort, as export_rows.

    Returns:
        An iterator of text chunks to encode as UTF-8 and send in order.

    Raises:
        NotSignedIn: without a user.
        PlanRequired: the account is on the free plan.
        InvalidInput: for another kind, filter value or sort.
    """
    rows = export_rows(session=session, user=user, kind=kind, search=search, **view)
    return _vcard_chunks(rows)


def _vcard_chunks(rows: Iterator[Record]) -> Iterator[str]:
    cards: list[str] = []
    size = 0
    for record in rows:
        card = vcard_card(record)
        cards.append(card)
        size += len(card)
        if size >= CHUNK_CHARS:
            yield "".join(cards)
            cards, size = [], 0
    if cards:
        yield "".join(cards)


def export_file_name(kind: str, fmt: str, today: date | None = None) -> str:
    """The name an export is saved under, such as "contacts-2026-12-04.csv"."""
    today = today or utcnow().date()
    return f"{kind}s-{today.isoformat()}.{fmt}"


# The query parameter that carries each of the list's filters and its sort.
VIEW_PARAMETERS = {
    "tag": "tag",
    "source": "source",
    "referred": "referred",
    "sort": "sort",
}


def _export_signature(
    user_id: int, kind: str, fmt: str, search: str, view: dict, expires: int
) -> str:
    # JSON keeps the parts apart whatever the search text holds.
    parts = [view.get(name, "") for name in VIEW_PARAMETERS]
    message = json.dumps(["export", user_id, kind, fmt, search, parts, expires])
    key = settings.secret_key.encode("utf-8")
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def view_from_query(query) -> dict[str, str]:
    """The list's filters and sort from an export link's query, checked.

    Args:
        query: the request's query parameters (a mapping of text).

    Returns:
        tag, source, referred and sort, "" for each the link does not set.

    Raises:
        InvalidInput: a filter value or sort that the list does not offer.
    """
    return clean_list_view(
        **{
            name: query.get(parameter, "")
            for name, parameter in VIEW_PARAMETERS.items()
        }
    )


def export_link(
    *,
    session: Session,
    user: CurrentUser | None,
    kind: str,
    fmt: str,
    search: str = "",
    tag: str = "",
    source: str = "",
    referred: str = "",
    sort: str = "",
) -> str:
    """A short-lived link to one export for one user, after checking the plan.

    The plan is read again from the database, and the route checks it once
    more when the link is used. The link works without the session cookie, as
    the backend may sit on another host than the pages.

    Args:
        session: an open session, only read from.
        user: the acting user.
        kind: "lead" or "contact".
        fmt: "csv" or "vcf".
        search: the list's search text; the export holds what the list shows.
        tag, source, referred: the list's filters, as records.list_conditions.
        sort: the list's order, one of records.SORT_OPTIONS.

    Returns:
        The path and query of the export route.

    Raises:
        NotSignedIn: without a user, or for one that no longer exists.
        PlanRequired: the account is on the free plan.
        InvalidInput: for another kind, format, filter value or sort.
    """
    if user is not None:
        user = current_user_for(session, user.id)
    user = check_export(user=user, kind=kind, fmt=fmt)
    view = clean_list_view(tag=tag, source=source, referred=referred, sort=sort)

    text = clean_search(search)
    expires = int(time.time()) + EXPORT_LINK_SECONDS
    signature = _export_signature(user.id, kind, fmt, text, view, expires)
    shown = {VIEW_PARAMETERS[name]: value for name, value in view.items() if value}
    query = urlencode({"u": user.id, "e": expires, "q": text, **shown, "s": signature})
    return f"/api/export/{kind}.{fmt}?{query}"


def user_for_export_link(
    *,
    session: Session,
    kind: str,
    fmt: str,
    search: str,
    user_id: str,
    expires: str,
    signature: str,
    tag: str = "",
    source: str = "",
    referred: str = "",
    sort: str = "",
) -> CurrentUser:
    """The user an export link was made for, or NotSignedIn if it is not valid.

    The link is valid only for the kind, format, search, filters and sort it
    was made for, and only until it expires. The plan is not checked here.
    """
    try:
        user_number, expiry = int(user_id), int(expires)
        view = clean_list_view(tag=tag, source=source, referred=referred, sort=sort)
    except (TypeError, ValueError, InvalidInput):
        raise NotSignedIn() from None
    expected = _export_signature(user_number, kind, fmt, search or "", view, expiry)
    signature = signature if isinstance(signature, str) else ""
    # compare_digest refuses non-ASCII text instead of answering False.
    if (
        expiry < time.time()
        or not signature.isascii()
        or not hmac.compare_digest(expected, signature)
    ):
        raise NotSignedIn()
    return current_user_for(session, user_number)
