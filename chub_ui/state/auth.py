"""Sign-in form state."""

import asyncio
import logging

import reflex as rx

from chub_ui import routes
from chub_ui.services import auth
from chub_ui.services.errors import ServiceError
from chub_ui.state.session import SessionState

logger = logging.getLogger(__name__)


def _login_in_thread(email: str, password: str, old_token: str) -> str:
    # argon2 is slow on purpose: it runs here, away from the event loop.
    with rx.session() as session:
        token = auth.login(session=session, email=email, password=password)
        auth.logout(session=session, token=old_token)
        return token


class AuthState(SessionState):
    """The login page."""

    login_error: str = ""
    is_submitting: bool = False

    @rx.event
    def load_login(self):
        """Clear the form, and skip it for someone already signed in."""
        self.login_error = ""
        self.is_submitting = False
        with rx.session() as session:
            user = self._user_from_token(session)
        if user is not None:
            return rx.redirect(self._next_path())
        return None

    def _next_path(self) -> str:
        target = self.router.url.query_parameters.get("next", "")
        return target if routes.is_safe_next(target) else routes.HOME

    @rx.event
    async def submit_login(self, form_data: dict):
        """Check the credentials off the loop and start a fresh session."""
        self.is_submitting = True
        self.login_error = ""
        yield
        try:
            token = await asyncio.to_thread(
                _login_in_thread,
                str(form_data.get("email", "")),
                str(form_data.get("password", "")),
                self.session_token,
            )
        except ServiceError as error:
            self.login_error = error.message
            self.is_submitting = False
            return
        self.session_token = token
        self.is_submitting = False
        yield rx.redirect(self._next_path())
