"""Access checks shared by the services."""

import logging

from chub_ui.services.auth import CurrentUser
from chub_ui.services.errors import NotSignedIn, PlanRequired

logger = logging.getLogger(__name__)


def require_user(user: CurrentUser | None) -> CurrentUser:
    """The acting user, or NotSignedIn."""
    if user is None:
        raise NotSignedIn()
    return user


def require_paid(user: CurrentUser | None) -> CurrentUser:
    """The acting user if their account has the full CRM, or PlanRequired."""
    user = require_user(user)
    if not user.is_paid:
        raise PlanRequired()
    return user
