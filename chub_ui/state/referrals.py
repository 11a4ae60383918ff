"""State of the Referral module: the list, the detail page, tags and Save As."""

import logging

import reflex as rx

from chub_ui.models import ITEM_RECORD
from chub_ui.services import referral_lifecycle, referrals, saving, tags
from chub_ui.services.errors import NotSignedIn, ServiceError
from chub_ui.state.paging import PagedListMixin
from chub_ui.state.session import SessionState
from chub_ui.state.tagging import TaggingMixin

logger = logging.getLogger(__name__)


class ReferralsState(PagedListMixin, TaggingMixin, SessionState):
    """Leads and contacts referred to the signed-in user."""

    detail: dict = {}
    detail_error: str = ""
    is_loading: bool = True
    save_error: str = ""
    save_result: dict = {}
    duplicates: list[dict] = []
    gone_message: str = ""
    decline_open: bool = False
    decline_error: str = ""

    def _tags_by_referral(self, session, user, referral_ids: list[int]) -> dict:
        record_ids = tags.record_ids_of_referrals(
            session=session, user=user, referral_ids=referral_ids
        )
        found = tags.tags_for(
            session=session,
            user=user,
            item_type=ITEM_RECORD,
            item_ids=list(record_ids.values()),
        )
        return {
            referral_id: (record_id, found.get(record_id, ""))
            for referral_id, record_id in record_ids.items()
        }

    def _load_page(self):
        with rx.session() as session:
            user = self._user_from_token(session)
            if user is None:
                return self._login_redirect()
            found = referrals.list_referred_to_me(
                session=session, user=user, search=self.search, page=self.page
            )
            tagged = self._tags_by_referral(
                session, user, [item["id"] for item in found.items]
            )
        self.items = [
            {
                **item,
                "record_id": tagged.get(item["id"], (0, ""))[0],
                "tag": tagged.get(item["id"], (0, ""))[1],
            }
            for item in found.items
        ]
        self.page, self.pages, self.total = found.page, found.pages, found.total
        self.is_loading = False
        return None

    def _after_tagging(self):
        if self._path_id():
            return self._load_detail()
        return self._load_page()

    @rx.event
    def load_referrals(self):
        """Load the first page when the list opens."""
        self.page = 1
        self.is_loading = True
        return self._load_page()

    def _load_detail(self):
        referral_id = self._path_id()
        with rx.session() as session:
            user = self._user_from_token(session)
            if user is None:
                return self._login_redirect()
            try:
                detail = referrals.referral_detail(
                    session=session, user=user, referral_id=referral_id
                )
            except NotSignedIn:
                return self._login_redirect()
            except ServiceError as error:
                self.detail_error = error.message
                self.is_loading = False
                return None
            record_id, tag = self._tags_by_referral(session, user, [referral_id]).get(
                referral_id, (0, "")
            )
        self.detail = {**detail, "record_id": record_id, "tag": tag}
        self.is_loading = False
        return None

    @rx.event
    def load_detail(self):
        """Load the referral named in the address, if it was referred to you."""
        self.detail, self.detail_error = {}, ""
        self.save_error, self.save_result, self.duplicates = "", {}, []
        self.gone_message, self.decline_open, self.decline_error = "", False, ""
        self.is_loading = True
        return self._load_detail()

    def _forget_referral(self, message: str) -> None:
        """Drop every field of the referral from the state, and say why."""
        self.detail, self.save_result, self.duplicates = {}, {}, []
        self.save_error, self.decline_open = "", False
        self.gone_message = message

    @rx.event
    def check_access(self, _tick: str = ""):
        """Ask again whether the open referral may still be seen.

        The page's timer calls this every few seconds, so a referral that its
        referrer revokes, or that expires, vanishes from an open page at once.
        """
        if not self.detail:
            return None
        with rx.session() as session:
            user = self._user_from_token(session)
            if user is None:
                self._forget_referral(NotSignedIn().message)
                return self._login_redirect()
            try:
                referrals.referral_detail(
                    session=session, user=user, referral_id=self._path_id()
                )
            except ServiceError as error:
                self._forget_referral(error.message)
        return None

    @rx.event
    def set_decline_open(self, is_open: bool):
        """Open or close the Decline dialog, with no old refusal in it."""
        self.decline_open, self.decline_error = bool(is_open), ""

    @rx.event
    def decline_referral(self, form_data: dict):
        """Decline the open referral, with an optional reason for the referrer."""
        self.decline_error = ""
        with rx.session() as session:
            try:
                user = self._signed_in_user(session)
                referral_lifecycle.decline_referral(
                    session=session,
                    user=user,
                    referral_id=self._path_id(),
                    reason=str(form_data.get("reason", "")),
                )
            except ServiceError as error:
                self.decline_error = error.message
                return
        self._forget_referral(
            "You declined this referral. The referrer was told, and it has left "
            "your Referral list."
        )

    @rx.event
    def save_as(self, kind: str, create_anyway: bool = False):
        """Copy the referred record into the user's own leads or contacts.

        The service refuses a free account and looks for duplicates first.
        """
        self.save_error, self.save_result, self.duplicates = "", {}, []
        with rx.session() as session:
            try:
                user = self._signed_in_user(session)
                result = saving.save_as_own(
                    session=session,
                    user=user,
                    referral_id=self._path_id(),
                    kind=kind,
                    create_anyway=bool(create_anyway),
                )
            except ServiceError as error:
                self.save_error = error.message
                return
        if result["status"] == saving.STATUS_DUPLICATES:
            self.duplicates = result["duplicates"]
            self.save_result = {"status": "duplicates", "kind": kind}
            return
        self.save_result = {
            "status": result["status"],
            "kind": kind,
            "link": f"/records/{result['record_id']}",
        }
