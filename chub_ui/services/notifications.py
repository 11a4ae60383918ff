"""Notifications for each user, and the team messages that fan out into them."""

import logging

import sqlalchemy as sa
from sqlmodel import Session, func, select

from chub_ui.models import Notification, TeamMessage, User, utcnow
from chub_ui.services.access import require_user
from chub_ui.services.auth import CurrentUser
from chub_ui.services.errors import InvalidInput, NotAllowed
from chub_ui.services.plans import require_paid_account
from chub_ui.services.records import PAGE_SIZE, Page, page_bounds
from chub_ui.services.text import check_free_text, clean_id

logger = logging.getLogger(__name__)

KIND_REFERRAL = "referral"
KIND_SHARED = "shared"
KIND_SAVED = "saved"
KIND_TEAM_MESSAGE = "team_message"
# A recipient declined a referral; the referrer reads the reason.
KIND_DECLINED = "declined"
KINDS = (KIND_REFERRAL, KIND_SHARED, KIND_SAVED, KIND_TEAM_MESSAGE, KIND_DECLINED)

SHOW_ALL = "all"
SHOW_UNREAD = "unread"

MAX_TEXT_LENGTH = Notification.__table__.c.text.type.length
MAX_TEAM_MESSAGE_LENGTH = TeamMessage.__table__.c.body.type.length
MAX_TEAM_MESSAGES_SHOWN = 200
TEAM_MESSAGES_PLAN_MESSAGE = (
    "Team messages need the paid plan. Upgrade your account on the plans page "
    "to write to your team."
)


def notify(
    *,
    session: Session,
    user_id: int,
    kind: str,
    text: str,
    link: str = "",
    actor_id: int | None = None,
) -> None:
    """Add a notification for one user; the caller commits with its own change.

    Args:
        session: the database session of the change that causes it.
        user_id: who is notified.
        kind: referral, shared, saved, team_message or declined.
        text: what the user reads; cut to the column's length if longer.
        link: the page it opens, or "".
        actor_id: the user who caused it, if any.

    Raises:
        ValueError: for an unknown kind (a programming error, not user input).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    shown = (text or "").strip()
    if len(shown) > MAX_TEXT_LENGTH:
        shown = shown[: MAX_TEXT_LENGTH - 1] + "…"

    session.add(
        Notification(
            user_id=user_id, kind=kind, text=shown, link=link, actor_id=actor_id
        )
    )


def unread_count(*, session: Session, user: CurrentUser) -> int:
    """How many of the user's notifications are unread, for the bell."""
    user = require_user(user)
    return session.exec(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ).one()


def list_notifications(
    *, session: Session, user: CurrentUser, show: str = SHOW_ALL, page: int = 1
) -> Page:
    """The user's notifications, newest first, all or unread only, paged.

    Raises:
        InvalidInput: show is neither "all" nor "unread".
    """
    user = require_user(user)
    if show not in (SHOW_ALL, SHOW_UNREAD):
        raise InvalidInput("Show all or unread notifications.")

    conditions = [Notification.user_id == user.id]
    if show == SHOW_UNREAD:
        conditions.append(Notification.read_at.is_(None))
    total = session.exec(
        select(func.count()).select_from(Notification).where(*conditions)
    ).one()
    page, pages = page_bounds(page, total)
    rows = session.exec(
        select(Notification)
        .where(*conditions)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    items = [
        {
            "id": row.id,
            "kind": row.kind,
            "text": row.text,
            "link": row.link,
            "created": f"{row.created_at:%Y-%m-%d %H:%M} UTC",
            "is_unread": row.read_at is None,
        }
        for row in rows
    ]
    return Page(items, total, page, pages)


def mark_read(*, session: Session, user: CurrentUser, notification_id: int) -> None:
    """Mark one of the user's notifications read.

    Raises:
        NotAllowed: the notification does not exist or is someone else's.
    """
    user = require_user(user)
    row = session.get(Notification, clean_id(notification_id))
    if row is None or row.user_id != user.id:
        raise NotAllowed("This notification does not exist.")

    if row.read_at is None:
        row.read_at = utcnow()
        session.add(row)
        session.commit()


def mark_all_read(*, session: Session, user: CurrentUser) -> int:
    """Mark every unread notification of the user read; returns how many."""
    user = require_user(user)

    result = session.exec(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    session.commit()
    return result.rowcount


def clean_team_message(body: str | None) -> str:
    """A team message trimmed, 1 to 2000 characters, without control characters.

    Raises:
        InvalidInput: the message is empty, too long, or has control characters
            other than line breaks and tabs, or a character UTF-8 cannot hold.
    """
    text = body if isinstance(body, str) else ""
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput("Write a message first.")
    if len(text) > MAX_TEAM_MESSAGE_LENGTH:
        raise InvalidInput(
            f"A team message can have at most {MAX_TEAM_MESSAGE_LENGTH} characters."
        )
    return check_free_text(text, "The message", multiline=True)


def send_team_message(*, session: Session, user: CurrentUser, body: str) -> int:
    """Write to every other user of a paid account, as one transaction.

    The message and a notification for each teammate are committed together.

    Args:
        session: the database session.
        user: the author.
        body: the message as typed.

    Returns:
        How many teammates were notified.

    Raises:
        PlanRequired: the account is on the free plan, however this is called.
        InvalidInput: the message is empty, too long or has control characters.
    """
    user = require_paid_account(
        session=session, user=user, message=TEAM_MESSAGES_PLAN_MESSAGE
    )
    text = clean_team_message(body)

    session.add(TeamMessage(account_id=user.account_id, author_id=user.id, body=text))
    recipients = session.exec(
        select(User.id).where(User.account_id == user.account_id, User.id != user.id)
    ).all()
    for recipient_id in recipients:
        notify(
            session=session,
            user_id=recipient_id,
            kind=KIND_TEAM_MESSAGE,
            text=f"{user.display_name}: {text}",
            actor_id=user.id,
        )
    session.commit()

    logger.info(
        "team message by user %s sent to %s teammates", user.id, len(recipients)
    )
    return len(recipients)


def team_messages(
    *, session: Session, user: CurrentUser, limit: int = 50
) -> list[dict]:
    """The account's most recent team messages, newest first, on any plan.

    A downgraded account still reads its history; only sending is paid.
    """
    user = require_user(user)
    limit = min(max(1, int(limit)), MAX_TEAM_MESSAGES_SHOWN)

    rows = session.exec(
        select(TeamMessage, User)
        .join(User, User.id == TeamMessage.author_id)
        .where(TeamMessage.account_id == user.account_id)
        .order_by(TeamMessage.created_at.desc(), TeamMessage.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "id": message.id,
            "author": author.full_name or author.email,
            "body": message.body,
            "when": f"{message.created_at:%Y-%m-%d %H:%M} UTC",
            "is_mine": author.id == user.id,
        }
        for message, author in rows
    ]
