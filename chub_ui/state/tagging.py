"""A mixin that lets a page's items be tagged Important or Unimportant."""

import logging

import reflex as rx

from chub_ui.services import tags
from chub_ui.services.errors import ServiceError

logger = logging.getLogger(__name__)


class TaggingMixin(rx.State, mixin=True):
    """Sets the acting user's tag on a lead, contact or document.

    The state that mixes it in defines `_after_tagging`, which reloads what the
    page shows; the service checks that the user may see the item.
    """

    tag_error: str = ""

    def _after_tagging(self):
        return None

    def _with_tags(self, session, user, items: list[dict], item_type: str) -> list:
        """The items with a "tag" key holding the user's tag, or ""."""
        found = tags.tags_for(
            session=session,
            user=user,
            item_type=item_type,
            item_ids=[item["id"] for item in items],
        )
        return [{**item, "tag": found.get(item["id"], "")} for item in items]

    @rx.event
    def set_item_tag(self, item_type: str, item_id: int, value: str):
        """Mark an item Important or Unimportant, or clear its tag."""
        self.tag_error = ""
        with rx.session() as session:
            try:
                user = self._signed_in_user(session)
                tags.set_tag(
                    session=session,
                    user=user,
                    item_type=item_type,
                    item_id=item_id,
                    value=value,
                )
            except ServiceError as error:
                self.tag_error = error.message
                return None
        return self._after_tagging()
