"""Invitation links: what they show, and accepting them once."""

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from chub_ui import routes
from chub_ui.models import (
    ITEM_DOCUMENT,
    PLAN_FREE,
    PLAN_PAID,
    Account,
    Document,
    Invitation,
    Record,
    Referral,
    User,
    utcnow,
)
from chub_ui.services import audit, auth, referral_lifecycle, referrals
from chub_ui.services.auth import CurrentUser, hash_token
from chub_ui.services.errors import InvalidInput, InvitationUnusable

logger = logging.getLogger(__name__)

MAX_TOKEN_LENGTH = 200
# Where a recipient lands after accepting a referred document.
LIBRARY_PATH = routes.LIBRARY
# Where a new team member lands: their team's messages arrive there.
TEAM_LANDING_PATH = routes.NOTIFICATIONS
# The item_kind of an invitation to join a paid account's team.
ITEM_TEAM = "team"

# What the invitation page shows, by the state of the link and the visitor.
VIEW_REGISTER = "register"
VIEW_LOGIN = "login"
VIEW_READY = "ready"
VIEW_OTHER_USER = "other_user"

UNUSABLE_MESSAGES = {
    "invalid": "This invitation link is not valid. Check that you copied the "
    "whole link from the e-mail.",
    "used": "This invitation has already been used. Sign in to see what was "
    "referred to you.",
    "expired": "This invitation has expired. Ask the person who invited you to "
    "send a new one.",
    "team_free": "This team invitation is on hold: the team's account is on the "
    "free plan now. Ask the person who invited you to upgrade it, then open the "
    "link again.",
    "revoked": "This invitation was withdrawn: {referrer} revoked the referral.",
    "declined": "This referral was declined, so its invitation can no longer be used.",
    "referral_expired": "This referral expired on {day}, so its invitation can no "
    "longer be used. Ask {referrer} to refer it again.",
}
# Known limit: existing accounts cannot join another team yet, because a user
# belongs to exactly one account and moving one would strand its data.
TEAM_EXISTING_ACCOUNT_MESSAGE = (
    "This is an invitation to join a team, and {email} already has an account. "
    "Known limit: existing accounts cannot join another team yet."
)


@dataclass(frozen=True)
class InvitationView:
    """What a visitor of an invitation link is shown; no secrets."""

    view: str
    email: str
    inviter_name: str
    item_label: str
    item_kind: str


def _find(session: Session, token: str | None) -> Invitation:
    """The invitation behind a token, or InvitationUnusable with the reason."""
    token = (token or "").strip()
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvitationUnusable(UNUSABLE_MESSAGES["invalid"])
    invitation = session.exec(
        select(Invitation).where(Invitation.token_hash == hash_token(token))
    ).first()
    if invitation is None:
        raise InvitationUnusable(UNUSABLE_MESSAGES["invalid"])
    _refuse_closed_referral(session, invitation)
    if invitation.accepted_at is not None:
        raise InvitationUnusable(UNUSABLE_MESSAGES["used"])
    if invitation.expires_at <= utcnow():
        raise InvitationUnusable(UNUSABLE_MESSAGES["expired"])
    # Adding users is a paid feature, so a downgrade puts open team links on hold.
    if invitation.account_id is not None:
        plan = session.exec(
            select(Account.plan).where(Account.id == invitation.account_id)
        ).first()
        if plan != PLAN_PAID:
            raise InvitationUnusable(UNUSABLE_MESSAGES["team_free"])
    return invitation


def _refuse_closed_referral(session: Session, invitation: Invitation) -> None:
    """InvitationUnusable when the invitation's referral was revoked, declined
    or has expired; checked before "used", which would send the visitor to a
    sign-in that shows nothing."""
    if invitation.referral_id is None:
        return
    referral = session.get(Referral, invitation.referral_id)
    state = referral_lifecycle.referral_state(referral)
    referrer = session.get(User, referral.referrer_id)
    referrer_name = referrer.full_name or referrer.email
    if state == referral_lifecycle.STATE_REVOKED:
        message = UNUSABLE_MESSAGES["revoked"].format(referrer=referrer_name)
    elif state == referral_lifecycle.STATE_DECLINED:
        message = UNUSABLE_MESSAGES["declined"]
    elif referral_lifecycle.is_past_expiry(referral):
        message = UNUSABLE_MESSAGES["referral_expired"].format(
            day=referral_lifecycle.utc_text(referral.expires_at, "%Y-%m-%d"),
            referrer=referrer_name,
        )
    else:
        return
    raise InvitationUnusable(message)


