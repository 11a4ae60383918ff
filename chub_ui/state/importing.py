"""State of the CSV import page."""

import asyncio
import logging

import reflex as rx

from chub_ui import routes
from chub_ui.models import KIND_CONTACT, KIND_LEAD
from chub_ui.services import auth, importing, vcards
from chub_ui.services.errors import ServiceError
from chub_ui.settings import settings
from chub_ui.state.records import PAID_ONLY_NOTICE
from chub_ui.state.session import SessionState

logger = logging.getLogger(__name__)

UPLOAD_ID = "csv_upload"


def _import_in_thread(token: str, data: bytes, kind: str, filename: str):
    # A large file takes seconds to parse: it runs here, off the event loop.
    with rx.session() as session:
        user = auth.user_for_token(session, token)
        if is_vcard(data, filename):
            return vcards.import_vcards(
                session=session, user=user, data=data, kind=kind, filename=filename
            )
        return importing.import_records(
            session=session, user=user, data=data, kind=kind, filename=filename
        )


def is_vcard(data: bytes, filename: str) -> bool:
    """Whether an upload is a vCard file, by its name or its first line."""
    if filename.lower().endswith((".vcf", ".vcard")):
        return True
    head = data[:64].lstrip(b"\xef\xbb\xbf \r\n\t").upper()
    return head.startswith(b"BEGIN:VCARD")


class ImportState(SessionState):
    """Choose a CSV file and whether its rows are leads or contacts."""

    import_kind: str = KIND_CONTACT
    import_error: str = ""
    import_result: str = ""
    import_notes: list[str] = []
    is_importing: bool = False
    upload_percent: int = 0

    @rx.event
    def load_import(self):
        """Open the page: paid accounts only."""
        self.import_error, self.import_result, self.import_notes = "", "", []
        self.is_importing, self.upload_percent = False, 0
        with rx.session() as session:
            user = self._user_from_token(session)
        if user is None:
            return self._login_redirect()
        if not user.is_paid:
            self.notice = PAID_ONLY_NOTICE
            return rx.redirect(routes.REFERRALS)
        return None

    @rx.event
    def set_import_kind(self, kind: str):
        """Import the rows as leads or as contacts."""
        self.import_kind = kind if kind in (KIND_LEAD, KIND_CONTACT) else KIND_CONTACT

    @rx.event
    def start_import(self):
        """Show the progress bar as the upload starts."""
        self.import_error, self.import_result, self.import_notes = "", "", []
        self.is_importing, self.upload_percent = True, 0

    @rx.event
    def track_upload(self, progress: dict):
        """Follow the upload's progress; it may report after the import ended."""
        self.upload_percent = int(float(progress.get("progress", 0) or 0) * 100)

    @rx.event
    async def handle_import(self, files: list[rx.UploadFile]):
        """Import the uploaded CSV file, all rows or none."""
        self.import_error, self.import_result, self.import_notes = "", "", []
        if len(files) != 1:
            self.import_error = "Choose one CSV or vCard file to import."
            self.is_importing = False
            return
        upload = files[0]
        data = await upload.read(settings.import_max_bytes + 1)
        if len(data) > settings.import_max_bytes:
            limit = settings.import_max_bytes // (1024 * 1024)
            self.import_error = (
                f"The file is larger than {limit} MB; nothing was imported."
            )
            return
        self.is_importing = True
        yield
        try:
            result = await asyncio.to_thread(
                _import_in_thread,
                self.session_token,
                data,
                self.import_kind,
                upload.filename or "",
            )
        except ServiceError as error:
            self.import_error = error.message
        else:
            plural = "s" if result.created != 1 else ""
            self.import_result = (
                f"Imported {result.created} {self.import_kind}{plural} from "
                f"{upload.filename}."
            )
            self.import_notes = list(result.notes)
        self.is_importing, self.upload_percent = False, 100
        yield rx.clear_selected_files(UPLOAD_ID)
