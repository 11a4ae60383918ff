"""A mixin for the New, Edit and Delete forms of leads and contacts."""

import logging

import reflex as rx

from chub_ui import routes
from chub_ui.models import KIND_LEAD
from chub_ui.services import records
from chub_ui.services.errors import ServiceError

logger = logging.getLogger(__name__)


class RecordFormsMixin(rx.State, mixin=True):
    """Creates a record of the list's kind, edits or deletes the open record.

    The state that mixes it in has `kind` (the list's), and
    `_reload_record(session, user)`, which shows the open record again. The
    service checks the plan and the account on every call; the record is the
    one in the page's address, never an id from the form.
    """

    form_open: bool = False
    is_editing: bool = False
    form_values: dict[str, str] = {}
    field_errors: dict[str, str] = {}
    form_error: str = ""
    delete_open: bool = False
    delete_error: str = ""

    def _reload_record(self, session, user) -> None:
        return None

    def _clear_form(self, values: dict | None = None) -> None:
        self.form_values = values or {}
        self.field_errors, self.form_error = {}, ""

    def _show_refusal(self, error: ServiceError) -> None:
        """The refusal above the form, and each field's own under that field."""
        self.form_error = error.message
        self.field_errors = dict(getattr(error, "fields", {}))

    @rx.event
    def set_form_open(self, is_open: bool):
        """Open the New dialog with an empty form, or close it."""
        self.form_open = bool(is_open)
        self._clear_form()

    @rx.event
    def submit_new_record(self, form_data: dict):
        """Add a lead or contact of the list's kind, then open its page."""
        self._clear_form()
        with rx.session() as session:
            try:
                user = self._signed_in_user(session)
                record_id = records.create_record(
                    session=session, user=user, kind=self.kind, fields=form_data
                )
            except ServiceError as error:
                self._show_refusal(error)
                return None
        self.form_open = False
        return rx.redirect(routes.record_url(record_id))

    @rx.event
    def start_edit(self):
        """Show the open record's fields in the Edit form."""
        self._clear_form()
        with rx.session() as session:
            try:
                user = self._signed_in_user(session)
                record = records.get_own_record(
                    session=session, user=user, record_id=self._path_id()
                )
                self._clear_form(records.record_form_values(record))
            except ServiceError as error:
                self.form_error = error.message
                return
        self.is_editing = True

    @rx.event
    def cancel_edit(self):
        """Leave the Edit form without saving."""
        self.is_editing = False
        self._clear_form()

    @rx.event
    def submit_edit(self, form_data: dict):
        """Save the Edit form on the open record."""
        self.field_errors, self.form_error = {}, ""
        with rx.session() as session:
            try:
                user = self._signed_in_user(session)
                records.update_record(
                    session=session,
                    user=user,
                    record_id=self._path_id(),
                    fields=form_data,
                )
                self._reload_record(session, user)
            except ServiceError as error:
                self._show_refusal(error)
                return
        self.is_editing = False
        self._clear_form()

    @rx.event
    def set_delete_open(self, is_open: bool):
        """Open or close the confirmation before deleting."""
        self.delete_open = bool(is_open)
        self.delete_error = ""

    @rx.event
    def confirm_delete(self):
        """Delete the open record, then go back to its list."""
        self.delete_error = ""
        with rx.session() as session:
            try:
                user = self._signed_in_user(session)
                kind = records.delete_record(
                    session=session, user=user, record_id=self._path_id()
                )
            except ServiceError as error:
                self.delete_error = error.message
                return None
        name = self.record.get("name", "") if isinstance(self.record, dict) else ""
        self.delete_open = False
        self.record, self.history = {}, []
        self.notice = f"{name} was deleted." if name else "Deleted."
        return rx.redirect(routes.LEADS if kind == KIND_LEAD else routes.CONTACTS)
