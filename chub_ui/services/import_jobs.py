"""Importing with a preview: column mapping, row problems, duplicates, progress."""

import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from chub_ui import routes
from chub_ui.models import KIND_CONTACT, KIND_LEAD, Record, utcnow
from chub_ui.services import importing, records, vcards
from chub_ui.services.access import require_paid, require_user
from chub_ui.services.auth import CurrentUser
from chub_ui.services.errors import InvalidInput, NotAllowed
from chub_ui.services.importing import count, shorten
from chub_ui.services.plans import require_paid_account
from chub_ui.services.saving import (
    REASON_EMAIL,
    REASON_NAME_AND_COMPANY,
    REASON_PHONE,
    email_keys,
    name_and_company_key,
    phone_keys,
)
from chub_ui.services.text import printable_only
from chub_ui.settings import settings

logger = logging.getLogger(__name__)

FORMAT_CSV = "CSV"
FORMAT_VCARD = "vCard"
DUPLICATES_SKIP = "skip"
DUPLICATES_MERGE = "merge"
DUPLICATES_CREATE = "create"
DUPLICATE_CHOICES = (DUPLICATES_SKIP, DUPLICATES_MERGE, DUPLICATES_CREATE)
PREVIEW_ROWS = 10
CHUNK_ROWS = 500
# Characters of a cell shown in the preview table.
PREVIEW_CELL_CHARS = 80
UPLOADS_FOLDER = "imports"
# An upload nobody imported is removed when the next one arrives after a day.
UPLOAD_MAX_AGE_SECONDS = 24 * 60 * 60
KIND_MESSAGE = "Choose whether the file holds leads or contacts."

# Fields an import fills into a duplicate only where it is empty.
_FILLED_FIELDS = (
    "name",
    "company",
    "job_title",
    "website",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "description",
    "source",
)
# Columns a vCard preview shows, with their headings.
_VCARD_COLUMNS = (
    ("name", "Name"),
    ("company", "Company"),
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
)
_LIST_SEPARATORS = re.compile(r"[,;\n]+")
_UPLOAD_KEY = re.compile(r"[0-9]{1,19}-[A-Za-z0-9_-]{20,64}")


@dataclass(frozen=True)
class ImportPreview:
    """What the import page shows about an uploaded file before importing it.

    Problems and duplicates are dicts so the page can show them as they are:
    problems hold row (row or card number), line (first line in the file),
    where ("row 3" or "card 2") and reason; duplicates hold row, line, where,
    name, matched_on ("same e-mail", "same phone", "same name and company"),
    existing_id and existing_name with link (a record already in the CRM,
    else None, "" and ""), and first_row (the earlier row of the same file it
    repeats, else None).
    """

    format: str
    encoding: str
    delimiter: str
    kind: str
    columns: list[str]
    mapping: list[str]
    mapping_fixed: bool
    sample_rows: list[list[str]]
    total_rows: int
    good_rows: int
    problems: list[dict]
    duplicates: list[dict]
    photos_skipped: int
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ImportOutcome:
    """What an import did: counts, the new records, and the rows left out.

    stopped is empty after a complete import; after a database failure it
    says where the import stopped, and the counts are what was saved before.
    """

    created: int
    merged: int
    skipped: int
    failed: list[dict]
    record_ids: list[int]
    notes: list[str] = field(default_factory=list)
    stopped: str = ""


@dataclass
class _Prepared:
    """A file read and mapped: everything a preview and an import need."""

    format: str
    encoding: str
    delimiter: str
    columns: list[str]
    mapping: list[str]
    sample_rows: list[list[str]]
    rows: list[importing.RowValues]
    photos_skipped: int
    notes: list[str]


@dataclass
class _Match:
    """Which record or earlier row a row repeats, and on what."""

    reason: str
    existing_id: int | None = None
    existing_name: str = ""
    first_row: int | None = None


