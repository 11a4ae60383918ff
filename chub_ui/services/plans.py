"""The free and paid plans, changing an account's plan, and its team."""

import logging
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from chub_ui.models import PLAN_FREE, PLAN_PAID, Account, Invitation, User, utcnow
from chub_ui.services import audit, mail
from chub_ui.services.access import require_user
from chub_ui.services.addresses import normalize_email
from chub_ui.services.auth import CurrentUser, hash_token
from chub_ui.services.errors import InvalidInput, NotSignedIn, PlanRequired
from chub_ui.settings import settings

logger = logging.getLogger(__name__)

PLAN_NAMES = {PLAN_FREE: "Free", PLAN_PAID: "Paid"}
TEAM_PLAN_MESSAGE = (
    "Adding users to your team needs the paid plan. Upgrade your account on the "
    "plans page, then invite them by e-mail."
)
INVITATION_PENDING = "pending"
INVITATION_EXPIRED = "expired"

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
    if old_plan != new_plan:
        audit.record_event(
            session,
            action=audit.PLAN_CHANGE,
            actor=user,
            target=account.name,
            detail=f"{PLAN_NAMES.get(old_plan, old_plan)} to {PLAN_NAMES[new_plan]}",
        )
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


def _lock_account(session: Session, account_id: int) -> None:
    """Hold the account's row until the caller commits or rolls back.

    A no-op UPDATE is the lock: of two invitations at once, the second waits
    here and then sees the first, on SQLite and PostgreSQL alike.
    """
    session.execute(
        sa.update(Account)
        .where(Account.id == account_id)
        .values(name=Account.name)
        .execution_options(synchronize_session=False)
    )


def _pending_team_invitation(
    session: Session, account_id: int, address: str
) -> Invitation | None:
    """The account's unaccepted, unexpired invitation to the address, if any."""
    return session.exec(
        select(Invitation)
        .where(
            Invitation.account_id == account_id,
            Invitation.email == address,
            Invitation.accepted_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
        .order_by(Invitation.id.desc())
    ).first()


def invite_team_member(*, session: Session, user: CurrentUser, email: str) -> dict:
    """Invite someone by e-mail to join the acting user's paid account.

    The invitation and its e-mail in the outbox are written in one
    transaction. Whoever registers through the link becomes a user of this
    account, with its plan and its team messages.

    Args:
        session: the database session.
        user: the acting user, a member of the account.
        email: the address to invite, as typed.

    Returns:
        {"email": the address as stored, "mail_status": the e-mail's state,
        such as "queued" or "not sent: no SMTP server configured"}.

    Raises:
        NotSignedIn: there is no acting user.
        PlanRequired: the account is on the free plan now, however this is
            called.
        InvalidInput: a bad address, the user's own address, an address that
            already has an account, or an invitation to it still pending.
    """
    # Imported here: referrals uses notifications, which imports this module.
    from chub_ui.services.referrals import MAIL_STATE_LABELS, invitation_link

    user = require_paid_account(session=session, user=user, message=TEAM_PLAN_MESSAGE)
    address = normalize_email(email)
    if address == user.email:
        raise InvalidInput("That is your own address: you are on this team already.")
    member = session.exec(select(User).where(User.email == address)).first()
    if member is not None and member.account_id == user.account_id:
        raise InvalidInput(f"{address} is already on your team.")
    if member is not None:
        # Known limit: existing accounts cannot join another team yet, because a
        # user belongs to exactly one account and moving one would strand its data.
        raise InvalidInput(
            f"{address} already has an account. Known limit: existing accounts "
            "cannot join another team yet."
        )
    _lock_account(session, user.account_id)
    pending = _pending_team_invitation(session, user.account_id, address)
    if pending is not None:
        sent = pending.created_at
        session.rollback()
        raise InvalidInput(
            f"An invitation to {address} to join your team is still pending "
            f"(sent {sent:%Y-%m-%d %H:%M} UTC); no second invitation was sent."
        )

    account = session.get(Account, user.account_id)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    invitation = Invitation(
        token_hash=hash_token(token),
        email=address,
        inviter_id=user.id,
        referral_id=None,
        account_id=user.account_id,
        created_at=now,
        expires_at=now + timedelta(days=settings.invitation_days),
    )
    session.add(invitation)
    session.flush()
    link = invitation_link(token)
    subject, body_text, body_html = mail.team_invitation_message(
        inviter_name=user.display_name, account_name=account.name, link=link
    )
    outbox = mail.queue_message(
        session,
        to_address=address,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        invitation_id=invitation.id,
    )
    audit.record_event(
        session,
        action=audit.TEAM_CHANGE,
        actor=user,
        target=address,
        detail="team invitation sent",
    )
    status = outbox.status
    invitation_id = invitation.id
    session.commit()

    logger.info(
        "team invitation %s for account %s queued by user %s",
        invitation_id,
        user.account_id,
        user.id,
    )
    if status == mail.STATUS_UNSENT:
        # Without SMTP the log is the only way to the link (demo and dev only).
        logger.warning("no SMTP server configured; team invitation link: %s", link)
    return {"email": address, "mail_status": MAIL_STATE_LABELS.get(status, status)}


def pending_team_invitations(*, session: Session, user: CurrentUser) -> list[dict]:
    """The account's team invitations not accepted yet, newest first.

    Only the latest invitation to each address is listed, as "pending" or
    "expired"; accepted ones are in team_members instead.

    Args:
        session: the database session.
        user: the acting user, a member of the account.

    Returns:
        A dict per address: "email", "sent" (UTC, to the minute) and "state".

    Raises:
        NotSignedIn: there is no acting user.
    """
    user = require_user(user)

    rows = session.exec(
        select(Invitation)
        .where(Invitation.account_id == user.account_id)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ).all()
    now = utcnow()
    seen: set[str] = set()
    listed: list[dict] = []
    for invitation in rows:
        # The newest invitation to an address speaks for it.
        if invitation.email in seen:
            continue
        seen.add(invitation.email)
        if invitation.accepted_at is not None:
            continue
        listed.append(
            {
                "email": invitation.email,
                "sent": f"{invitation.created_at:%Y-%m-%d %H:%M} UTC",
                "state": INVITATION_EXPIRED
                if invitation.expires_at <= now
                else INVITATION_PENDING,
            }
        )
    return listed
