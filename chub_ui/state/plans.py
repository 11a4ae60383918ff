"""State of the upgrade page and the team page."""

import logging

import reflex as rx

from chub_ui.services import plans
from chub_ui.services.errors import ServiceError
from chub_ui.state.session import SessionState

logger = logging.getLogger(__name__)


class PlansState(SessionState):
    """Compare the plans, change the account's plan, list the team."""

    plan_cards: list[dict] = plans.PLANS
    members: list[dict] = []
    pending: list[dict] = []
    plan_error: str = ""
    plan_success: str = ""
    team_error: str = ""
    team_success: str = ""

    def _load_team(self, session, user) -> None:
        self.members = plans.team_members(session=session, user=user)
        self.pending = plans.pending_team_invitations(session=session, user=user)

    @rx.event
    def load_team(self):
        """Open the team page: members and invitations still open."""
        self.team_error, self.team_success = "", ""
        with rx.session() as session:
            user = self._user_from_token(session)
            if user is None:
                return self._login_redirect()
            self._load_team(session, user)
        return None

    @rx.event
    def invite_member(self, form_data: dict):
        """Invite someone by e-mail to join the account; paid accounts only."""
        self.team_error, self.team_success = "", ""
        with rx.session() as session:
            try:
                user = self._signed_in_user(session)
                sent = plans.invite_team_member(
                    session=session, user=user, email=str(form_data.get("email", ""))
                )
            except ServiceError as error:
                self.team_error = error.message
                return None
            self._load_team(session, user)
        self.team_success = (
            f"Invited {sent['email']}. Invitation e-mail: {sent['mail_status']}."
        )
        return rx.set_value("team-invite-email", "")

    @rx.event
    def load_plans(self):
        """Open the upgrade page."""
        self.plan_error, self.plan_success = "", ""
        with rx.session() as session:
            user = self._user_from_token(session)
            if user is None:
                return self._login_redirect()
            self.members = plans.team_members(session=session, user=user)
        return None

    @rx.event
    def choose_plan(self, plan: str):
        """Move the account to a plan at once; data is kept either way."""
        self.plan_error, self.plan_success = "", ""
        with rx.session() as session:
            try:
                user = self._signed_in_user(session)
                new_plan = plans.change_plan(session=session, user=user, plan=plan)
            except ServiceError as error:
                self.plan_error = error.message
                return
            self._user_from_token(session)
        self.plan_success = (
            "Your account now has the full CRM."
            if new_plan == "paid"
            else "Your account is on the free plan. Your leads and contacts are "
            "kept, locked until you upgrade again."
        )