def inspect_invitation(
    *, session: Session, token: str | None, user: CurrentUser | None
) -> InvitationView:
    """Say what the invitation page should offer this visitor.

    A team invitation has item_kind "team" and the account's name as its
    item_label.

    Raises:
        InvitationUnusable: for an empty, forged, used or expired token.
    """
    invitation = _find(session, token)

    inviter = session.get(User, invitation.inviter_id)
    label, kind = "", ""
    if invitation.account_id is not None:
        label, kind = session.get(Account, invitation.account_id).name, ITEM_TEAM
    elif invitation.referral_id is not None:
        referral = session.get(Referral, invitation.referral_id)
        if referral.document_id is not None:
            document = session.get(Document, referral.document_id)
            label, kind = document.name, ITEM_DOCUMENT
        else:
            record = session.get(Record, referral.record_id)
            label, kind = record.name, record.kind
    if user is not None:
        view = VIEW_READY if user.email == invitation.email else VIEW_OTHER_USER
    else:
        exists = session.exec(
            select(User.id).where(User.email == invitation.email)
        ).first()
        view = VIEW_LOGIN if exists else VIEW_REGISTER
    return InvitationView(
        view=view,
        email=invitation.email,
        inviter_name=inviter.full_name or inviter.email,
        item_label=label,
        item_kind=kind,
    )