@dataclass
class _KeyIndex:
    """E-mail, phone and name-and-company keys, each to what had it first."""

    emails: dict[str, object] = field(default_factory=dict)
    phones: dict[str, object] = field(default_factory=dict)
    names: dict[tuple[str, str], object] = field(default_factory=dict)

    def add(self, values: dict, owner: object) -> None:
        """File the keys of a record's values under their owner."""
        for key in email_keys(values["email"], values["other_emails"]):
            self.emails.setdefault(key, owner)
        for key in phone_keys(values["phone"], values["other_phones"]):
            self.phones.setdefault(key, owner)
        name_key = name_and_company_key(values["name"], values["company"])
        if name_key:
            self.names.setdefault(name_key, owner)

    def find(self, values: dict) -> tuple[str, object] | None:
        """The surest match of the values: e-mail, then phone, then name."""
        for key in sorted(email_keys(values["email"], values["other_emails"])):
            if key in self.emails:
                return REASON_EMAIL, self.emails[key]
        for key in sorted(phone_keys(values["phone"], values["other_phones"])):
            if key in self.phones:
                return REASON_PHONE, self.phones[key]
        name_key = name_and_company_key(values["name"], values["company"])
        if name_key and name_key in self.names:
            return REASON_NAME_AND_COMPANY, self.names[name_key]
        return None


def preview_import(
    *,
    session: Session,
    user: CurrentUser,
    filename: str,
    data: bytes,
    kind: str,
    mapping: list[str] | None = None,
) -> ImportPreview:
    """Read an uploaded CSV or vCard file and say what importing it would do.

    Nothing is written. A vCard file's mapping is fixed; a CSV file's columns
    are mapped as guessed from the header unless a mapping is given.

    Args:
        session: the database session, read for duplicates.
        user: the acting user; duplicates are looked for in their account.
        filename: the uploaded file's name; ".vcf" or ".vcard", or a first
            line BEGIN:VCARD, makes it a vCard file.
        data: the file as it arrived.
        kind: KIND_LEAD or KIND_CONTACT; duplicates are of the same kind.
        mapping: for CSV, one of importing.TARGETS per column, or None.

    Returns:
        The ImportPreview: format, encoding, delimiter, columns and mapping,
        the first rows, counts, row problems, duplicates, photos skipped.

    Raises:
        PlanRequired: the account is on the free plan.
        InvalidInput: a bad kind or mapping, or a file that cannot be read
            at all (empty, binary, too large, too many rows or columns).
    """
    user = require_paid(user)
    kind = _checked_kind(kind)

    prepared = _prepare(data=data, filename=filename, mapping=mapping)
    matches = _duplicates(session, user, kind, prepared.rows)

    good = [row for row in prepared.rows if row.is_good]
    logger.info(
        "user %s previewed a %s import of %d rows (%d with problems, %d duplicates)",
        user.id,
        prepared.format,
        len(prepared.rows),
        len(prepared.rows) - len(good),
        len(matches),
    )
    return ImportPreview(
        format=prepared.format,
        encoding=prepared.encoding,
        delimiter=prepared.delimiter,
        kind=kind,
        columns=prepared.columns,
        mapping=prepared.mapping,
        mapping_fixed=prepared.format == FORMAT_VCARD,
        sample_rows=prepared.sample_rows,
        total_rows=len(prepared.rows),
        good_rows=len(good),
        problems=_problem_list(prepared.rows),
        duplicates=[
            _duplicate_item(row, matches[row.number])
            for row in good
            if row.number in matches
        ],
        photos_skipped=prepared.photos_skipped,
        notes=prepared.notes,
    )


