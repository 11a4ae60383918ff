"""State of the referrer's Sent referrals list and of one referral's timeline."""

import logging

import reflex as rx

from chub_ui.services import referral_lifecycle
from chub_ui.services.errors import ServiceError
from chub_ui.state.paging import PagedListMixin
from chub_ui.state.session import SessionState

logger = logging.getLogger(__name__)

# The filter's choice for "no filter": Radix selects cannot hold an empty value.
EVERY_STATE = "all"


class SentState(PagedListMixin, SessionState):
    """Referrals the account sent, filtered by state and searched."""

    state_filter: str = EVERY_STATE
    list_error: str = ""
    is_loading: bool = True

    def _load_page(self):
        with rx.session() as session:
            user, redirect = self._user_or_redirect(session)
            if redirect is not None:
                return redirect
            try:
                found = referral_lifecycle.list_sent_referrals(
                    session=session,
                    user=user,
                    state="" if self.state_filter == EVERY_STATE else self.state_filter,
                    search=self.search,
                    page=self.page,
                )
            except ServiceError as error:
                self.list_error = error.message
                self.is_loading = False
                return None
        self.items = found.items
        self.page, self.pages, self.total = found.page, found.pages, found.total
        self.list_error, self.is_loading = "", False
        return None

    @rx.event
    def load_sent(self):
        """Open the list on its first page, every state, no search."""
        self.page, self.search, self.state_filter = 1, "", EVERY_STATE
        self.is_loading = True
        return self._load_page()

    @rx.event
    def set_state_filter(self, state: str):
        """Show the referrals in one state, or in every state."""
        known = state in referral_lifecycle.STATES
        self.state_filter = state if known else EVERY_STATE
        self.page = 1
        return self._load_page()


class SentTimelineState(SessionState):
    """One sent referral, its events, and resend, copy link and revoke."""

    timeline: dict = {}
    timeline_error: str = ""
    action_error: str = ""
    action_success: str = ""
    invitation_link: str = ""
    revoke_open: bool = False
    is_loading: bool = True

    def _read_timeline(self, session, user) -> None:
        """Copy the referral named in the address into the vars, or the refusal."""
        try:
            self.timeline = referral_lifecycle.referral_timeline(
                session=session, user=user, referral_id=self._path_id()
            )
            self.timeline_error = ""
        except ServiceError as error:
            self.timeline, self.timeline_error = {}, error.message

    @rx.event
    def load_timeline(self):
        """Open the timeline of the referral named in the address."""
        self.timeline, self.timeline_error = {}, ""
        self.action_error, self.action_success, self.invitation_link = "", "", ""
        self.revoke_open, self.is_loading = False, True
        with rx.session() as session:
            user, redirect = self._user_or_redirect(session)
            if redirect is not None:
                return redirect
            self._read_timeline(session, user)
        self.is_loading = False
        return None

    @rx.event
    def refresh_timeline(self, _tick: str = ""):
        """Read the timeline again; the page's timer calls this every few seconds.

        Messages and the copied link stay, so a tick never hides what the user
        just did.
        """
        if self.is_loading or self.timeline_error:
            return None
        with rx.session() as session:
            user = self._user_from_token(session)
            if user is None:
                self.timeline = {}
                return self._login_redirect()
            self._read_timeline(session, user)
        return None

    def _act(self, action) -> str | None:
        """Run a lifecycle service on this referral; its answer, or None if refused."""
        self.action_error, self.action_success = "", ""
        with rx.session() as session:
            try:
                user = self._signed_in_user(session)
                answer = action(session=session, user=user, referral_id=self._path_id())
            except ServiceError as error:
                self.action_error = error.message
                return None
            self._read_timeline(session, user)
        return answer if answer is not None else ""

    @rx.event
    def resend_invitation(self):
        """Send the invitation e-mail again, with the same link."""
        mail_state = self._act(referral_lifecycle.resend_invitation)
        if mail_state is not None:
            self.action_success = f"Resend requested. E-mail: {mail_state}."

    @rx.event
    def copy_invitation_link(self):
        """Show the invitation link and put it on the clipboard."""
        link = self._act(referral_lifecycle.invitation_link_for)
        if link is None:
            self.invitation_link = ""
            return None
        self.invitation_link = link
        self.action_success = "Invitation link copied. Anyone with it can accept it."
        return rx.set_clipboard(link)

    @rx.event
    def set_revoke_open(self, is_open: bool):
        """Open or close the Revoke confirmation."""
        self.revoke_open = bool(is_open)

    @rx.event
    def revoke_referral(self):
        """End the recipient's access to this referral at once."""
        self.revoke_open = False
        if self._act(referral_lifecycle.revoke_referral) is not None:
            self.invitation_link = ""
            self.action_success = "Referral revoked: the recipient cannot open it."
