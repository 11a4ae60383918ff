"""State of the CRM's leads and contacts: lists with filters, selection, detail."""

import json
import logging

import reflex as rx

from chub_ui.models import ITEM_RECORD, KIND_CONTACT, KIND_LEAD
from chub_ui.services import exports, records, referrals, tags
from chub_ui.services.errors import InvalidInput, ServiceError
from chub_ui.state.paging import PagedListMixin
from chub_ui.state.record_forms import RecordFormsMixin
from chub_ui.state.referring import ReferringMixin
from chub_ui.state.session import SessionState
from chub_ui.state.tagging import TaggingMixin

logger = logging.getLogger(__name__)

PAID_ONLY_NOTICE = (
    "Leads, Contacts and Import belong to the full CRM on the paid plan. "
    "Your Partner's Network shows what partners refer to you."
)
# The source select's values: "any", or this prefix and the source as stored,
# so that no source can pass for "any".
SOURCE_PREFIX = "source:"


class RecordsState(
    PagedListMixin, TaggingMixin, RecordFormsMixin, ReferringMixin, SessionState
):
    """The account's leads or contacts, and one record with its referrals."""

    kind: str = KIND_LEAD
    record: dict = {}
    history: list[dict] = []
    record_error: str = ""
    list_error: str = ""
    is_loading: bool = True
    tag_filter: str = records.ANY
    source_filter: str = records.ANY
    referred_filter: str = records.ANY
    sort_by: str = records.DEFAULT_SORT
    source_options: list[dict[str, str]] = []

    @rx.var
    def is_filtered(self) -> bool:
        """Whether a search or a filter narrows the list."""
        return self.search != "" or any(
            value != records.ANY
            for value in (self.tag_filter, self.source_filter, self.referred_filter)
        )

    def _view(self, **changes: str) -> dict[str, str]:
        """The list's filters and sort as the services take them, checked."""
        chosen = {
            "tag": self.tag_filter,
            "source": self.source_filter,
            "referred": self.referred_filter,
            "sort": self.sort_by,
            **changes,
        }
        source = chosen["source"]
        chosen["source"] = (
            source.removeprefix(SOURCE_PREFIX)
            if isinstance(source, str) and source.startswith(SOURCE_PREFIX)
            else ""
        )
        return records.clean_list_view(**chosen)

    def _paid_user(self, session):
        """The user if on the paid plan; otherwise the redirect to take."""
        return self._user_or_redirect(session, paid_notice=PAID_ONLY_NOTICE)

    def _load_page(self):
        self.list_error = ""
        with rx.session() as session:
            user, redirect = self._paid_user(session)
            if redirect is not None:
                return redirect
            try:
                found = records.list_records(
                    session=session,
                    user=user,
                    kind=self.kind,
                    search=self.search,
                    page=self.page,
                    **self._view(),
                )
            except ServiceError as error:
                self.list_error, self.is_loading = error.message, False
                return None
            self.items = self._with_tags(session, user, found.items, ITEM_RECORD)
        self.page, self.pages, self.total = found.page, found.pages, found.total
        self.is_loading = False
        return None

    def _open_list(self, kind: str):
        self.kind, self.page, self.search, self.is_loading = kind, 1, "", True
        self.tag_filter = self.source_filter = self.referred_filter = records.ANY
        self.sort_by, self.selected, self.refer_ids = records.DEFAULT_SORT, [], []
        # A dialog left open on another page must not come back aimed at the
        # records of that page.
        self.form_open, self.source_options, self.refer_open = False, [], False
        self._clear_refer_outcome()
        redirect = self._load_page()
        if redirect is None and not self.list_error:
            with rx.session() as session:
                user = self._user_from_token(session)
                sources = records.list_sources(session=session, user=user, kind=kind)
            self.source_options = [
                {"value": SOURCE_PREFIX + source, "label": source} for source in sources
            ]
        return redirect

    @rx.event
    def load_leads(self):
        """Open the list of leads."""
        return self._open_list(KIND_LEAD)

    @rx.event
    def load_contacts(self):
        """Open the list of contacts."""
        return self._open_list(KIND_CONTACT)

    def _set_view(self, name: str, value: str, var: str):
        self.list_error = ""
        try:
            if not isinstance(value, str):
                raise InvalidInput("Choose from the list.")
            self._view(**{name: value})
        except InvalidInput as error:
            self.list_error = error.message
            return None
        setattr(self, var, value)
        self.page = 1
        return self._load_page()

    @rx.event
    def set_tag_filter(self, value: str):
        """Show only records the user tagged so, or untagged ones."""
        return self._set_view("tag", value, "tag_filter")

    @rx.event
    def set_source_filter(self, value: str):
        """Show only records from one source."""
        return self._set_view("source", value, "source_filter")

    @rx.event
    def set_referred_filter(self, value: str):
        """Show only records that were, or were never, referred."""
        return self._set_view("referred", value, "referred_filter")

    @rx.event
    def set_sort_by(self, value: str):
        """Order the list by name, company or date."""
        return self._set_view("sort", value, "sort_by")

    @rx.event
    def export(self, fmt: str):
        """Download the current list, as searched and filtered, as CSV or vCard."""
        self.tag_error = ""
        with rx.session() as session:
            try:
                user = self._signed_in_user(session)
                link = exports.export_link(
                    session=session,
                    user=user,
                    kind=self.kind,
                    fmt=fmt,
                    search=self.search,
                    **self._view(),
                )
            except ServiceError as error:
                self.tag_error = error.message
                return None
        url = rx.config.get_config().api_url.rstrip("/") + link
        # The route answers with an attachment, so the page stays where it is.
        return rx.call_script(f"window.location.assign({json.dumps(url)})")

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
            "labels": found.labels,
            "tag": tag.get(found.id, ""),
        }
        history = referrals.referral_history(
            session=session, user=user, record_id=record_id
        )
        states = records.referral_states(
            session=session, user=user, record_id=record_id
        )
        self.history = [
            {**item, "state": states.get(item["id"], item["state"])} for item in history
        ]

    def _reload_record(self, session, user) -> None:
        self._load_record(session, user)

    def _after_referring(self, session, user) -> None:
        if self._path_id():
            self._load_record(session, user)
        else:
            self._load_page()

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
    def load_record(self):
        """Open one record of the account with its referring history."""
        self.record, self.history, self.record_error = {}, [], ""
        self.refer_ids, self.is_editing, self.delete_open = [], False, False
        self.refer_open = False
        self._clear_refer_outcome()
        self._clear_form()
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
