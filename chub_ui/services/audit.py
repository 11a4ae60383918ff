"""The append-only audit trail of sensitive actions, readable by account owners."""

import logging
from datetime import UTC

import sqlalchemy as sa
import sqlalchemy.orm
from sqlmodel import Session, func, select

from chub_ui.models import AuditEvent, User
from chub_ui.services.access import require_user
from chub_ui.services.auth import CurrentUser
from chub_ui.services.errors import InvalidInput, NotAllowed
from chub_ui.services.records import PAGE_SIZE, Page, page_bounds, search_conditions
from chub_ui.services.text import printable_only

logger = logging.getLogger(__name__)

SIGN_IN_FAILED = "sign_in_failed"
REFER = "refer"
ACCEPT = "accept"
VIEW = "view"
DOWNLOAD = "download"
SAVE_AS = "save_as"
DECLINE = "decline"
REVOKE = "revoke"
RESEND = "resend"
PLAN_CHANGE = "plan_change"
TEAM_CHANGE = "team_change"
RECORD_DELETE = "record_delete"
# What the owner's filter offers, with the label a user reads.
ACTION_LABELS = {
    SIGN_IN_FAILED: "Sign-in failed",
    REFER: "Referred",
    ACCEPT: "Invitation accepted",
    VIEW: "Referral viewed",
    DOWNLOAD: "Document downloaded",
    SAVE_AS: "Saved as own",
    DECLINE: "Referral declined",
    REVOKE: "Referral revoked",
    RESEND: "Invitation resent",
    PLAN_CHANGE: "Plan changed",
    TEAM_CHANGE: "Team changed",
    RECORD_DELETE: "Record deleted",
}
OWNER_ONLY_MESSAGE = "Only the account's owner can read its audit trail."
MAX_ACTOR_EMAIL = AuditEvent.__table__.c.actor_email.type.length
MAX_TARGET = AuditEvent.__table__.c.target.type.length
MAX_DETAIL = AuditEvent.__table__.c.detail.type.length


class AuditTrailIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete a line of the audit trail."""


def _fitted(text: str, limit: int) -> str:
    # An audit line must never fail the change it records: clean and cut instead.
    shown = " ".join(printable_only(text if isinstance(text, str) else "").split())
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def record_event(
    session: Session,
    *,
    action: str,
    actor: CurrentUser | None = None,
    account_id: int | None = None,
    actor_email: str = "",
    target: str = "",
    detail: str = "",
    actor_id: int | None = None,
) -> None:
    """Add one audit line to the caller's transaction; the caller commits.

    account_id defaults to the actor's account: the account whose owner reads
    the line.

    Args:
        session: the session of the change being recorded.
        action: one of ACTION_LABELS.
        actor: who did it, when they are signed in.
        account_id: whose trail the line joins; the actor's account if None.
        actor_email: who did it, when there is no actor (a failed sign-in);
            the actor's address by default.
        target: what it was done to, as a person reads it.
        detail: anything else worth knowing (never a password or token).
        actor_id: who did it, for a user that has no CurrentUser yet (one who
            has just registered).

    Raises:
        ValueError: for an unknown action (a programming error, not user input).
    """
    if action not in ACTION_LABELS:
        raise ValueError(f"unknown audit action {action!r}")
    if actor is not None:
        actor_id = actor.id
        actor_email = actor_email or actor.email
        if account_id is None:
            account_id = actor.account_id

    session.add(
        AuditEvent(
            account_id=account_id,
            actor_id=actor_id,
            actor_email=_fitted(actor_email, MAX_ACTOR_EMAIL),
            action=action,
            target=_fitted(target, MAX_TARGET),
            detail=_fitted(detail, MAX_DETAIL),
        )
    )


def is_account_owner(*, session: Session, user: CurrentUser | None) -> bool:
    """Whether the user is their account's owner (its first user)."""
    if user is None:
        return False

    first_user_id = session.exec(
        select(func.min(User.id)).where(User.account_id == user.account_id)
    ).one()
    return first_user_id == user.id


def list_audit(
    *,
    session: Session,
    user: CurrentUser | None,
    action: str = "",
    search: str = "",
    page: int = 1,
) -> Page:
    """The account's audit lines, newest first, filtered by action and text.

    Items are dicts: id, at ("YYYY-MM-DD HH:MM:SS UTC"), action, action_label,
    actor (name or e-mail, "" when unknown), target, detail.

    Raises:
        NotSignedIn: without a user.
        NotAllowed: the user is not the account's owner.
        InvalidInput: an action that is not in ACTION_LABELS.
    """
    user = require_user(user)
    if not is_account_owner(session=session, user=user):
        raise NotAllowed(OWNER_ONLY_MESSAGE)
    chosen = action.strip() if isinstance(action, str) else None
    if chosen is None or (chosen and chosen not in ACTION_LABELS):
        raise InvalidInput("Choose an action from the list.")

    conditions = [
        AuditEvent.account_id == user.account_id,
        *search_conditions(
            search, AuditEvent.actor_email, AuditEvent.target, AuditEvent.detail
        ),
    ]
    if chosen:
        conditions.append(AuditEvent.action == chosen)
    total = session.exec(
        select(func.count()).select_from(AuditEvent).where(*conditions)
    ).one()
    page, pages = page_bounds(page, total)
    rows = session.exec(
        select(AuditEvent, User)
        .join(User, User.id == AuditEvent.actor_id, isouter=True)
        .where(*conditions)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    items = [
        {
            "id": line.id,
            "at": line.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "action": line.action,
            "action_label": ACTION_LABELS.get(line.action, line.action),
            "actor": (actor.full_name or actor.email) if actor else line.actor_email,
            "actor_email": actor.email if actor else line.actor_email,
            "target": line.target,
            "detail": line.detail,
        }
        for line, actor in rows
    ]
    return Page(items, total, page, pages)


@sa.event.listens_for(sa.orm.Session, "before_flush")
def _refuse_changed_audit_lines(session, flush_context, instances) -> None:
    """Stop any flush that would update or delete an audit line."""
    touched = [
        row for row in (*session.dirty, *session.deleted) if isinstance(row, AuditEvent)
    ]
    if touched:
        raise AuditTrailIsAppendOnly(
            "audit lines are append-only: they cannot be changed or deleted"
        )


@sa.event.listens_for(sa.orm.Session, "do_orm_execute")
def _refuse_bulk_audit_changes(orm_execute_state) -> None:
    """Stop an UPDATE or DELETE statement on the audit table run by a session."""
    if not (orm_execute_state.is_update or orm_execute_state.is_delete):
        return
    table = getattr(orm_execute_state.statement, "table", None)
    if getattr(table, "name", None) == AuditEvent.__tablename__:
        raise AuditTrailIsAppendOnly(
            "audit lines are append-only: they cannot be changed or deleted"
        )