def _claim(session: Session, token: str | None, user_id_hint: int | None) -> int:
    """Mark the invitation used, first thing in the transaction; return its id.

    The conditional UPDATE is the lock: of two acceptances at once, only one
    changes a row, and the other finds the link used.
    """
    _find(session, token)
    result = session.execute(
        sa.update(Invitation)
        .where(
            Invitation.token_hash == hash_token(token.strip()),
            Invitation.accepted_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
        .values(accepted_at=utcnow(), accepted_by_id=user_id_hint)
    )
    if result.rowcount != 1:
        session.rollback()
        raise InvitationUnusable(UNUSABLE_MESSAGES["used"])
    return session.exec(
        select(Invitation.id).where(Invitation.token_hash == hash_token(token.strip()))
    ).one()


def _grant(session: Session, invitation_id: int, user_id: int) -> str:
    """Give the user the referrals sent to their address; return where to land.

    Each referral granted here is one the user was not told about yet (made
    before their account existed), so each gets one notification, in the
    caller's transaction. Revoked, declined and expired referrals are not
    granted. The invitation's own referral and every one granted here become
    "accepted", with a timeline step and an audit line each.
    """
    invitation = session.get(Invitation, invitation_id)
    invitation.accepted_by_id = user_id
    session.add(invitation)
    # The link proved the mailbox, so every referral waiting for it is theirs.
    # RETURNING names only the rows this statement changed, so a referral
    # granted by a concurrent acceptance is not announced twice.
    grant = (
        sa.update(Referral)
        .where(
            Referral.recipient_email == invitation.email,
            Referral.recipient_id.is_(None),
            *referral_lifecycle.access_conditions(),
        )
        .values(recipient_id=user_id)
        .returning(Referral.id)
        .execution_options(synchronize_session=False)
    )
    granted_ids = session.execute(grant).scalars().all()
    for referral_id in sorted(granted_ids):
        referral = session.get(Referral, referral_id, populate_existing=True)
        referrals.notify_recipient(session=session, referral=referral)
    accepted_ids = set(granted_ids)
    if invitation.referral_id is not None:
        accepted_ids.add(invitation.referral_id)
    for referral_id in sorted(accepted_ids):
        referral = session.get(Referral, referral_id, populate_existing=True)
        if referral.recipient_id == user_id and not referral_lifecycle.access_refusal(
            session, referral
        ):
            referral_lifecycle.mark_accepted(
                session, referral=referral, user_id=user_id, email=invitation.email
            )

    if invitation.account_id is not None:
        return TEAM_LANDING_PATH
    if invitation.referral_id is not None:
        referral = session.get(Referral, invitation.referral_id)
        if referral.document_id is not None:
            return LIBRARY_PATH
        return routes.referral_url(invitation.referral_id)
    return routes.REFERRALS


def accept_invitation(*, session: Session, token: str | None, user: CurrentUser) -> str:
    """Accept an invitation as the signed-in user of the invited address.

    Every referral waiting for the address is granted, and the user is
    notified of each, in one transaction with the claim of the link.

    Returns:
        The path of the referred record, or the library for a document.

    Raises:
        InvitationUnusable: the link cannot be used.
        InvalidInput: the user is signed in with another address, or the link
            invites to a team, which an existing account cannot join; nothing
            changes.
    """
    invitation = _find(session, token)
    if invitation.email != user.email:
        raise InvalidInput(
            "This invitation is for someone else. Sign out and open the link "
            "again to use it."
        )
    if invitation.account_id is not None:
        raise InvalidInput(TEAM_EXISTING_ACCOUNT_MESSAGE.format(email=user.email))

    invitation_id = _claim(session, token, user.id)
    landing = _grant(session, invitation_id, user.id)
    session.commit()
    logger.info("invitation %s accepted by user %s", invitation_id, user.id)
    return landing


def _add_team_member(
    session: Session, *, account_id: int, email: str, password_hash: str, name: str
) -> User:
    """Add a user to an existing account; the caller commits."""
    if session.exec(select(User.id).where(User.email == email)).first():
        raise InvalidInput("An account with this e-mail address already exists.")

    user = User(
        email=email, full_name=name, password_hash=password_hash, account_id=account_id
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        # The same address registered through another link a moment ago.
        raise InvalidInput(
            "An account with this e-mail address already exists."
        ) from None
    logger.info("user %s joined account %s by team invitation", user.id, account_id)
    return user


def register_from_invitation(
    *,
    session: Session,
    token: str | None,
    password: str,
    full_name: str = "",
) -> tuple[str, str]:
    """Create the invited address's user and sign it in.

    A referral's link creates a free account of the invitee's own; a team
    invitation's link adds the user to the inviting account instead. The
    claim, the user, the grant of every referral waiting for the address, its
    notifications and the session are one transaction: a second attempt with
    the same link finds it used and creates nothing.

    Returns:
        The new session token and the path to land on: the referred record,
        the library for a document, or the notifications for a team.

    Raises:
        InvitationUnusable: the link cannot be used.
        InvalidInput: a bad password or name, or the address has an account.
    """
    invitation = _find(session, token)
    auth.check_password_rules(password)
    name = auth.clean_name(full_name)
    email = invitation.email
    team_account_id = invitation.account_id
    # Hashed before the claim, so the slow part runs outside the write lock.
    password_hash = auth.hash_password(password) if team_account_id else ""
    session.rollback()

    invitation_id = _claim(session, token, None)
    try:
        if team_account_id is None:
            user = auth.create_user(
                session=session,
                email=email,
                password=password,
                full_name=full_name,
                plan=PLAN_FREE,
            )
        else:
            user = _add_team_member(
                session,
                account_id=team_account_id,
                email=email,
                password_hash=password_hash,
                name=name,
            )
    except InvalidInput:
        session.rollback()
        raise
    if team_account_id is not None:
        audit.record_event(
            session,
            action=audit.TEAM_CHANGE,
            account_id=team_account_id,
            actor_id=user.id,
            actor_email=email,
            target=email,
            detail="joined the team through an invitation",
        )
    landing = _grant(session, invitation_id, user.id)
    session_token = auth.start_session(session, user)
    session.commit()
    logger.info("invitation %s accepted by new user %s", invitation_id, user.id)
    return session_token, landing
