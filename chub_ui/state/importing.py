"""State of the import page: upload, preview and mapping, then the import."""

import asyncio
import logging

import reflex as rx

from chub_ui.models import KIND_CONTACT, KIND_LEAD
from chub_ui.services import auth, import_jobs
from chub_ui.services.errors import ServiceError
from chub_ui.services.importing import count
from chub_ui.settings import settings
from chub_ui.state.records import PAID_ONLY_NOTICE
from chub_ui.state.session import SessionState

logger = logging.getLogger(__name__)

UPLOAD_ID = "csv_upload"
# Problems and duplicates listed on the page; the rest are counted.
ITEMS_SHOWN = 50
# Seconds between two updates of the progress bar.
PROGRESS_SECONDS = 0.4


def _preview_in_thread(token: str, key: str, data: bytes | None, **preview) -> tuple:
    # Reading a large file takes seconds: it runs here, off the event loop.
    with rx.session() as session:
        user = auth.user_for_token(session, token)
        if data is not None:
            key = import_jobs.keep_upload(user=user, data=data)
        else:
            data = import_jobs.read_upload(user=user, key=key)
        return key, import_jobs.preview_import(
            session=session, user=user, data=data, **preview
        )


def _import_in_thread(token: str, key: str, **choices) -> import_jobs.ImportOutcome:
    with rx.session() as session:
        user = auth.user_for_token(session, token)
        data = import_jobs.read_upload(user=user, key=key)
        outcome = import_jobs.run_import(
            session=session, user=user, data=data, **choices
        )
        import_jobs.drop_upload(user=user, key=key)
        return outcome


def _drop_in_thread(token: str, key: str) -> None:
    with rx.session() as session:
        user = auth.user_for_token(session, token)
    import_jobs.drop_upload(user=user, key=key)


