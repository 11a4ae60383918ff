"""State of the Tags page."""

import logging

import reflex as rx

from chub_ui.services import tags
from chub_ui.state.session import SessionState

logger = logging.getLogger(__name__)


class TagsState(SessionState):
    """The user's tagged items, grouped by tag and type."""

    groups: list[dict] = []
    tagged_count: int = 0

    @rx.event
    def load_tags(self):
        """Read the groups again each time the page opens."""
        with rx.session() as session:
            user = self._user_from_token(session)
            if user is None:
                return self._login_redirect()
            self.groups = tags.tag_overview(session=session, user=user)
        self.tagged_count = sum(group["count"] for group in self.groups)
        return None
