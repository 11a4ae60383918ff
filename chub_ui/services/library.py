"""The document library: checked uploads, stored files, lists and access."""

import asyncio
import codecs
import contextlib
import csv
import hashlib
import hmac
import io
import logging
import os
import re
import secrets
import time
import unicodedata
import zipfile
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from sqlmodel import Session, func, select

from chub_ui.db import open_session
from chub_ui.models import Account, Document, Referral, User, utcnow
from chub_ui.services import audit, referral_lifecycle
from chub_ui.services.access import require_user
from chub_ui.services.auth import CurrentUser, current_user_for
from chub_ui.services.errors import InvalidInput, NotAllowed, NotSignedIn
from chub_ui.services.records import (
    PAGE_SIZE,
    Page,
    page_bounds,
    search_conditions,
)
from chub_ui.services.text import clean_id
from chub_ui.settings import settings

logger = logging.getLogger(__name__)

MAX_NAME_BYTES = 255
# Enough of the start of a file to recognise it and to judge text and CSV.
SNIFF_BYTES = 64 * 1024
READ_CHUNK_BYTES = 1024 * 1024
TMP_FOLDER = "tmp"
FILES_FOLDER = "files"
PART_SUFFIX = ".part"
# Files younger than this are left alone by the sweeper: another process of the
# app may be in the middle of storing them.
SWEEP_MIN_AGE = timedelta(minutes=10)

LABEL_PDF = "PDF"
LABEL_IMAGE = "Image"
LABEL_TEXT = "Text"
LABEL_CSV = "CSV"
LABEL_WORD = "Word"
LABEL_EXCEL = "Excel"
LABEL_POWERPOINT = "PowerPoint"
LABEL_OPENDOCUMENT = "OpenDocument"
TYPE_LABELS = (
    LABEL_PDF,
    LABEL_IMAGE,
    LABEL_TEXT,
    LABEL_CSV,
    LABEL_WORD,
    LABEL_EXCEL,
    LABEL_POWERPOINT,
    LABEL_OPENDOCUMENT,
)

ALLOWED_TYPES_TEXT = "allowed are PDF, images, text, CSV and Office documents."
UNKNOWN_TYPE_MESSAGE = f"This file type is not accepted: {ALLOWED_TYPES_TEXT}"
EMPTY_FILE_MESSAGE = "The file is empty."
HTML_MESSAGE = (
    "HTML files are not accepted: a browser could run the scripts inside them."
)
SVG_MESSAGE = (
    "SVG images are not accepted: a browser could run the scripts inside them."
)

