"""State of the Library: the list, uploads with progress, downloads and sharing."""

import asyncio
import json
import logging

import reflex as rx

from chub_ui.models import ITEM_DOCUMENT
from chub_ui.services import auth, library, referrals
from chub_ui.services.errors import NotSignedIn, ServiceError
from chub_ui.state.paging import PagedListMixin
from chub_ui.state.session import SessionState
from chub_ui.state.tagging import TaggingMixin

logger = logging.getLogger(__name__)

UPLOAD_ID = "library_upload"
# Progress rows are refreshed in the browser at most this often while a file
# arrives, so a large file does not flood the websocket.
PROGRESS_STEP_BYTES = 256 * 1024


def _user_in_thread(token: str) -> auth.CurrentUser:
    with rx.session() as session:
        return auth.user_for_token(session, token)


def _finish_in_thread(pending: library.PendingUpload) -> dict:
    with rx.session() as session:
        return pending.finish(session=session)


class LibraryState(PagedListMixin, TaggingMixin, SessionState):
    """Own documents and documents referred to the user."""

    type_filter: str = ""
    type_options: list[str] = library.type_labels()
    uploads: list[dict] = []
    batch_percent: int = 0
    is_uploading: bool = False
    library_error: str = ""
    share_document: dict = {}
    share_open: bool = False
    share_error: str = ""
    share_success: str = ""

    def _load_page(self):
        with rx.session() as session:
            user = self._user_from_token(session)
            if user is None:
                return self._login_redirect()
            found = library.list_library(
                session=session,
                user=user,
                search=self.search,
                type_label=self.type_filter,
                page=self.page,
            )
            self.items = self._with_tags(session, user, found.items, ITEM_DOCUMENT)
        self.page, self.pages, self.total = found.page, found.pages, found.total
        return None

    def _after_tagging(self):
        return self._load_page()

    @rx.event
    def load_library(self):
        """Open the Library on its first page."""
        self.page, self.library_error = 1, ""
        return self._load_page()

    @rx.event
    def refresh_library(self, _tick: str = ""):
        """Read the open page of the list again; the page's timer calls this.

        A document whose referral was revoked or expired leaves an open Library
        this way. Search, type filter, uploads and messages stay as they are.
        """
        redirect = self._load_page()
        if redirect is not None:
            self.items = []
        return redirect

    @rx.event
    def set_type_filter(self, label: str):
        """Show one type of document, or every type."""
        self.type_filter = label if label in library.type_labels() else ""
        self.page = 1
        return self._load_page()

    @rx.event
    def start_upload(self):
        """Clear the previous batch as a new one starts."""
        self.uploads, self.batch_percent, self.is_uploading = [], 0, True
        self.library_error = ""

    @rx.event
    def track_upload(self, progress: dict):
        """Follow the whole batch as the browser sends it."""
        self.batch_percent = int(float(progress.get("progress", 0) or 0) * 100)

    def _set_row(self, index: int, **changes) -> None:
        rows = list(self.uploads)
        rows[index] = {**rows[index], **changes}
        self.uploads = rows

    @rx.event(background=True)
    async def receive_files(self, chunks: rx.UploadChunkIterator):
        """Store each file as its chunks arrive, refusing it as soon as it fails.

        The size limit is checked chunk by chunk on the server, so a file that
        is too large stops being written the moment it passes the limit.
        """
        async with self:
            token = self.session_token
        try:
            user = await asyncio.to_thread(_user_in_thread, token)
        except NotSignedIn:
            async with self:
                self.library_error = "Please sign in again to upload."
                self.is_uploading = False
            return

        pending, index, refused, reported = None, -1, False, 0
        async for chunk in chunks:
            if chunk.offset == 0:
                await self._close_file(pending, index, refused)
                pending, refused, reported = None, False, 0
                async with self:
                    self.uploads = [
                        *self.uploads,
                        {"name": chunk.filename, "status": "uploading",
                         "message": "", "received": "0 B", "percent": 5},
                    ]  # fmt: skip
                    index = len(self.uploads) - 1
                try:
                    pending = library.start_upload(user=user, name=chunk.filename)
                except ServiceError as error:
                    refused = True
                    async with self:
                        self._set_row(
                            index, status="refused", message=error.message, percent=100
                        )
            if refused or pending is None:
                continue
            try:
                await asyncio.to_thread(pending.write, chunk.data)
            except ServiceError as error:
                refused = True
                async with self:
                    self._set_row(
                        index, status="refused", message=error.message, percent=100
                    )
                continue
            if pending.size_bytes - reported >= PROGRESS_STEP_BYTES:
                reported = pending.size_bytes
                async with self:
                    self._set_row(
                        index,
                        received=library.human_size(pending.size_bytes),
                        percent=min(95, self.batch_percent),
                    )
        await self._close_file(pending, index, refused)
        async with self:
            self.is_uploading = False
            self.batch_percent = 100
            self._load_page()

    async def _close_file(self, pending, index: int, refused: bool) -> None:
        """Finish the file that just ended, or drop it if it was refused."""
        if pending is None or index < 0:
            return
        if refused:
            pending.abort()
            return
        try:
            item = await asyncio.to_thread(_finish_in_thread, pending)
        except ServiceError as error:
            async with self:
                self._set_row(
                    index, status="refused", message=error.message, percent=100
                )
            return
        async with self:
            self._set_row(
                index,
                status="stored",
                received=item["size"],
                percent=100,
                message=f"Stored as {item['type_label']}.",
            )

    @rx.event
    def download(self, document_id: int):
        """Mint a short-lived link for this user and file, and download it."""
        with rx.session() as session:
            try:
                user = self._signed_in_user(session)
                link = library.download_link(
                    session=session, user=user, document_id=document_id
                )
            except ServiceError as error:
                self.library_error = error.message
                return None
        url = rx.config.get_config().api_url.rstrip("/") + link
        # The route answers with an attachment, so the page stays where it is.
        return rx.call_script(f"window.location.assign({json.dumps(url)})")

    @rx.event
    def open_share(self, item: dict):
        """Open the share dialog for one of the user's own documents."""
        self.share_document = {"id": item.get("id"), "name": item.get("name")}
        self.share_open, self.share_error, self.share_success = True, "", ""

    @rx.event
    def set_share_open(self, is_open: bool):
        """Close the share dialog."""
        self.share_open = bool(is_open)

    @rx.event
    def submit_share(self, form_data: dict):
        """Refer the document by e-mail; the service allows only its owner."""
        self.share_error = ""
        with rx.session() as session:
            try:
                user = self._signed_in_user(session)
                outcome = referrals.refer_document(
                    session=session,
                    user=user,
                    document_id=self.share_document.get("id"),
                    to_email=str(form_data.get("to_email", "")),
                    message=str(form_data.get("message", "")),
                )
            except ServiceError as error:
                self.share_error = error.message
                return
        self.share_open = False
        self.share_success = (
            f"Shared {self.share_document.get('name')} with "
            f"{outcome.recipient_email}. Invitation e-mail: {outcome.mail_status}."
        )
