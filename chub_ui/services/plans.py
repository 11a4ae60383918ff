"""The free and paid plans, changing an account's plan, and its team."""

import logging

from sqlmodel import Session, select

from chub_ui.models import PLAN_FREE, PLAN_PAID, Account, User
from chub_ui.services.access import require_user
from chub_ui.services.auth import CurrentUser
from chub_ui.services.errors import InvalidInput, NotSignedIn, PlanRequired

logger = logging.getLogger(__name__)

PLAN_NAMES = {PLAN_FREE: "Free", PLAN_PAID: "Paid"}

# What the upgrade page compares; both plans list the same features in turn.
PLANS = [
    {
        "plan": PLAN_FREE,
        "name": "Partner's Network",
        "price_text": "Free",
        "features": [
            "Leads and contacts referred to you",
            "A document library: your files and the files shared with you",
            "Referring documents to partners by e-mail",
            "Private Important and Unimportant tags",
            "Notifications",
        ],
        "missing": [
            "Your own leads and contacts (the full CRM)",
            "Referring leads and contacts by e-mail",
            "Save As: copying a referred lead or contact into your own CRM",
            "CSV import of leads and contacts",
            "Team members and team messages",
        ],
    },
    {
        "plan": PLAN_PAID,
        "name": "Full CRM",
        "price_text": "Paid — no payment provider yet",
        "features": [
            "Everything in the Partner's Network",
            "Your own leads and contacts (the full CRM)",
            "Referring leads and contacts by e-mail",
            "Save As: copying a referred lead or contact into your own CRM",
            "CSV import of leads and contacts",
            "Team members and team messages",
        ],
        "missing": [],
    },
]


def account_plan(session: Session, account_id: int) -> str:
    """The plan an account is on now, read from the database."""
    plan = session.exec(select(Account.plan).where(Account.id == account_id)).first()
    if plan is None:
        raise NotSignedIn()
    return plan


def require_paid_account(
    *, session: Session, user: CurrentUser | None, message: str = ""
) -> CurrentUser:
    """The acting user if their account is on the paid plan now, or PlanRequired.

    The plan is read from the database rather than from the CurrentUser, so a
    teammate's downgrade a moment ago counts for a page that is still open.

    Args:
        session: the database session.
        user: the acting user.
        message: what to tell a free account instead of the general message.

    Raises:
        NotSignedIn: there is no acting user.
        PlanRequired: the account is on the free plan.
    """
    user = require_user(user)
    if account_plan(session, user.account_id) != PLAN_PAID:
        raise PlanRequired(message) if message else PlanRequired()
    return user


def change_plan(*, session: Session, user: CurrentUser, plan: str) -> str:
    """Move the user's account to the free or the paid plan at once.

    Every row is kept: a downgrade only locks the paid features until the
    account upgrades again. Known limit: there are no roles yet, so any user of
    an account may change its plan. Known limit: no payment provider is wired
    in, so an upgrade costs nothing.

    Args:
        session: the database session.
        user: the acting user.
        plan: "free" or "paid".

    Returns:
        The account's new plan.

    Raises:
        InvalidInput: the plan is not one of the two.
    """
    user = require_user(user)
    new_plan = (plan or "").strip().lower() if isinstance(plan, str) else ""
    if new_plan not in PLAN_NAMES:
        raise InvalidInput("Choose the free or the paid plan.")
    account = session.get(Account, user.account_id)
    if account is None:
        raise NotSignedIn()

    old_plan = account.plan
    account.plan = new_plan
    session.add(account)
    session.commit()

    logger.info(
        "account %s plan changed from %s to %s by user %s",
        user.account_id,
        old_plan,
        new_plan,
        user.id,
    )
    return new_plan


def team_members(*, session: Session, user: CurrentUser) -> list[dict]:
    """The users of the acting user's account, in the order they joined."""
    user = require_user(user)

    rows = session.exec(
        select(User)
        .where(User.account_id == user.account_id)
        .order_by(User.created_at, User.id)
    ).all()
    return [
        {
            "name": member.full_name or member.email,
            "email": member.email,
            "joined": f"{member.created_at:%Y-%m-%d}",
        }
        for member in rows
    ]
