"""A mixin for the Refer dialog: one or more records to one or more addresses."""

import logging

import reflex as rx

from chub_ui.services import referral_lifecycle
from chub_ui.services.errors import ServiceError
from chub_ui.services.text import clean_id

logger = logging.getLogger(__name__)

# What a checked checkbox sends in a form.
CHECKED_VALUES = (True, "on", "true", "yes")
# The most records a selection holds, as the service refers at most 50.
MAX_SELECTED = 50


class ReferringMixin(rx.State, mixin=True):
    """The list's selection, and the Refer dialog for it or for the open record.

    The state that mixes it in has `items` (the list's page), `record` (the
    open record), `list_error`, and `_after_referring(session, user)`, which
    reloads what the page shows. Every record id is checked again by the
    service, whatever the browser sends.
    """

    selected: list[int] = []

    refer_open: bool = False
    refer_ids: list[int] = []
    refer_title: str = ""
    refer_needs_consent: bool = False
    refer_error: str = ""
    refer_success: str = ""
    refer_sent: list[str] = []
    refer_skipped: list[str] = []

    def _after_referring(self, session, user) -> None:
        return None

    @rx.var
    def is_page_selected(self) -> bool:
        """Whether every record on this page is selected."""
        return bool(self.items) and all(
            item["id"] in self.selected for item in self.items
        )

    @rx.event
    def toggle_selected(self, record_id: int, is_checked: bool):
        """Add a record to the selection to refer, or take it out."""
        self.list_error = ""
        try:
            record_id = clean_id(record_id)
        except ServiceError:
            return
        chosen = [known for known in self.selected if known != record_id]
        if is_checked is True and len(chosen) >= MAX_SELECTED:
            self.list_error = f"Select at most {MAX_SELECTED} records at once."
            return
        self.selected = [*chosen, record_id] if is_checked is True else chosen

    @rx.event
    def select_page(self, is_checked: bool):
        """Select every record on this page, or none of them."""
        self.list_error = ""
        on_page = [item["id"] for item in self.items]
        others = [known for known in self.selected if known not in on_page]
        chosen = [*others, *on_page] if is_checked is True else others
        if len(chosen) > MAX_SELECTED:
            self.list_error = f"Select at most {MAX_SELECTED} records at once."
            return
        self.selected = chosen

    @rx.event
    def clear_selection(self):
        """Unselect every record."""
        self.selected = []

    def _clear_refer_outcome(self) -> None:
        self.refer_error, self.refer_success = "", ""
        self.refer_sent, self.refer_skipped = [], []

    def _open_refer(self, record_ids: list[int], title: str) -> None:
        """Open the dialog for the records, asking for consent where needed."""
        self._clear_refer_outcome()
        self.refer_ids, self.refer_title = record_ids, title
        self.refer_needs_consent = False
        with rx.session() as session:
            try:
                user = self._signed_in_user(session)
                self.refer_needs_consent = referral_lifecycle.needs_consent(
                    session=session, user=user, record_ids=record_ids
                )
            except ServiceError as error:
                self.refer_error = error.message
        self.refer_open = True

    @rx.event
    def set_refer_open(self, is_open: bool):
        """Open the dialog for the record on the page, or close it."""
        if not is_open:
            self.refer_open, self.refer_error = False, ""
            return
        name = self.record.get("name", "") if isinstance(self.record, dict) else ""
        self._open_refer([self._path_id()], f"Refer {name}".strip())

    @rx.event
    def open_refer_selected(self):
        """Open the dialog for the records selected on the list."""
        chosen = list(self.selected)
        if not chosen:
            self._clear_refer_outcome()
            self.refer_error = "Select the records to refer first."
            return
        count = len(chosen)
        self._open_refer(chosen, f"Refer {count} record{'' if count == 1 else 's'}")

    @rx.event
    def submit_referral(self, form_data: dict):
        """Refer the dialog's records to the addresses typed, with a message."""
        self._clear_refer_outcome()
        form = form_data if isinstance(form_data, dict) else {}
        # Without an opened dialog (a direct call), the page's own record.
        record_ids = list(self.refer_ids) or [self._path_id()]
        with rx.session() as session:
            try:
                user = self._signed_in_user(session)
                outcome = referral_lifecycle.refer_records(
                    session=session,
                    user=user,
                    record_ids=record_ids,
                    addresses=str(form.get("to_email", "")),
                    message=str(form.get("message", "")),
                    expires_on=str(form.get("expires_on", "")),
                    consent=form.get("consent") in CHECKED_VALUES,
                )
                self._after_referring(session, user)
            except ServiceError as error:
                self.refer_error = error.message
                return

        self.refer_sent, self.refer_skipped = list(outcome.sent), list(outcome.skipped)
        sent, skipped = len(outcome.sent), len(outcome.skipped)
        self.refer_success = f"{sent} referral{'' if sent == 1 else 's'} made" + (
            f", {skipped} skipped." if skipped else "."
        )
        if sent:
            self.selected = []
        self.refer_open = False
