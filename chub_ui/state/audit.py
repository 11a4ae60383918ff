"""State of the audit page: the account owner's trail of sensitive actions."""

import logging

import reflex as rx

from chub_ui.services import audit
from chub_ui.services.errors import ServiceError
from chub_ui.state.paging import PagedListMixin
from chub_ui.state.session import SessionState

logger = logging.getLogger(__name__)

# The filter's choice for "no filter": Radix selects cannot hold an empty value.
EVERY_ACTION = "all"


class AuditState(PagedListMixin, SessionState):
    """The audit lines of the user's account, for its owner only."""

    action: str = EVERY_ACTION
    audit_error: str = ""
    is_loading: bool = True

    def _load_page(self):
        with rx.session() as session:
            user = self._user_from_token(session)
            if user is None:
                return self._login_redirect()
            try:
                found = audit.list_audit(
                    session=session,
                    user=user,
                    action="" if self.action == EVERY_ACTION else self.action,
                    search=self.search,
                    page=self.page,
                )
            except ServiceError as error:
                # Nothing of the trail stays on a page its reader may not see.
                self.items, self.total, self.page, self.pages = [], 0, 1, 1
                self.audit_error, self.is_loading = error.message, False
                return None
        self.items = found.items
        self.page, self.pages, self.total = found.page, found.pages, found.total
        self.audit_error, self.is_loading = "", False
        return None

    @rx.event
    def load_audit(self):
        """Open the trail on its first page, every action, no search."""
        self.page, self.search, self.action = 1, "", EVERY_ACTION
        self.is_loading = True
        return self._load_page()

    @rx.event
    def set_action(self, action: str):
        """Show one kind of action, or every kind."""
        self.action = action if action in audit.ACTION_LABELS else EVERY_ACTION
        self.page = 1
        return self._load_page()