class ImportState(SessionState):
    """Choose a file, check its preview and mapping, then import it."""

    import_kind: str = KIND_CONTACT
    import_error: str = ""
    import_result: str = ""
    import_notes: list[str] = []
    is_uploading: bool = False
    upload_percent: int = 0
    has_preview: bool = False
    file_name: str = ""
    summary: str = ""
    mapping_fixed: bool = False
    columns: list[dict[str, str]] = []
    sample_rows: list[list[str]] = []
    good_rows: int = 0
    problems: list[dict[str, str]] = []
    problem_count: int = 0
    duplicates: list[dict[str, str]] = []
    duplicate_count: int = 0
    duplicate_choice: str = import_jobs.DUPLICATES_SKIP
    is_importing: bool = False
    rows_done: int = 0
    rows_total: int = 0
    # The uploaded file stays on the server under this key until imported.
    _upload_key: str = ""

    @rx.var
    def import_percent(self) -> int:
        """How much of the import is done, in percent."""
        return self.rows_done * 100 // self.rows_total if self.rows_total else 0

    @rx.var
    def problems_heading(self) -> str:
        """The line above the rows that cannot be imported."""
        noun = _noun(self.mapping_fixed)
        return f"{count(self.problem_count, noun)} cannot be imported:"

    @rx.var
    def duplicates_heading(self) -> str:
        """The line above the rows that repeat a record or an earlier row."""
        noun = _noun(self.mapping_fixed)
        verb = "repeats" if self.duplicate_count == 1 else "repeat"
        return (
            f"{count(self.duplicate_count, noun)} {verb} a record you have or an "
            f"earlier {noun}:"
        )

    @rx.var
    def import_all_label(self) -> str:
        """The import button's words when every row can be imported."""
        return import_label(
            self.good_rows,
            self.duplicate_count,
            self.duplicate_choice,
            _noun(self.mapping_fixed),
        )

    @rx.var
    def import_good_label(self) -> str:
        """The import button's words when some rows have problems."""
        return import_label(
            self.good_rows,
            self.duplicate_count,
            self.duplicate_choice,
            "good " + _noun(self.mapping_fixed),
        )

    @rx.var
    def progress_text(self) -> str:
        """How far the import is, such as "120 of 500 rows"."""
        return (
            f"{self.rows_done} of {count(self.rows_total, _noun(self.mapping_fixed))}"
        )

    @rx.event
    def load_import(self):
        """Open the page: paid accounts only."""
        self._clear_preview()
        self.import_error, self.import_result, self.import_notes = "", "", []
        self.is_uploading, self.upload_percent, self.is_importing = False, 0, False
        with rx.session() as session:
            _user, redirect = self._user_or_redirect(
                session, paid_notice=PAID_ONLY_NOTICE
            )
        return redirect

    @rx.event
    async def set_import_kind(self, kind: str):
        """Import the rows as leads or as contacts; duplicates depend on it."""
        self.import_kind = kind if kind in (KIND_LEAD, KIND_CONTACT) else KIND_CONTACT
        if self.has_preview and not self.is_importing:
            await self._refresh_preview([column["target"] for column in self.columns])

    @rx.event
    def start_upload(self):
        """Show the upload's progress as it starts."""
        self.import_error, self.import_result, self.import_notes = "", "", []
        self.is_uploading, self.upload_percent = True, 0

    @rx.event
    def track_upload(self, progress: dict):
        """Follow the upload's progress; it may report after the preview."""
        self.upload_percent = int(float(progress.get("progress", 0) or 0) * 100)

    @rx.event
    async def handle_upload(self, files: list[rx.UploadFile]):
        """Keep the uploaded file on the server and show its preview."""
        self.import_error, self.import_result, self.import_notes = "", "", []
        if len(files) != 1 or self.is_importing:
            self.import_error = "Choose one CSV or vCard file to import."
            self.is_uploading = False
            return
        data = await files[0].read(settings.import_max_bytes + 1)
        self.is_uploading = False
        if len(data) > settings.import_max_bytes:
            limit = settings.import_max_bytes // (1024 * 1024)
            self.import_error = (
                f"The file is larger than {limit} MB; nothing was imported."
            )
            return
        await self._drop_upload()
        self._clear_preview()
        self.file_name = files[0].filename or ""
        await self._refresh_preview(None, data)
        yield rx.clear_selected_files(UPLOAD_ID)

    @rx.event
    async def set_column_target(self, index: str, target: str):
        """Map one column of the CSV file to another field, and preview again."""
        if not self.has_preview or self.mapping_fixed or self.is_importing:
            return
        mapping = [column["target"] for column in self.columns]
        # The service checks the target; an index outside the file changes nothing.
        if not isinstance(index, str | int) or not str(index).isdigit():
            return
        position = int(index)
        if position >= len(mapping):
            return
        mapping[position] = target
        await self._refresh_preview(mapping)

    @rx.event
    def set_duplicate_choice(self, choice: str):
        """Skip, merge or create the rows that repeat existing records."""
        if choice in import_jobs.DUPLICATE_CHOICES:
            self.duplicate_choice = choice

    @rx.event
    async def import_nothing(self):
        """Drop the uploaded file; the data stays as it was."""
        await self._drop_upload()
        self._clear_preview()
        self.import_error, self.import_notes = "", []
        self.import_result = "Nothing was imported; your data is as it was."

    @rx.event(background=True)
    async def import_rows(self, only_good_rows: bool = False):
        """Import the previewed file in the background, showing its progress."""
        async with self:
            if self.is_importing or not self.has_preview:
                return
            self.is_importing, self.import_error, self.import_result = True, "", ""
            self.rows_done, self.rows_total = 0, self.good_rows
            token, key, kind = self.session_token, self._upload_key, self.import_kind
            choices = {
                "filename": self.file_name,
                "kind": kind,
                "mapping": [column["target"] for column in self.columns],
                "duplicates": self.duplicate_choice,
                "only_good_rows": only_good_rows is True,
            }
        progress = {"done": 0, "total": 0}

        def on_progress(done: int, total: int) -> None:
            progress.update(done=done, total=total)

        job = asyncio.ensure_future(
            asyncio.to_thread(
                _import_in_thread, token, key, on_progress=on_progress, **choices
            )
        )
        while not job.done():
            await asyncio.wait({job}, timeout=PROGRESS_SECONDS)
            async with self:
                self.rows_done = progress["done"]
                self.rows_total = progress["total"] or self.rows_total
        try:
            outcome = job.result()
        except ServiceError as error:
            async with self:
                self.import_error, self.is_importing = error.message, False
            return
        async with self:
            self._clear_preview()
            self.is_importing = False
            self.import_result = import_jobs.outcome_message(outcome, kind)
            self.import_notes = list(outcome.notes)

    async def _refresh_preview(self, mapping: list | None, data: bytes | None = None):
        """Read the kept (or newly uploaded) file again under the mapping."""
        try:
            key, preview = await asyncio.to_thread(
                _preview_in_thread,
                self.session_token,
                self._upload_key,
                data,
                filename=self.file_name,
                kind=self.import_kind,
                mapping=mapping,
            )
        except ServiceError as error:
            self.import_error = error.message
            return
        self.import_error, self._upload_key = "", key
        self._show_preview(preview)

    def _show_preview(self, preview: import_jobs.ImportPreview) -> None:
        self.has_preview, self.mapping_fixed = True, preview.mapping_fixed
        self.summary = _summary(self.file_name, preview)
        self.columns = [
            {"index": str(index), "title": title, "target": target}
            for index, (title, target) in enumerate(
                zip(preview.columns, preview.mapping, strict=True)
            )
        ]
        self.sample_rows = preview.sample_rows
        self.good_rows = preview.good_rows
        self.problem_count = len(preview.problems)
        self.problems = [
            {"where": item["where"], "reason": item["reason"]}
            for item in preview.problems[:ITEMS_SHOWN]
        ]
        self.duplicate_count = len(preview.duplicates)
        noun = _noun(preview.mapping_fixed)
        self.duplicates = [
            _duplicate_row(item, noun) for item in preview.duplicates[:ITEMS_SHOWN]
        ]
        self.import_notes = list(preview.notes)

    def _clear_preview(self) -> None:
        self.has_preview, self.summary, self.mapping_fixed = False, "", False
        self.columns, self.sample_rows, self.problems, self.duplicates = [], [], [], []
        self.good_rows, self.problem_count, self.duplicate_count = 0, 0, 0
        self.rows_done, self.rows_total = 0, 0
        self._upload_key = ""

    async def _drop_upload(self) -> None:
        if self._upload_key:
            key, self._upload_key = self._upload_key, ""
            await asyncio.to_thread(_drop_in_thread, self.session_token, key)


