"""State of the Referral module: the list and the detail page."""

import logging

import reflex as rx

from chub_ui.services import referrals
from chub_ui.services.errors import NotSignedIn, ServiceError
from chub_ui.state.paging import PagedListMixin
from chub_ui.state.session import SessionState

logger = logging.getLogger(__name__)


class ReferralsState(PagedListMixin, SessionState):
    """Leads and contacts referred to the signed-in user."""

    detail: dict = {}
    detail_error: str = ""
    is_loading: bool = True

    def _load_page(self):
        with rx.session() as session:
            user = self._user_from_token(session)
            if user is None:
                return self._login_redirect()
            found = referrals.list_referred_to_me(
                session=session, user=user, search=self.search, page=self.page
            )
        self.items = found.items
        self.page, self.pages, self.total = found.page, found.pages, found.total
        self.is_loading = False
        return None

    @rx.event
    def load_referrals(self):
        """Load the first page when the list opens."""
        self.page = 1
        self.is_loading = True
        return self._load_page()

    @rx.event
    def load_detail(self):
        """Load the referral named in the address, if it was referred to you."""
        self.detail, self.detail_error = {}, ""
        self.is_loading = True
        referral_id = self._path_id()
        with rx.session() as session:
            user = self._user_from_token(session)
            if user is None:
                return self._login_redirect()
            try:
                self.detail = referrals.referral_detail(
                    session=session, user=user, referral_id=referral_id
                )
            except NotSignedIn:
                return self._login_redirect()
            except ServiceError as error:
                self.detail_error = error.message
        self.is_loading = False
        return None
