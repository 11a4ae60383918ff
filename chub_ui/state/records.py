"""State of the CRM's leads and contacts: lists, detail and referring."""

import json
import logging

import reflex as rx

from chub_ui import routes
from chub_ui.models import ITEM_RECORD, KIND_CONTACT, KIND_LEAD
from chub_ui.services import exports, records, referrals, tags
from chub_ui.services.errors import NotSignedIn, ServiceError
from chub_ui.state.paging import PagedListMixin
from chub_ui.state.session import SessionState
from chub_ui.state.tagging import TaggingMixin

logger = logging.getLogger(__name__)

PAID_ONLY_NOTICE = (
    "Leads, Contacts and Import belong to the full CRM on the paid plan. "
    "Your Partner's Network shows what partners refer to you."
)


class RecordsState(PagedListMixin, TaggingMixin, SessionState):
    """The account's leads or contacts, and one record with its referrals."""

    kind: str = KIND_LEAD
    record: dict = {}
    history: list[dict] = []
    record_error: str = ""
    refer_error: str = ""
    refer_success: str = ""
    refer_open: bool = False
    is_loading: bool = True

    def _paid_user(self, session):
        """The user if on the paid plan; otherwise the redirect to take."""
        user = self._user_from_token(session)
        if user is None:
            return None, self._login_redirect()
        if not user.is_paid:
            self.notice = PAID_ONLY_NOTICE
            return None, rx.redirect(routes.REFERRALS)
        return user, None

    def _load_page(self):
        with rx.session() as session:
            user, redirect = self._paid_user(session)
            if redirect is not None:
                return redirect
            found = records.list_records(
                session=session,
                user=user,
                kind=self.kind,
                search=self.search,
                page=self.page,
            )
            self.items = self._with_tags(session, user, found.items, ITEM_RECORD)
        self.page, self.pages, self.total = found.page, found.pages, found.total
        self.is_loading = False
        return None

    def _after_tagging(self):
        if not self._path_id():
            return self._load_page()
        with rx.session() as session:
            user, redirect = self._paid_user(session)
            if redirect is not None:
                return redirect
            self._load_record(session, user)
        return None

    @rx.event
    def export(self, fmt: str):
        """Download the current list, as searched, as CSV or vCard."""
        self.tag_error = ""
        with rx.session() as session:
            try:
                user = self._user_from_token(session)
                if user is None:
                    raise NotSignedIn()
                link = exports.export_link(
                    session=session,
                    user=user,
                    kind=self.kind,
                    fmt=fmt,
                    search=self.search,
                )
            except ServiceError as error:
                self.tag_error = error.message
                return None
        url = rx.config.get_config().api_url.rstrip("/") + link
        # The route answers with an attachment, so the page stays where it is.
        return rx.call_script(f"window.location.assign({json.dumps(url)})")

    @rx.event
    def load_leads(self):
        """Open the list of leads."""
        self.kind, self.page, self.search, self.is_loading = KIND_LEAD, 1, "", True
        return self._load_page()

    @rx.event
    def load_contacts(self):
        """Open the list of contacts."""
        self.kind, self.page, self.search, self.is_loading = KIND_CONTACT, 1, "", True
        return self._load_page()

    def _load_record(self, session, user) -> None:
        record_id = self._path_id()
        found = records.get_own_record(session=session, user=user, record_id=record_id)
        tag = tags.tags_for(
            session=session, user=user, item_type=ITEM_RECORD, item_ids=[found.id]
        )
        self.record = {
            "id": found.id,
            "name": found.name,
            "kind": found.kind.capitalize(),
            "fields": records.record_fields(found),
            "tag": tag.get(found.id, ""),
        }
        self.history = referrals.referral_history(
            session=session, user=user, record_id=record_id
        )

    @rx.event
    def load_record(self):
        """Open one record of the account with its referring history."""
        self.record, self.history, self.record_error = {}, [], ""
        self.refer_error, self.refer_success = "", ""
        self.is_loading = True
        with rx.session() as session:
            user, redirect = self._paid_user(session)
            if redirect is not None:
                return redirect
            try:
                self._load_record(session, user)
            except ServiceError as error:
                self.record_error = error.message
        self.is_loading = False
        return None

    @rx.event
    def set_refer_open(self, is_open: bool):
        """Open or close the Refer dialog, with a clean form."""
        self.refer_open = bool(is_open)
        self.refer_error = ""
        if self.refer_open:
            self.refer_success = ""

    @rx.event
    def submit_referral(self, form_data: dict):
        """Refer the open record to an address with a message."""
        self.refer_error, self.refer_success = "", ""
        with rx.session() as session:
            try:
                user = self._user_from_token(session)
                if user is None:
                    raise NotSignedIn()
                outcome = referrals.refer_record(
                    session=session,
                    user=user,
                    record_id=self._path_id(),
                    to_email=str(form_data.get("to_email", "")),
                    message=str(form_data.get("message", "")),
                )
                self._load_record(session, user)
            except ServiceError as error:
                self.refer_error = error.message
                return None
        self.refer_success = (
            f"Referred to {outcome.recipient_email}. Invitation e-mail: "
            f"{outcome.mail_status}."
        )
        self.refer_open = False
        return None
