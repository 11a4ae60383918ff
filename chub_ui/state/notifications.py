"""State of the bell, the Notifications page and the team composer."""

import logging

import reflex as rx

from chub_ui.services import notifications
from chub_ui.services.errors import ServiceError
from chub_ui.state.paging import PagedListMixin
from chub_ui.state.session import SessionState

logger = logging.getLogger(__name__)


class NotificationsState(PagedListMixin, SessionState):
    """Unread count for the bell; the list, read marks and team messages."""

    unread: int = 0
    show: str = notifications.SHOW_ALL
    team: list[dict] = []
    team_error: str = ""
    team_success: str = ""

    def _load_page(self):
        with rx.session() as session:
            user = self._user_from_token(session)
            if user is None:
                return self._login_redirect()
            found = notifications.list_notifications(
                session=session, user=user, show=self.show, page=self.page
            )
            self.unread = notifications.unread_count(session=session, user=user)
            self.team = notifications.team_messages(session=session, user=user)
        self.items = found.items
        self.page, self.pages, self.total = found.page, found.pages, found.total
        return None

    @rx.event
    def refresh_unread(self, _tick: str = ""):
        """Read the unread count again; the bell's timer calls this."""
        with rx.session() as session:
            user = self._user_from_token(session)
            if user is not None:
                self.unread = notifications.unread_count(session=session, user=user)

    @rx.event
    def load_notifications(self):
        """Open the page on the first page of everything."""
        self.page, self.team_error, self.team_success = 1, "", ""
        return self._load_page()

    @rx.event
    def set_show(self, show: str | list[str]):
        """Show all notifications or only the unread ones."""
        show = show[0] if isinstance(show, list) and show else show
        self.show = (
            show if show in (notifications.SHOW_ALL, notifications.SHOW_UNREAD) else ""
        ) or notifications.SHOW_ALL
        self.page = 1
        return self._load_page()

    @rx.event
    def mark_read(self, notification_id: int):
        """Mark one notification read."""
        with rx.session() as session:
            user = self._user_from_token(session)
            if user is None:
                return self._login_redirect()
            try:
                notifications.mark_read(
                    session=session, user=user, notification_id=notification_id
                )
            except ServiceError as error:
                self.team_error = error.message
        return self._load_page()

    @rx.event
    def mark_all_read(self):
        """Mark every notification read."""
        with rx.session() as session:
            user = self._user_from_token(session)
            if user is None:
                return self._login_redirect()
            notifications.mark_all_read(session=session, user=user)
        return self._load_page()

    @rx.event
    def send_team_message(self, form_data: dict):
        """Write to the team; the service refuses a free account."""
        self.team_error, self.team_success = "", ""
        with rx.session() as session:
            try:
                user = self._signed_in_user(session)
                count = notifications.send_team_message(
                    session=session, user=user, body=str(form_data.get("body", ""))
                )
            except ServiceError as error:
                self.team_error = error.message
                return None
        plural = "" if count == 1 else "s"
        self.team_success = f"Sent to {count} teammate{plural}."
        self._load_page()
        return rx.set_value("team-body", "")
