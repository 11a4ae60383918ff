"""The base state: the session cookie and the signed-in user's public data."""

import logging

import reflex as rx
from sqlmodel import Session

from chub_ui import routes
from chub_ui.services import auth
from chub_ui.services.auth import CurrentUser
from chub_ui.services.errors import NotSignedIn
from chub_ui.settings import SESSION_COOKIE, settings

logger = logging.getLogger(__name__)


class SessionState(rx.State):
    """Holds only the client's token; every feature state derives from it."""

    session_token: str = rx.Cookie(
        "",
        name=SESSION_COOKIE,
        path="/",
        max_age=settings.session_days * 24 * 3600,
        same_site="lax",
    )
    user: dict = {}
    notice: str = ""

    @rx.var
    def is_signed_in(self) -> bool:
        """Whether a user was found behind the token."""
        return bool(self.user)

    @rx.var
    def is_paid(self) -> bool:
        """Whether the signed-in account has the full CRM."""
        return bool(self.user.get("is_paid"))

    def _user_from_token(self, session: Session) -> CurrentUser | None:
        """The signed-in user, looked up anew in the database every time."""
        try:
            user = auth.user_for_token(session, self.session_token)
        except NotSignedIn:
            self.user = {}
            return None
        self.user = user.as_dict()
        return user

    def _signed_in_user(self, session: Session) -> CurrentUser:
        """The signed-in user, or NotSignedIn for the handler to show."""
        user = self._user_from_token(session)
        if user is None:
            raise NotSignedIn()
        return user

    def _user_or_redirect(self, session: Session, *, paid_notice: str = ""):
        """(the signed-in user, None), or (None, the redirect to take).

        With paid_notice, a free account is sent to its Referral page with
        that notice, for the pages that belong to the full CRM.
        """
        user = self._user_from_token(session)
        if user is None:
            return None, self._login_redirect()
        if paid_notice and not user.is_paid:
            self.notice = paid_notice
            return None, rx.redirect(routes.REFERRALS)
        return user, None

    def _path_id(self) -> int:
        """The number at the end of the address, such as /referrals/12; 0 if none."""
        last = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        return int(last) if last.isascii() and last.isdigit() and len(last) < 19 else 0

    def _login_redirect(self):
        return rx.redirect(routes.login_with_next(self.router.url.path or "/"))

    @rx.event
    def dismiss_notice(self):
        """Hide the notice banner."""
        self.notice = ""

    @rx.event
    def open_home(self):
        """Send the visitor to the start page of their plan, or to sign in."""
        with rx.session() as session:
            user = self._user_from_token(session)
        if user is None:
            return rx.redirect(routes.LOGIN)
        return rx.redirect(routes.LEADS if user.is_paid else routes.REFERRALS)

    @rx.event
    def check_signed_in(self):
        """Guard for pages without data of their own: sign in first."""
        with rx.session() as session:
            user = self._user_from_token(session)
        if user is None:
            return self._login_redirect()
        return None

    @rx.event
    def sign_out(self):
        """End the session here and in the database."""
        with rx.session() as session:
            auth.logout(session=session, token=self.session_token)
        self.session_token = ""
        self.user = {}
        return rx.redirect(routes.LOGIN)