def run_import(
    *,
    session: Session,
    user: CurrentUser,
    filename: str,
    data: bytes,
    kind: str,
    mapping: list[str] | None = None,
    duplicates: str = DUPLICATES_SKIP,
    only_good_rows: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportOutcome:
    """Import an uploaded file as its preview showed it, in committed chunks.

    The file is read again, so the rows, problems and duplicates are those of
    this moment. Rows are saved in chunks of chunk_rows, each chunk in its own
    transaction, so other users are not held up by one long transaction.

    Args:
        session: the database session; committed once per chunk.
        user: the acting user; the records belong to their account.
        filename: the uploaded file's name, for the format and the source.
        data: the file as it arrived.
        kind: KIND_LEAD or KIND_CONTACT.
        mapping: for CSV, one of importing.TARGETS per column, or None for
            the guess.
        duplicates: "skip" (the default), "merge" (fill the existing record's
            empty fields and add new e-mails, phones and labels; a non-empty
            value is never overwritten) or "create" (import it as a new
            record), for rows that repeat a record of the same account and
            kind or an earlier row of the file.
        only_good_rows: import the rows without problems and leave the others
            out; when False, any row with a problem refuses the whole file.
        on_progress: called with (rows done, rows to do) after each chunk.
        chunk_rows: rows per transaction.

    Returns:
        The ImportOutcome: created, merged and skipped counts, the rows left
        out with their reasons, the new records' ids, notes, and where the
        import stopped if the database failed midway.

    Raises:
        PlanRequired: the account is on the free plan now.
        InvalidInput: a bad kind, mapping or duplicates choice, an unreadable
            file, no row that can be imported, or rows with problems when
            only_good_rows is False; nothing is written.
    """
    user = require_paid_account(session=session, user=user)
    kind = _checked_kind(kind)
    if duplicates not in DUPLICATE_CHOICES:
        raise InvalidInput("Choose to skip, merge or create the duplicates.")
    only_good_rows = only_good_rows is True
    chunk_rows = max(1, min(int(chunk_rows), importing.MAX_ROWS))

    prepared = _prepare(data=data, filename=filename, mapping=mapping)
    bad_rows = [row for row in prepared.rows if not row.is_good]
    if bad_rows and not only_good_rows:
        _log_refusal(user, kind, prepared, bad_rows)
        raise InvalidInput(
            importing.problems_message(_problem_texts(bad_rows), _noun(prepared))
        )
    good_rows = [row for row in prepared.rows if row.is_good]
    if not good_rows:
        _log_refusal(user, kind, prepared, bad_rows)
        raise InvalidInput(
            f"No {_noun(prepared)[:-1]} of the file can be imported: every one has "
            "a problem. Nothing was imported."
        )
    matches = _duplicates(session, user, kind, good_rows)

    saver = _Saver(session=session, user=user, kind=kind, duplicates=duplicates)
    done = 0
    if on_progress is not None:
        on_progress(0, len(good_rows))
    for start in range(0, len(good_rows), chunk_rows):
        chunk = good_rows[start : start + chunk_rows]
        if not saver.save_chunk(chunk, matches):
            break
        done += len(chunk)
        if on_progress is not None:
            on_progress(done, len(good_rows))

    failed = _problem_list(bad_rows) + saver.failed
    logger.info(
        "user %s imported %ss from a %s file: %d created, %d merged, %d skipped, "
        "%d left out%s",
        user.id,
        kind,
        prepared.format,
        saver.created,
        saver.merged,
        saver.skipped,
        len(failed),
        " (stopped by a database error)" if saver.stopped else "",
    )
    return ImportOutcome(
        created=saver.created,
        merged=saver.merged,
        skipped=saver.skipped,
        failed=failed,
        record_ids=saver.record_ids,
        notes=prepared.notes,
        stopped=saver.stopped,
    )


def outcome_message(outcome: ImportOutcome, kind: str) -> str:
    """One sentence for the user: what was created, merged, skipped, left out."""
    parts = [f"Imported {count(outcome.created, kind)}"]
    if outcome.merged:
        parts.append(f"merged {count(outcome.merged, 'duplicate')} into existing ones")
    if outcome.skipped:
        parts.append(f"skipped {count(outcome.skipped, 'duplicate')}")
    if outcome.failed:
        parts.append(f"left out {count(outcome.failed, 'row')} with problems")
    text = ", ".join(parts) + "."
    return f"{text} {outcome.stopped}" if outcome.stopped else text


def keep_upload(*, user: CurrentUser, data: bytes) -> str:
    """Keep an uploaded file on the server until it is imported or dropped.

    Uploads older than a day are removed on the way, so abandoned previews do
    not pile up.

    Args:
        user: the acting user; only they can read the upload back.
        data: the file as it arrived.

    Returns:
        The upload's key, for read_upload and drop_upload.

    Raises:
        NotSignedIn: there is no acting user.
        InvalidInput: the file is larger than the import limit.
    """
    user = require_user(user)
    importing.check_size(data)
    folder = _uploads_folder()
    folder.mkdir(parents=True, exist_ok=True)
    _remove_old_uploads(folder)

    key = f"{user.id}-{secrets.token_urlsafe(24)}"
    (folder / key).write_bytes(data)
    return key


def read_upload(*, user: CurrentUser | None, key: str) -> bytes:
    """The bytes of an upload the user kept, or NotAllowed.

    Raises:
        NotSignedIn: there is no acting user.
        NotAllowed: the key is malformed, another user's, or gone.
    """
    user = require_user(user)
    path = _upload_path(user, key)
    try:
        return path.read_bytes()
    except OSError as error:
        raise NotAllowed(
            "The uploaded file is no longer there. Upload it again."
        ) from error


def drop_upload(*, user: CurrentUser | None, key: str) -> None:
    """Remove an upload the user kept; a missing one is fine."""
    if user is None:
        return
    try:
        _upload_path(user, key).unlink(missing_ok=True)
    except NotAllowed:
        return


def _uploads_folder() -> Path:
    return Path(settings.storage_dir) / UPLOADS_FOLDER


def _upload_path(user: CurrentUser, key: object) -> Path:
    """The file of the user's upload; the key names its owner."""
    if (
        not isinstance(key, str)
        or not _UPLOAD_KEY.fullmatch(key)
        or not key.startswith(f"{user.id}-")
    ):
        raise NotAllowed("The uploaded file is no longer there. Upload it again.")
    return _uploads_folder() / key


def _remove_old_uploads(folder: Path) -> None:
    oldest = time.time() - UPLOAD_MAX_AGE_SECONDS
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < oldest:
                path.unlink()
        except OSError:
            # Another worker removed it first.
            continue


def is_vcard(data: bytes, filename: str) -> bool:
    """Whether an upload is a vCard file, by its name or its first line."""
    if (filename or "").lower().endswith((".vcf", ".vcard")):
        return True
    head = data[:64].lstrip(b"\xef\xbb\xbf \r\n\t").upper()
    return head.startswith(b"BEGIN:VCARD")


def _checked_kind(kind: object) -> str:
    if kind not in (KIND_LEAD, KIND_CONTACT):
        raise InvalidInput(KIND_MESSAGE)
    return kind


def _prepare(*, data: bytes, filename: str, mapping: object) -> _Prepared:
    """Read the file as CSV or vCard and map its rows to record fields."""
    if not isinstance(data, bytes):
        raise InvalidInput("Choose one CSV or vCard file to import.")
    filename = filename if isinstance(filename, str) else ""
    if is_vcard(data, filename):
        return _prepare_vcards(data, filename)
    return _prepare_csv(data, filename, mapping)


def _prepare_csv(data: bytes, filename: str, mapping: object) -> _Prepared:
    table = importing.read_csv_table(data)
    if mapping is None:
        # A guess that finds no name is still shown: the user can map one.
        checked, guess_notes = importing.guess_mapping(table.header)
    else:
        checked, guess_notes = importing.check_mapping(mapping, table.header), []
    rows, column_notes = importing.csv_row_values(table, checked, filename=filename)
    width = len(table.header)
    # The cells as they will be imported, without an export's formula guard.
    sample = [
        [
            _shown_cell(importing.without_formula_guard(cell))
            for cell in (row.cells + [""] * width)[:width]
        ]
        for row in table.rows[:PREVIEW_ROWS]
    ]
    return _Prepared(
        format=FORMAT_CSV,
        encoding=table.encoding,
        delimiter=importing.DELIMITER_NAMES[table.delimiter],
        columns=[
            _shown_cell(title.strip()) or f"column {index + 1}"
            for index, title in enumerate(table.header)
        ],
        mapping=checked,
        sample_rows=sample,
        rows=rows,
        photos_skipped=0,
        notes=[*table.notes, *guess_notes, *column_notes],
    )


def _prepare_vcards(data: bytes, filename: str) -> _Prepared:
    vcard_file = vcards.read_vcard_file(data)
    if not vcard_file.cards:
        raise InvalidInput("The file holds no card with any details to import.")
    source = importing.source_for(filename, "vCard import")
    rows = [
        importing.RowValues(
            number=card.number,
            line=card.line,
            values=(
                vcards.record_values(card.values, source=source)
                if card.values is not None
                else {}
            ),
            problems=card.problems,
            where=f"card {card.number}",
        )
        for card in vcard_file.cards
    ]
    good = [row.values for row in rows if row.is_good]
    shown = [
        (name, title)
        for name, title in _VCARD_COLUMNS
        if any(values[name] for values in good)
    ]
    sample = []
    for row in rows[:PREVIEW_ROWS]:
        if row.is_good:
            sample.append([_shown_cell(row.values[name]) for name, _ in shown])
        else:
            sample.append(["(not readable)"] + [""] * (len(shown) - 1))
    return _Prepared(
        format=FORMAT_VCARD,
        encoding=vcard_file.encoding,
        delimiter="",
        columns=[title for _, title in shown],
        mapping=[name for name, _ in shown],
        sample_rows=sample,
        rows=rows,
        photos_skipped=vcard_file.photos_skipped,
        notes=vcard_file.notes,
    )


def _shown_cell(text: str) -> str:
    """A cell as the preview shows it: one line, printable, not too long."""
    return shorten(printable_only(" ".join(text.split())), PREVIEW_CELL_CHARS)


def _noun(prepared: _Prepared) -> str:
    return "cards" if prepared.format == FORMAT_VCARD else "rows"


def _where(row: importing.RowValues) -> str:
    """'row 3' or 'row 3 (line 4)' when a value with line breaks came before."""
    if row.line and row.line != row.number:
        return f"{row.where} (line {row.line})"
    return row.where


def _problem_texts(rows: list[importing.RowValues]) -> list[str]:
    return [f"{_where(row)}: {problem}" for row in rows for problem in row.problems]


def _problem_list(rows: list[importing.RowValues]) -> list[dict]:
    return [
        {
            "row": row.number,
            "line": row.line,
            "where": _where(row),
            "reason": "; ".join(row.problems),
        }
        for row in rows
        if row.problems
    ]


def _log_refusal(user, kind, prepared: _Prepared, bad_rows) -> None:
    logger.info(
        "%s import of %ss refused for user %s: %d of %d rows have problems",
        prepared.format,
        kind,
        user.id,
        len(bad_rows),
        len(prepared.rows),
    )


def _duplicates(
    session: Session, user: CurrentUser, kind: str, rows: list[importing.RowValues]
) -> dict[int, _Match]:
    """Per row number, the record of the account or earlier row it repeats.

    Records of the same account and kind count, matched as Save As matches
    them (services/saving.py): any e-mail, then the last nine digits of any
    phone, then name and company. An earlier row of the file counts too.

    Known limit: the account's records of the kind are read once per preview
    and import, which is quick for tens of thousands of records.
    """
    existing = _KeyIndex()
    found = session.exec(
        select(
            Record.id,
            Record.name,
            Record.company,
            Record.email,
            Record.other_emails,
            Record.phone,
            Record.other_phones,
        )
        .where(Record.account_id == user.account_id, Record.kind == kind)
        .order_by(Record.id)
    ).all()
    for record_id, name, company, email, other_emails, phone, other_phones in found:
        values = {
            "name": name,
            "company": company,
            "email": email,
            "other_emails": other_emails,
            "phone": phone,
            "other_phones": other_phones,
        }
        existing.add(values, ("record", record_id, name))

    earlier = _KeyIndex()
    matches: dict[int, _Match] = {}
    for row in rows:
        if not row.is_good:
            continue
        hit = existing.find(row.values)
        if hit is not None:
            reason, (_, record_id, name) = hit
            matches[row.number] = _Match(
                reason=reason, existing_id=record_id, existing_name=name
            )
        else:
            hit = earlier.find(row.values)
            if hit is not None:
                reason, (_, first_row, name) = hit
                matches[row.number] = _Match(
                    reason=reason, existing_name=name, first_row=first_row
                )
        earlier.add(row.values, ("row", row.number, row.values["name"]))
    return matches


def _duplicate_item(row: importing.RowValues, match: _Match) -> dict:
    return {
        "row": row.number,
        "line": row.line,
        "where": _where(row),
        "name": row.values["name"],
        "matched_on": match.reason,
        "existing_id": match.existing_id,
        "existing_name": match.existing_name,
        "link": routes.record_url(match.existing_id) if match.existing_id else "",
        "first_row": match.first_row,
    }


class _Saver:
    """Writes the rows of an import chunk by chunk, deciding on duplicates."""

    def __init__(
        self, *, session: Session, user: CurrentUser, kind: str, duplicates: str
    ) -> None:
        self.session = session
        self.user = user
        self.kind = kind
        self.duplicates = duplicates
        self.created = 0
        self.merged = 0
        self.skipped = 0
        self.record_ids: list[int] = []
        self.failed: list[dict] = []
        self.stopped = ""
        # The record (or its id) each row became or went into, for rows that
        # repeat it later in the file.
        self._row_records: dict[int, Record | int] = {}
        self._row_skipped: set[int] = set()

    def save_chunk(self, rows: list[importing.RowValues], matches: dict) -> bool:
        """Write one chunk in one transaction; False when the database failed."""
        created: list[Record] = []
        counts = (self.merged, self.skipped, len(self.failed))
        row_records = dict(self._row_records)
        row_skipped = set(self._row_skipped)
        try:
            for row in rows:
                match = matches.get(row.number)
                target = self._target(match, row_records, row_skipped)
                if match is not None and (
                    self.duplicates == DUPLICATES_SKIP or target == "skip"
                ):
                    self.skipped += 1
                    row_skipped.add(row.number)
                elif match is not None and self.duplicates == DUPLICATES_MERGE:
                    if self._merge(row, target):
                        self.merged += 1
                        row_records[row.number] = target
                else:
                    record = importing.new_record(self.user, self.kind, row.values)
                    self.session.add(record)
                    created.append(record)
                    row_records[row.number] = record
            self.session.flush()
            ids = [record.id for record in created]
            self.session.commit()
        except Exception as error:
            self.session.rollback()
            self.merged, self.skipped = counts[0], counts[1]
            del self.failed[counts[2] :]
            # Only the error's type: database errors quote the row values.
            logger.error(
                "import of %ss stopped for user %s at %s: %s",
                self.kind,
                self.user.id,
                rows[0].where,
                type(error).__name__,
            )
            self.stopped = (
                f"The import stopped at {rows[0].where}: the database refused the "
                f"change. The {count(self.created + self.merged, 'record')} "
                "imported or merged before it were saved; nothing from that row on "
                "was."
            )
            return False
        self.created += len(ids)
        self.record_ids.extend(ids)
        self._row_records, self._row_skipped = row_records, row_skipped
        return True

    def _target(self, match: _Match | None, row_records: dict, row_skipped: set):
        """The record (or its id) a duplicate goes into, or "skip"."""
        if match is None:
            return None
        if match.existing_id is not None:
            return match.existing_id
        if match.first_row in row_skipped:
            return "skip"
        return row_records.get(match.first_row, "skip")

    def _merge(self, row: importing.RowValues, target: Record | int) -> bool:
        """Fill the record's empty fields from the row; False if it cannot."""
        record = (
            target if isinstance(target, Record) else self.session.get(Record, target)
        )
        if (
            record is None
            or record.account_id != self.user.account_id
            or record.kind != self.kind
        ):
            self.failed.append(
                _failure(row, "the record it repeats was deleted meanwhile")
            )
            return False
        changes = merged_values(record, row.values)
        too_long = importing.too_long(changes)
        if too_long:
            label, length, limit = too_long[0]
            self.failed.append(
                _failure(
                    row,
                    f"merged into {record.name}, the {label} would be too long "
                    f"({length:,} characters, at most {limit:,})",
                )
            )
            return False
        for name, value in changes.items():
            setattr(record, name, value)
        if changes:
            record.updated_at = utcnow()
            self.session.add(record)
        return True


def _failure(row: importing.RowValues, reason: str) -> dict:
    return {"row": row.number, "line": row.line, "where": _where(row), "reason": reason}


def merged_values(record: Record, values: dict) -> dict:
    """The changes that merge imported values into an existing record.

    Empty fields are filled; a value already there is never overwritten. New
    e-mail addresses and phone numbers are added to the other e-mails and
    phones (or fill an empty e-mail or phone), new labels to the labels, and
    extra data under labels the record does not have yet.

    Args:
        record: the existing record.
        values: the imported row's record fields.

    Returns:
        Field name to new value, only for fields that change.
    """
    changes = {
        name: values[name]
        for name in _FILLED_FIELDS
        if values.get(name) and not (getattr(record, name) or "").strip()
    }

    known_emails = email_keys(record.email, record.other_emails)
    new_emails = [
        address
        for address in [values["email"], *_split(values["other_emails"])]
        if address and address.casefold() not in known_emails
    ]
    _add_to_list(changes, record, "email", "other_emails", new_emails)

    known_phones = phone_keys(record.phone, record.other_phones)
    known_texts = {
        text.strip() for text in [record.phone, *_split(record.other_phones)]
    }
    new_phones = []
    for phone in [values["phone"], *_split(values["other_phones"])]:
        keys = phone_keys(phone)
        if not phone or phone in known_texts or (keys and keys <= known_phones):
            continue
        known_phones |= keys
        known_texts.add(phone)
        new_phones.append(phone)
    _add_to_list(changes, record, "phone", "other_phones", new_phones)

    labels = importing.split_labels(f"{record.labels},{values.get('labels', '')}")
    if len(labels) > len(importing.split_labels(record.labels)):
        changes["labels"] = ", ".join(labels)

    extra = records.extra_values(record)
    added = False
    for key, value in json.loads(values.get("extra_json") or "{}").items():
        if key not in extra:
            extra[key] = value
            added = True
    if added:
        changes["extra_json"] = json.dumps(extra, ensure_ascii=False)
    return changes


def _add_to_list(changes: dict, record: Record, first: str, others: str, new: list):
    """Put new values into an empty first field, the rest after the others."""
    if not new:
        return
    if not (getattr(record, first) or "").strip():
        changes[first] = new.pop(0)
    if new:
        current = _split(getattr(record, others))
        changes[others] = ", ".join([*current, *new])


def _split(text: str) -> list[str]:
    return [part.strip() for part in _LIST_SEPARATORS.split(text or "") if part.strip()]
