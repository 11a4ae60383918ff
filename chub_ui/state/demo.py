"""State of the demo mailbox page."""

import logging

import reflex as rx

from chub_ui.services import demo
from chub_ui.services.errors import ServiceError
from chub_ui.state.session import SessionState

logger = logging.getLogger(__name__)


class DemoMailboxState(SessionState):
    """Messages the outbox holds, shown only in demo mode."""

    messages: list[dict] = []
    mailbox_error: str = ""

    @rx.event
    def load_mailbox(self):
        """Read the newest outbox messages, or say the mailbox is off."""
        self.messages, self.mailbox_error = [], ""
        with rx.session() as session:
            self._user_from_token(session)
            try:
                self.messages = demo.demo_mailbox(session=session)
            except ServiceError as error:
                self.mailbox_error = error.message
