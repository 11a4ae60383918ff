"""Invitation links: what they show, and accepting them once."""

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, select

from chub_ui.models import (
    ITEM_DOCUMENT,
    PLAN_FREE,
    Document,
    Invitation,
    Record,
    Referral,
    User,
    utcnow,
)
from chub_ui.services import auth
from chub_ui.services.auth import CurrentUser, hash_token
from chub_ui.services.errors import InvalidInput, InvitationUnusable

logger = logging.getLogger(__name__)

MAX_TOKEN_LENGTH = 200
# Where a recipient lands after accepting a referred document.
LIBRARY_PATH = "/library"

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
}


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
    if invitation.accepted_at is not None:
        raise InvitationUnusable(UNUSABLE_MESSAGES["used"])
    if invitation.expires_at <= utcnow():
        raise InvitationUnusable(UNUSABLE_MESSAGES["expired"])
    return invitation


def inspect_invitation(
    *, session: Session, token: str | None, user: CurrentUser | None
) -> InvitationView:
    """Say what the invitation page should offer this visitor.

    Raises:
        InvitationUnusable: for an empty, forged, used or expired token.
    """
    invitation = _find(session, token)

    inviter = session.get(User, invitation.inviter_id)
    label, kind = "", ""
    if invitation.referral_id is not None:
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
    """Give the user the referrals sent to their address; return where to land."""
    invitation = session.get(Invitation, invitation_id)
    invitation.accepted_by_id = user_id
    session.add(invitation)
    # The link proved the mailbox, so every referral waiting for it is theirs.
    session.execute(
        sa.update(Referral)
        .where(
            Referral.recipient_email == invitation.email,
            Referral.recipient_id.is_(None),
        )
        .values(recipient_id=user_id)
    )
    if invitation.referral_id is not None:
        referral = session.get(Referral, invitation.referral_id)
        if referral.document_id is not None:
            return LIBRARY_PATH
        return f"/referrals/{invitation.referral_id}"
    return "/referrals"


def accept_invitation(*, session: Session, token: str | None, user: CurrentUser) -> str:
    """Accept an invitation as the signed-in user of the invited address.

    Returns:
        The path of the referred record, or the library for a document.

    Raises:
        InvitationUnusable: the link cannot be used.
        InvalidInput: the user is signed in with another address; nothing
            changes.
    """
    invitation = _find(session, token)
    if invitation.email != user.email:
        raise InvalidInput(
            "This invitation is for someone else. Sign out and open the link "
            "again to use it."
        )

    invitation_id = _claim(session, token, user.id)
    landing = _grant(session, invitation_id, user.id)
    session.commit()
    logger.info("invitation %s accepted by user %s", invitation_id, user.id)
    return landing


def register_from_invitation(
    *,
    session: Session,
    token: str | None,
    password: str,
    full_name: str = "",
) -> tuple[str, str]:
    """Create a free account for the invited address and sign it in.

    The claim, the account, the grant and the session are one transaction:
    a second attempt with the same link finds it used and creates nothing.

    Returns:
        The new session token and the path of the referred record, or the
        library for a document.
    """
    invitation = _find(session, token)
    auth.check_password_rules(password)
    auth.clean_name(full_name)
    email = invitation.email
    session.rollback()

    invitation_id = _claim(session, token, None)
    try:
        user = auth.create_user(
            session=session,
            email=email,
            password=password,
            full_name=full_name,
            plan=PLAN_FREE,
        )
    except InvalidInput:
        session.rollback()
        raise
    landing = _grant(session, invitation_id, user.id)
    session_token = auth.start_session(session, user)
    session.commit()
    logger.info("invitation %s accepted by new user %s", invitation_id, user.id)
    return session_token, landing