def _noun(mapping_fixed: bool) -> str:
    """What the file's entries are called: cards for vCard, else rows."""
    return "card" if mapping_fixed else "row"


def import_label(good_rows: int, duplicates: int, choice: str, noun: str) -> str:
    """What the import button will do: rows created, duplicates merged or skipped.

    Args:
        good_rows: rows without problems, duplicates included.
        duplicates: how many of them repeat a record or an earlier row.
        choice: what happens to duplicates, one of import_jobs.DUPLICATE_CHOICES.
        noun: what a row is called, such as "row", "good row" or "card".

    Returns:
        Such as "Import 3 rows", "Import 1 row and skip 2 duplicates" or
        "Merge 2 duplicates".
    """
    duplicates = min(duplicates, good_rows)
    if not duplicates or choice == import_jobs.DUPLICATES_CREATE:
        return f"Import {count(good_rows, noun)}"

    new_rows = good_rows - duplicates
    verb = "merge" if choice == import_jobs.DUPLICATES_MERGE else "skip"
    if not new_rows:
        return f"{verb.capitalize()} {count(duplicates, 'duplicate')}"
    return f"Import {count(new_rows, noun)} and {verb} {count(duplicates, 'duplicate')}"


def _summary(file_name: str, preview: import_jobs.ImportPreview) -> str:
    """One line on what the file holds, as the preview found it."""
    noun = "card" if preview.format == import_jobs.FORMAT_VCARD else "row"
    parts = [f"{file_name or 'The file'}: {preview.format}, {preview.encoding}"]
    if preview.delimiter:
        parts.append(f"{preview.delimiter}-separated")
    parts.append(count(preview.total_rows, noun))
    if preview.problems:
        parts.append(f"{len(preview.problems)} with problems")
    if preview.duplicates:
        parts.append(count(len(preview.duplicates), "duplicate"))
    if preview.photos_skipped:
        parts.append(f"{count(preview.photos_skipped, 'photo')} skipped")
    return ", ".join(parts) + "."


def _duplicate_row(item: dict, noun: str) -> dict[str, str]:
    """A duplicate as the page lists it: which row repeats what, and on what."""
    if item["existing_id"] is not None:
        repeats = item["existing_name"]
    else:
        repeats = f"{item['existing_name']} ({noun} {item['first_row']} of this file)"
    return {
        "where": item["where"],
        "name": item["name"],
        "repeats": repeats,
        "link": item["link"],
        "matched_on": item["matched_on"],
    }
