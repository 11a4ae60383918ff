"""State of the invitation page: register, sign in or accept."""

import asyncio
import logging

import reflex as rx

from chub_ui import routes
from chub_ui.services import auth, invitations
from chub_ui.services.errors import InvitationUnusable, ServiceError
from chub_ui.state.session import SessionState

logger = logging.getLogger(__name__)


def _token_from_path(path: str) -> str:
    prefix = "/invite/"
    return path[len(prefix) :].strip("/") if path.startswith(prefix) else ""


def _register_in_thread(token: str, password: str, full_name: str) -> tuple[str, str]:
    with rx.session() as session:
        return invitations.register_from_invitation(
            session=session, token=token, password=password, full_name=full_name
        )


def _login_and_accept_in_thread(token: str, password: str) -> tuple[str, str]:
    with rx.session() as session:
        view = invitations.inspect_invitation(session=session, token=token, user=None)
        session_token = auth.login(session=session, email=view.email, password=password)
        user = auth.user_for_token(session, session_token)
        return session_token, invitations.accept_invitation(
            session=session, token=token, user=user
        )


class InvitationState(SessionState):
    """What an invitation link offers the visitor who opened it."""

    view: str = ""
    unusable_message: str = ""
    invited_email: str = ""
    inviter_name: str = ""
    item_label: str = ""
    item_kind: str = ""
    form_error: str = ""
    is_submitting: bool = False

    @rx.event
    def load_invitation(self):
        """Decide between registering, signing in, accepting or refusing."""
        self.form_error, self.unusable_message, self.is_submitting = "", "", False
        token = _token_from_path(self.router.url.path)
        with rx.session() as session:
            user = self._user_from_token(session)
            try:
                found = invitations.inspect_invitation(
                    session=session, token=token, user=user
                )
                self.view = found.view
                self.invited_email = found.email
                self.inviter_name = found.inviter_name
                self.item_label = found.item_label
                self.item_kind = found.item_kind
                if found.view == invitations.VIEW_READY:
                    landing = invitations.accept_invitation(
                        session=session, token=token, user=user
                    )
                    return rx.redirect(landing)
            except InvitationUnusable as error:
                self.view = "unusable"
                self.unusable_message = error.message
            except ServiceError as error:
                # Signed in as the invited address, but the link cannot be
                # accepted by an existing account (a team invitation).
                self.view = "unusable"
                self.unusable_message = error.message
        return None

    @rx.event
    async def submit_registration(self, form_data: dict):
        """Create the free account for the invited address and open the record."""
        password = str(form_data.get("password", ""))
        if password != str(form_data.get("password_again", "")):
            self.form_error = "The two passwords are not the same."
            return
        self.is_submitting, self.form_error = True, ""
        yield
        token = _token_from_path(self.router.url.path)
        try:
            session_token, landing = await asyncio.to_thread(
                _register_in_thread,
                token,
                password,
                str(form_data.get("full_name", "")),
            )
        except ServiceError as error:
            self.form_error, self.is_submitting = error.message, False
            return
        self.session_token = session_token
        yield rx.redirect(landing)

    @rx.event
    async def submit_login(self, form_data: dict):
        """Sign in as the invited address and open the record."""
        self.is_submitting, self.form_error = True, ""
        yield
        token = _token_from_path(self.router.url.path)
        try:
            session_token, landing = await asyncio.to_thread(
                _login_and_accept_in_thread, token, str(form_data.get("password", ""))
            )
        except ServiceError as error:
            self.form_error, self.is_submitting = error.message, False
            return
        self.session_token = session_token
        yield rx.redirect(landing)

    @rx.event
    def sign_out_here(self):
        """Sign out, then show the invitation again to the next visitor."""
        with rx.session() as session:
            auth.logout(session=session, token=self.session_token)
        self.session_token, self.user = "", {}
        return rx.redirect(routes.invite_url(_token_from_path(self.router.url.path)))