# Characters that change the direction of text, so that "invoice\u202efdp.exe"
# reads as "invoiceexe.pdf".
BIDI_CONTROLS = frozenset(
    [chr(code) for code in range(0x202A, 0x202F)]
    + [chr(code) for code in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u061c"]
)
_DRIVE = re.compile(r"^[A-Za-z]:")
_ODF_MIMETYPE = re.compile(r"^application/vnd\.oasis\.opendocument\.[a-z0-9.+-]{1,40}$")

_PDF = b"%PDF-"
_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
_GIFS = (b"GIF87a", b"GIF89a")
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

OOXML_TYPES = (
    (
        "word/",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        LABEL_WORD,
    ),
    (
        "xl/",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        LABEL_EXCEL,
    ),
    (
        "ppt/",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        LABEL_POWERPOINT,
    ),
)
# The stream every legacy Office file of a kind holds, as named in its
# directory (UTF-16LE); an OLE file without one (an installer, say) is refused.
OLE_STREAMS = (
    ("WordDocument", "application/msword", LABEL_WORD),
    ("Workbook", "application/vnd.ms-excel", LABEL_EXCEL),
    ("Book", "application/vnd.ms-excel", LABEL_EXCEL),
    ("PowerPoint Document", "application/vnd.ms-powerpoint", LABEL_POWERPOINT),
)
# Refused kinds that are worth naming, by the bytes they start with.
KNOWN_REFUSED = (
    (b"MZ", "Windows programs"),
    (b"\x7fELF", "Linux programs"),
    (b"\xcf\xfa\xed\xfe", "macOS programs"),
    (b"\xce\xfa\xed\xfe", "macOS programs"),
    (b"\xca\xfe\xba\xbe", "macOS programs"),
    (b"PK\x05\x06", "ZIP archives"),
    (b"\x1f\x8b", "gzip archives"),
    (b"Rar!\x1a\x07", "RAR archives"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archives"),
)
# Elements a browser would render as a page when a text starts with one of
# them, after any XML declaration, comments and white space.
HTML_ELEMENTS = frozenset(
    {"a", "base", "body", "div", "embed", "form", "frameset", "h1", "h2", "h3"}
    | {"h4", "h5", "h6", "head", "header", "html", "iframe", "img", "link"}
    | {"main", "meta", "object", "p", "script", "section", "span", "style"}
    | {"table", "template", "title"}
)
_FIRST_TAG = re.compile(r"<([a-z][a-z0-9-]*)[\s/>]")
SVG_STARTS = ("<svg", "<!doctype svg")
CSV_DELIMITERS = (",", ";", "\t")
# "Most lines": the share of rows that must have the same number of fields.
CSV_MIN_SHARE = 0.8


def human_size(size_bytes: int) -> str:
    """A size as people read it: "812 bytes", "1.2 MB", "25 MB".

    Args:
        size_bytes: the size in bytes.

    Returns:
        The size in bytes, KB, MB or GB (of 1024), with at most one decimal.
    """
    if size_bytes < 1024:
        return f"{size_bytes} byte" + ("" if size_bytes == 1 else "s")
    value = float(size_bytes)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            break
    text = f"{value:.1f}".removesuffix(".0")
    return f"{text} {unit}"


def type_labels() -> list[str]:
    """The type labels a library can be filtered by, in the order shown."""
    return list(TYPE_LABELS)


def check_document_name(name: str | None) -> str:
    """Check a file name given by the browser and return it trimmed.

    The name is only ever shown and offered as the download's name: files are
    stored under random names, so this guards people, not the disk.

    Args:
        name: the file's name as uploaded.

    Returns:
        The name without surrounding white space, in Unicode NFC form.

    Raises:
        InvalidInput: for an empty name, a name with folder parts, control or
            direction-changing characters, or more than 255 bytes in UTF-8.
    """
    raw = name if isinstance(name, str) else ""
    if any(unicodedata.category(char) == "Cs" for char in raw):
        raise InvalidInput(
            "The file name contains characters that cannot be stored. Rename "
            "the file and try again."
        )
    if any(char in BIDI_CONTROLS for char in raw):
        raise InvalidInput(
            "The file name contains right-to-left or other direction "
            "characters, which can disguise its real type. Rename the file "
            "and try again."
        )
    if any(unicodedata.category(char) in {"Cc", "Zl", "Zp"} for char in raw):
        raise InvalidInput(
            "The file name contains control characters such as line breaks or "
            "tabs. Rename the file and try again."
        )
    cleaned = unicodedata.normalize("NFC", raw.strip())
    if not cleaned:
        raise InvalidInput("The file has no name.")
    if (
        "/" in cleaned
        or "\\" in cleaned
        or cleaned in {".", ".."}
        or _DRIVE.match(cleaned)
    ):
        raise InvalidInput(
            "The file name cannot contain folder parts such as /, \\, .. or a "
            "drive letter."
        )
    if len(cleaned.encode("utf-8")) > MAX_NAME_BYTES:
        raise InvalidInput(
            f"The file name is too long: at most {MAX_NAME_BYTES} bytes are "
            "allowed (fewer characters for accented or non-Latin letters)."
        )
    return cleaned


def _refused(what: str) -> InvalidInput:
    return InvalidInput(f"{what} are not accepted: {ALLOWED_TYPES_TEXT}")


def _read_text(head: bytes, path: Path | None) -> tuple[str, str] | None:
    """The decoded start of a text file and its charset, or None if not text.

    Without a path the head is the whole content; with one, every byte after
    the head is checked too, so only the head is kept in memory.
    """
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, charset = "utf-16", "utf-16"
    elif head.startswith(codecs.BOM_UTF8):
        encoding, charset = "utf-8-sig", "utf-8"
    else:
        encoding, charset = "utf-8", "utf-8"
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    complete = path is None or path.stat().st_size <= len(head)

    try:
        text = decoder.decode(head, final=complete)
        if "\x00" in text:
            return None
        if not complete:
            with path.open("rb") as stream:
                stream.seek(len(head))
                while chunk := stream.read(READ_CHUNK_BYTES):
                    if "\x00" in decoder.decode(chunk):
                        return None
                if "\x00" in decoder.decode(b"", final=True):
                    return None
    except UnicodeDecodeError:
        return None

    if not complete:
        # The head may end inside a line; judge whole lines only.
        text = text.rpartition("\n")[0] or text
    return text, charset


def _skip_prologue(text: str) -> str:
    """The text after white space, XML declarations and comments at its start."""
    blank = "\ufeff \t\r\n\f"
    rest = text.lstrip(blank)
    while True:
        if rest.startswith("<?xml"):
            closing = "?>"
        elif rest.startswith("<!--"):
            closing = "-->"
        else:
            return rest
        end = rest.find(closing)
        if end < 0:
            return ""
        rest = rest[end + len(closing) :].lstrip(blank)


def _markup_refusal(text: str) -> InvalidInput | None:
    """Refuse text a browser would render as a page or a scripted image."""
    start = _skip_prologue(text).lower()
    if start.startswith(SVG_STARTS):
        return InvalidInput(SVG_MESSAGE)
    if not start.startswith("<"):
        return None
    # Markup that hides its page or image behind another element still counts.
    lowered = text.lower()
    if "<svg" in lowered:
        return InvalidInput(SVG_MESSAGE)
    first_tag = _FIRST_TAG.match(start)
    if (
        start.startswith("<!doctype html")
        or (first_tag is not None and first_tag.group(1) in HTML_ELEMENTS)
        or "<html" in lowered
        or "<script" in lowered
    ):
        return InvalidInput(HTML_MESSAGE)
    return None


def _looks_like_csv(text: str) -> bool:
    """Whether most rows split into the same number (above one) of fields."""
    for delimiter in CSV_DELIMITERS:
        if delimiter not in text:
            continue
        try:
            rows = [
                row
                for row in csv.reader(io.StringIO(text), delimiter=delimiter)
                if any(cell.strip() for cell in row)
            ]
        except csv.Error:
            continue
        if len(rows) < 2:
            continue
        fields, count = Counter(len(row) for row in rows).most_common(1)[0]
        if fields > 1 and count / len(rows) >= CSV_MIN_SHARE:
            return True
    return False


def _sniff_zip(source: Path | BinaryIO) -> tuple[str, str]:
    """Office Open XML or OpenDocument, told apart by the archive's entries."""
    try:
        with zipfile.ZipFile(source) as archive:
            names = archive.namelist()
            if "[Content_Types].xml" in names:
                for folder, content_type, label in OOXML_TYPES:
                    if any(name.startswith(folder) for name in names):
                        return content_type, label
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 100:
                mimetype = archive.read("mimetype").decode("ascii").strip()
                if _ODF_MIMETYPE.match(mimetype):
                    return mimetype, LABEL_OPENDOCUMENT
    except (
        zipfile.BadZipFile,
        OSError,
        ValueError,
        EOFError,
        RuntimeError,
        NotImplementedError,
    ) as error:
        raise InvalidInput(
            "This file looks like a ZIP archive but cannot be read; "
            f"{ALLOWED_TYPES_TEXT}"
        ) from error
    raise _refused("ZIP archives")


def _sniff_ole(head: bytes, path: Path | None) -> tuple[str, str]:
    """A legacy Word, Excel or PowerPoint file, by the streams it names."""
    # Known limit: the OLE directory is not parsed; a file passes as Word, Excel
    # or PowerPoint when the stream's name appears anywhere in it, so a crafted
    # container can pass, though it is still only ever served as an attachment.
    wanted = [
        (name.encode("utf-16-le"), content_type, label)
        for name, content_type, label in OLE_STREAMS
    ]
    overlap = max(len(pattern) for pattern, _, _ in wanted)
    stream = io.BytesIO(head) if path is None else path.open("rb")
    with stream:
        tail = b""
        while chunk := stream.read(READ_CHUNK_BYTES):
            window = tail + chunk
            for pattern, content_type, label in wanted:
                if pattern in window:
                    return content_type, label
            tail = window[-overlap:]
    raise InvalidInput(
        "This file is an OLE container but not a Word, Excel or PowerPoint "
        f"document; {ALLOWED_TYPES_TEXT}"
    )


def sniff_type(head: bytes, *, path: Path | None = None) -> tuple[str, str]:
    """Decide a file's type from its content; the name plays no part.

    A ZIP-based Office file can only be recognised from its whole archive, and
    text only by checking every byte, so an upload passes the finished file:
    ``sniff_type(first_bytes, path=that_file)``. Without a path, ``head`` is
    taken to be the whole content.

    Args:
        head: the start of the file (at least SNIFF_BYTES when there is that
            much), or all of it when no path is given.
        path: the complete file, for the checks that need more than its start.

    Returns:
        The content type to serve it with and the label shown in the library,
        such as ("application/pdf", "PDF").

    Raises:
        InvalidInput: for an empty file, HTML, SVG, programs, archives and any
            other type that is not allowed; the message says what was found.
    """
    if not head:
        raise InvalidInput(EMPTY_FILE_MESSAGE)
    if head.startswith(_PDF):
        return "application/pdf", LABEL_PDF
    if head.startswith(_PNG):
        return "image/png", LABEL_IMAGE
    if head.startswith(_JPEG):
        return "image/jpeg", LABEL_IMAGE
    if head.startswith(_GIFS):
        return "image/gif", LABEL_IMAGE
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp", LABEL_IMAGE
    if head.startswith(_ZIP):
        return _sniff_zip(path if path is not None else io.BytesIO(head))
    if head.startswith(_OLE):
        return _sniff_ole(head, path)
    for magic, what in KNOWN_REFUSED:
        if head.startswith(magic):
            raise _refused(what)

    decoded = _read_text(head, path)
    if decoded is None:
        raise InvalidInput(UNKNOWN_TYPE_MESSAGE)
    text, charset = decoded
    refusal = _markup_refusal(text)
    if refusal is not None:
        raise refusal
    if _looks_like_csv(text):
        return f"text/csv; charset={charset}", LABEL_CSV
    return f"text/plain; charset={charset}", LABEL_TEXT


def sniff_file(path: Path) -> tuple[str, str]:
    """Decide the type of a finished file on disk; see sniff_type.

    Args:
        path: the file to look at.

    Returns:
        The content type and the library's type label.

    Raises:
        InvalidInput: for a file of a type that is not allowed.
    """
    with path.open("rb") as stream:
        head = stream.read(SNIFF_BYTES)
    return sniff_type(head, path=path)


def _storage_root(storage_dir: Path | None) -> Path:
    return Path(storage_dir) if storage_dir is not None else settings.storage_dir


def _remove(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _sync_folder(folder: Path) -> None:
    # A rename is durable only once the folder itself is on disk; not every
    # platform lets a folder be opened for that, and then it is skipped.
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _document_item(
    document: Document, *, referral: Referral | None = None, shared_by: str = ""
) -> dict:
    """The public shape of a library entry."""
    listed_at = referral.created_at if referral is not None else document.created_at
    return {
        "id": document.id,
        "name": document.name,
        "type_label": document.type_label,
        "size": human_size(document.size_bytes),
        "size_bytes": document.size_bytes,
        "date": f"{listed_at:%Y-%m-%d %H:%M}",
        "shared_by": shared_by,
        "is_own": referral is None,
        "referral_id": referral.id if referral is not None else 0,
    }


class PendingUpload:
    """A file arriving in chunks, kept in a temporary file until it is finished.

    Make one with start_upload, call write for every chunk as it arrives, then
    finish to check and record it, or abort to throw it away. Writing and
    finishing touch the disk (and finish the database): from an async handler,
    call them through asyncio.to_thread.
    """

    def __init__(self, *, user: CurrentUser, name: str, storage_dir: Path) -> None:
        """Open the temporary file; use start_upload rather than this.

        Args:
            user: who uploads.
            name: the checked file name.
            storage_dir: the storage folder holding tmp/ and files/.
        """
        self.user = user
        self.name = name
        self.max_bytes = settings.document_max_bytes
        self.size_bytes = 0
        self._files_dir = storage_dir / FILES_FOLDER
        tmp_dir = storage_dir / TMP_FOLDER
        tmp_dir.mkdir(parents=True, exist_ok=True)
        self._files_dir.mkdir(parents=True, exist_ok=True)
        self._tmp_path = tmp_dir / f"{secrets.token_hex(16)}{PART_SUFFIX}"
        self._stream = self._tmp_path.open("xb")
        self._sha256 = hashlib.sha256()
        self._done = False

    @property
    def is_done(self) -> bool:
        """Whether the upload was finished, refused or aborted."""
        return self._done

    def _check_open(self) -> None:
        if self._done:
            raise InvalidInput("This upload has already ended; start it again.")

    def write(self, chunk: bytes) -> None:
        """Append a chunk; refuse the file as soon as it passes the size limit.

        Args:
            chunk: the next bytes of the file.

        Raises:
            InvalidInput: the file is larger than CHUB_DOCUMENT_MAX_BYTES, or the
                upload has already ended. The temporary file is gone by then.
        """
        self._check_open()
        if self.size_bytes + len(chunk) > self.max_bytes:
            self.abort()
            logger.info(
                "upload by user %s refused: larger than %s bytes",
                self.user.id,
                self.max_bytes,
            )
            raise InvalidInput(
                f"The file is larger than {human_size(self.max_bytes)}, the "
                "limit for one file; nothing was stored."
            )

        try:
            self._stream.write(chunk)
        except BaseException:
            self.abort()
            raise
        self._sha256.update(chunk)
        self.size_bytes += len(chunk)

    def finish(self, *, session: Session) -> dict:
        """Check the whole file, move it into storage and record it.

        The file is flushed to disk and renamed before its row is committed, so
        a row always has its file; any failure removes the file again and
        leaves no row.

        Args:
            session: an open session; it is committed, or rolled back on failure.

        Returns:
            The new document as a library entry (see list_library).

        Raises:
            InvalidInput: an empty file, a type that is not allowed, or an
                account that would pass its storage quota.
        """
        self._check_open()
        self._done = True
        stored_path: Path | None = None
        try:
            self._stream.flush()
            os.fsync(self._stream.fileno())
            self._stream.close()
            if self.size_bytes == 0:
                raise InvalidInput(EMPTY_FILE_MESSAGE)
            content_type, type_label = sniff_file(self._tmp_path)

            stored_name = secrets.token_hex(16)
            stored_path = self._files_dir / stored_name
            self._tmp_path.replace(stored_path)
            _sync_folder(self._files_dir)
            # Locking the account row (PostgreSQL) and writing the row before
            # adding up (SQLite's single writer) make two uploads at once
            # count each other.
            session.exec(
                select(Account.id)
                .where(Account.id == self.user.account_id)
                .with_for_update()
            ).one()
            document = Document(
                owner_id=self.user.id,
                account_id=self.user.account_id,
                name=self.name,
                stored_name=stored_name,
                content_type=content_type,
                type_label=type_label,
                size_bytes=self.size_bytes,
                sha256=self._sha256.hexdigest(),
            )
            session.add(document)
            session.flush()
            _check_quota(session, self.user.account_id)
            item = _document_item(document)
            session.commit()
        except BaseException as error:
            session.rollback()
            self._stream.close()
            _remove(self._tmp_path)
            _remove(stored_path)
            if isinstance(error, InvalidInput):
                logger.info(
                    "upload by user %s refused: %s", self.user.id, error.message
                )
            raise

        logger.info(
            "document %s stored for user %s: %s, %s bytes",
            item["id"],
            self.user.id,
            type_label,
            self.size_bytes,
        )
        return item

    def abort(self) -> None:
        """Throw the upload away: close and remove the temporary file."""
        self._done = True
        self._stream.close()
        _remove(self._tmp_path)


def _check_quota(session: Session, account_id: int) -> None:
    """Refuse when the account's documents, the new one included, pass the quota."""
    used = session.exec(
        select(func.coalesce(func.sum(Document.size_bytes), 0)).where(
            Document.account_id == account_id
        )
    ).one()
    quota = settings.account_quota_bytes
    if used > quota:
        raise InvalidInput(
            f"This file would take your account over its {human_size(quota)} of "
            "storage; delete documents or ask your administrator for more room. "
            "Nothing was stored."
        )


def start_upload(
    *, user: CurrentUser, name: str, storage_dir: Path | None = None
) -> PendingUpload:
    """Check the name and open a temporary file for an upload.

    Files go to the app's own storage folder (CHUB_STORAGE_DIR), never to
    Reflex's public upload folder.

    Args:
        user: who uploads.
        name: the file's name as the browser gave it.
        storage_dir: the storage folder; CHUB_STORAGE_DIR by default.

    Returns:
        The pending upload, ready for its chunks.

    Raises:
        NotSignedIn: without a user.
        InvalidInput: for a name check_document_name refuses.
    """
    # Known limit: the account's quota is checked when the file is finished,
    # so an account that is already full learns it only after the upload.
    user = require_user(user)
    try:
        checked = check_document_name(name)
    except InvalidInput as error:
        logger.info("upload by user %s refused: %s", user.id, error.message)
        raise
    return PendingUpload(
        user=user, name=checked, storage_dir=_storage_root(storage_dir)
    )


def store_document(
    *,
    session: Session,
    user: CurrentUser,
    name: str,
    data: bytes,
    storage_dir: Path | None = None,
) -> dict:
    """Store a whole file at once, through the same checks as a streamed upload.

    Args:
        session: an open session; it is committed.
        user: who uploads.
        name: the file's name.
        data: its content.
        storage_dir: the storage folder; CHUB_STORAGE_DIR by default.

    Returns:
        The new document as a library entry.

    Raises:
        InvalidInput: for a refused name, size, type or quota; nothing is kept.
    """
    upload = start_upload(user=user, name=name, storage_dir=storage_dir)
    try:
        for start in range(0, len(data), READ_CHUNK_BYTES):
            upload.write(data[start : start + READ_CHUNK_BYTES])
        return upload.finish(session=session)
    finally:
        if not upload.is_done:
            upload.abort()


def sweep_storage(
    *,
    session: Session,
    storage_dir: Path | None = None,
    min_age: timedelta = SWEEP_MIN_AGE,
) -> int:
    """Remove what interrupted uploads left: temporary files and unrecorded files.

    Meant to run when the app starts. Files younger than min_age are kept, in
    case another process of the app is storing them right now.

    Args:
        session: an open session, only read from.
        storage_dir: the storage folder; CHUB_STORAGE_DIR by default.
        min_age: how old a leftover must be to be removed.

    Returns:
        How many files were removed.
    """
    root = _storage_root(storage_dir)
    cutoff = (utcnow() - min_age).timestamp()

    def old_enough(path: Path) -> bool:
        try:
            return path.is_file() and path.stat().st_mtime <= cutoff
        except FileNotFoundError:
            return False

    parts = [
        path for path in (root / TMP_FOLDER).glob(f"*{PART_SUFFIX}") if old_enough(path)
    ]
    recorded = set(session.exec(select(Document.stored_name)).all())
    orphans = [
        path
        for path in (root / FILES_FOLDER).glob("*")
        if re.fullmatch(r"[0-9a-f]{32}", path.name)
        and path.name not in recorded
        and old_enough(path)
    ]
    for path in parts + orphans:
        _remove(path)

    logger.info(
        "storage sweep: %s temporary and %s unrecorded file(s) removed",
        len(parts),
        len(orphans),
    )
    return len(parts) + len(orphans)


def _sweep_now() -> int:
    with open_session() as session:
        return sweep_storage(session=session)


async def storage_sweeper() -> None:
    """Sweep the storage folder once at start; a Reflex lifespan task."""
    try:
        await asyncio.to_thread(_sweep_now)
    except Exception:
        logger.exception("storage sweep failed; leftovers stay until next start")


def get_own_document(
    *, session: Session, user: CurrentUser, document_id: int
) -> Document:
    """A document the user owns, or NotAllowed (also for a missing one).

    Args:
        session: an open session.
        user: the acting user.
        document_id: the document's id.

    Returns:
        The document row.

    Raises:
        NotSignedIn: without a user.
        NotAllowed: the document does not exist or is someone else's.
    """
    user = require_user(user)
    document = _get_document(session, document_id)
    if document is None or document.owner_id != user.id:
        raise NotAllowed()
    return document


def _get_document(session: Session, document_id) -> Document | None:
    try:
        return session.get(Document, clean_id(document_id))
    except NotAllowed:
        return None


def _open_grant(session: Session, user: CurrentUser, document_id: int) -> int | None:
    """The id of the user's latest referral of the document that still holds.

    Revoked, declined and expired referrals give no access.
    """
    return session.exec(
        select(Referral.id)
        .where(
            Referral.document_id == document_id,
            Referral.recipient_id == user.id,
            *referral_lifecycle.access_conditions(),
        )
        .order_by(Referral.id.desc())
    ).first()


def _has_grant(session: Session, user: CurrentUser, document_id: int) -> bool:
    return _open_grant(session, user, document_id) is not None


def record_download(*, session: Session, user: CurrentUser, document_id: int) -> None:
    """Note a download the route is about to serve: an audit line, and for a
    recipient their referral's first view. Commits.

    Call it after document_for_download allowed the download.
    """
    document = session.get(Document, document_id)
    referral_id = None
    if document.owner_id != user.id:
        referral_id = _open_grant(session, user, document.id)

    audit.record_event(
        session,
        action=audit.DOWNLOAD,
        actor=user,
        account_id=document.account_id,
        target=f"Document {document.name}",
        detail="by its owner" if referral_id is None else f"referral #{referral_id}",
    )
    if referral_id is not None:
        referral = session.get(Referral, referral_id)
        referral_lifecycle.mark_viewed(session, referral=referral, user=user)
    session.commit()


def document_for_download(
    *,
    session: Session,
    user: CurrentUser,
    document_id: int,
    storage_dir: Path | None = None,
) -> tuple[Path, dict]:
    """The file of a document the user owns or was referred, to send to them.

    Args:
        session: an open session.
        user: the acting user.
        document_id: the document's id.
        storage_dir: the storage folder; CHUB_STORAGE_DIR by default.

    Returns:
        The stored file's path, and the id, name, content_type, type_label,
        size_bytes and sha256 of the document.

    Raises:
        NotSignedIn: without a user.
        NotAllowed: the same for a missing document, someone else's, one whose
            referral was withdrawn, and one whose file is missing.
    """
    user = require_user(user)
    document = _get_document(session, document_id)
    if document is None or (
        document.owner_id != user.id and not _has_grant(session, user, document.id)
    ):
        raise NotAllowed()

    path = _storage_root(storage_dir) / FILES_FOLDER / document.stored_name
    if not path.is_file():
        logger.error("document %s has no file in storage", document.id)
        raise NotAllowed()
    return path, {
        "id": document.id,
        "name": document.name,
        "content_type": document.content_type,
        "type_label": document.type_label,
        "size_bytes": document.size_bytes,
        "sha256": document.sha256,
    }


def list_library(
    *,
    session: Session,
    user: CurrentUser,
    search: str = "",
    type_label: str = "",
    page: int = 1,
) -> Page:
    """The user's own documents and those referred to them, newest first.

    Own documents are dated by their upload, referred ones by their referral;
    a document referred to the user more than once is listed once, by its
    latest referral that still holds (not revoked, declined or expired).

    Args:
        session: an open session.
        user: the acting user.
        search: part of a document's name, any case.
        type_label: one of type_labels(), or "" for every type.
        page: the page to show, clamped to what exists.

    Returns:
        A page of entries: id, name, type_label, size, size_bytes, date,
        shared_by ("" for own documents), is_own and referral_id (0 for own).

    Raises:
        NotSignedIn: without a user.
        InvalidInput: for a type label that is not in the list.
    """
    user = require_user(user)
    label = (type_label or "").strip()
    if label and label not in TYPE_LABELS:
        raise InvalidInput("Choose a type from the list.")

    filters = search_conditions(search, Document.name)
    if label:
        filters.append(Document.type_label == label)
    own = select(
        Document.id.label("document_id"),
        Document.created_at.label("listed_at"),
        sa.literal(0, sa.Integer).label("referral_id"),
    ).where(Document.owner_id == user.id, *filters)
    latest = (
        select(func.max(Referral.id))
        .where(
            Referral.recipient_id == user.id,
            Referral.document_id.is_not(None),
            *referral_lifecycle.access_conditions(),
        )
        .group_by(Referral.document_id)
    )
    shared = (
        select(Document.id, Referral.created_at, Referral.id)
        .join(Referral, Referral.document_id == Document.id)
        .where(Referral.id.in_(latest), Document.owner_id != user.id, *filters)
    )
    entries = sa.union_all(own, shared).subquery()

    total = session.exec(select(func.count()).select_from(entries)).one()
    page, pages = page_bounds(page, total)
    rows = session.exec(
        select(entries.c.document_id, entries.c.referral_id)
        .order_by(
            entries.c.listed_at.desc(),
            entries.c.referral_id.desc(),
            entries.c.document_id.desc(),
        )
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    items = []
    for document_id, referral_id in rows:
        document = session.get(Document, document_id)
        if not referral_id:
            items.append(_document_item(document))
            continue
        referral = session.get(Referral, referral_id)
        by = session.get(User, referral.referrer_id)
        items.append(
            _document_item(
                document, referral=referral, shared_by=by.full_name or by.email
            )
        )
    return Page(items, total, page, pages)


DOWNLOAD_LINK_SECONDS = 120


def _link_signature(user_id: int, document_id: int, expires: int) -> str:
    message = f"download:{user_id}:{document_id}:{expires}".encode()
    key = settings.secret_key.encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def download_link(*, session: Session, user: CurrentUser, document_id: int) -> str:
    """A short-lived link to one document for one user, after checking access.

    The link works without the session cookie (the backend may sit on another
    host than the pages), and the route checks the grant again when it is used.

    Returns:
        The path and query of the download route.

    Raises:
        NotAllowed: the user may not download the document.
    """
    _, document = document_for_download(
        session=session, user=user, document_id=document_id
    )
    expires = int(time.time()) + DOWNLOAD_LINK_SECONDS
    signature = _link_signature(user.id, document["id"], expires)
    return (
        f"/api/documents/{document['id']}/download"
        f"?u={user.id}&e={expires}&s={signature}"
    )


def user_for_download_link(
    *, session: Session, document_id: int, user_id: str, expires: str, signature: str
) -> CurrentUser:
    """The user a download link was made for, or NotSignedIn if it is not valid."""
    try:
        user_number, expiry = int(user_id), int(expires)
    except (TypeError, ValueError):
        raise NotSignedIn() from None
    expected = _link_signature(user_number, int(document_id), expiry)
    given = signature if isinstance(signature, str) and signature.isascii() else ""
    if expiry < time.time() or not hmac.compare_digest(expected, given):
        raise NotSignedIn()
    return current_user_for(session, user_number)
