"""Accounts, passwords and sign-in sessions."""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from passlib.context import CryptContext
from sqlmodel import Session, select

from chub_ui.models import PLAN_PAID, Account, User, UserSession, utcnow
from chub_ui.services.addresses import normalize_email
from chub_ui.services.errors import InvalidInput, LoginFailed, NotSignedIn
from chub_ui.services.text import check_free_text, is_encodable
from chub_ui.settings import settings

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
MAX_NAME_LENGTH = 200

password_context = CryptContext(schemes=["argon2"], argon2__type="ID")
# Verified against when the address is unknown, so both answers take as long.
_DUMMY_HASH = password_context.hash("not-a-real-password-for-timing")


@dataclass(frozen=True)
class CurrentUser:
    """What the app needs to know about the signed-in person; no secrets."""

    id: int
    email: str
    full_name: str
    account_id: int
    plan: str

    @property
    def is_paid(self) -> bool:
        """Whether the account has the full CRM."""
        return self.plan == PLAN_PAID

    @property
    def display_name(self) -> str:
        """The name to show, falling back to the address."""
        return self.full_name or self.email

    def as_dict(self) -> dict:
        """The public shape sent to the browser."""
        return {
            "id": self.id,
            "email": self.email,
            "full_name": self.full_name,
            "display_name": self.display_name,
            "plan": self.plan,
            "is_paid": self.is_paid,
        }


def hash_token(token: str) -> str:
    """The stored form of a session or invitation token."""
    # A token that is not valid UTF-8 matches nothing, instead of failing.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def check_password_rules(password: str) -> None:
    """Refuse a password outside 8 to 128 characters, or one that cannot be stored."""
    if not isinstance(password, str) or not is_encodable(password):
        raise InvalidInput("The password contains characters that cannot be used.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"The password needs at least {MIN_PASSWORD_LENGTH} characters."
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"The password can have at most {MAX_PASSWORD_LENGTH} characters."
        )


def clean_name(full_name: str) -> str:
    """A display name trimmed, with line breaks refused."""
    name = (full_name or "").strip()
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(f"The name can have at most {MAX_NAME_LENGTH} characters.")
    return check_free_text(name, "The name", multiline=False)


def hash_password(password: str) -> str:
    """Hash a password with argon2id (slow on purpose: call it off the loop)."""
    check_password_rules(password)
    return password_context.hash(password)


def current_user_for(session: Session, user_id: int) -> CurrentUser:
    """The CurrentUser for a user id."""
    user = session.get(User, user_id)
    if user is None:
        raise NotSignedIn()
    account = session.get(Account, user.account_id)
    return CurrentUser(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        account_id=user.account_id,
        plan=account.plan,
    )


def find_user_by_email(session: Session, email: str) -> User | None:
    """The user with this address, compared trimmed and case-folded."""
    return session.exec(
        select(User).where(User.email == normalize_email(email))
    ).first()


def create_user(
    *,
    session: Session,
    email: str,
    password: str,
    full_name: str = "",
    plan: str,
    account_name: str = "",
) -> User:
    """Add a user with an account of their own; the caller commits.

    Raises:
        InvalidInput: for a bad address, name or password, or a taken address.
    """
    address = normalize_email(email)
    name = clean_name(full_name)
    password_hash = hash_password(password)
    if session.exec(select(User.id).where(User.email == address)).first():
        raise InvalidInput("An account with this e-mail address already exists.")

    account = Account(name=account_name or name or address, plan=plan)
    session.add(account)
    session.flush()
    user = User(
        email=address,
        full_name=name,
        password_hash=password_hash,
        account_id=account.id,
    )
    session.add(user)
    session.flush()
    logger.info("user %s created on the %s plan", user.id, plan)
    return user


def start_session(session: Session, user: User) -> str:
    """Store a fresh session for the user and return its token; caller commits."""
    token = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            token_hash=hash_token(token),
            user_id=user.id,
            expires_at=utcnow() + timedelta(days=settings.session_days),
        )
    )
    return token


def _audit_failed_login(session: Session, address: str, user: User | None) -> None:
    """Write the failed sign-in to the audit trail of the address's account.

    The line holds the address as normalized (or nothing when it was not an
    address), never the password.
    """
    # Imported here: the audit module reads CurrentUser from this one.
    from chub_ui.services import audit

    audit.record_event(
        session,
        action=audit.SIGN_IN_FAILED,
        account_id=user.account_id if user is not None else None,
        actor_email=address,
        detail="wrong e-mail address or password",
    )
    session.commit()


def login(*, session: Session, email: str, password: str) -> str:
    """Check the credentials and return a new session token.

    The same LoginFailed answers an unknown address and a wrong password, and
    both take one argon2 verification. Every failure is an audit line, in the
    trail of the address's account when it has one.
    """
    try:
        address = normalize_email(email)
    except InvalidInput:
        address = ""
    user = (
        session.exec(select(User).where(User.email == address)).first()
        if address
        else None
    )
    if (
        not isinstance(password, str)
        or not password
        or len(password) > MAX_PASSWORD_LENGTH
        or not is_encodable(password)
    ):
        password_context.verify("x", _DUMMY_HASH)
        logger.info("login failed: unusable password")
        _audit_failed_login(session, address, user)
        raise LoginFailed()
    if user is None:
        password_context.verify(password, _DUMMY_HASH)
        logger.info("login failed for an unknown address")
        _audit_failed_login(session, address, None)
        raise LoginFailed()
    valid, new_hash = password_context.verify_and_update(password, user.password_hash)
    if not valid:
        logger.info("login failed for user %s", user.id)
        _audit_failed_login(session, address, user)
        raise LoginFailed()

    if new_hash:
        user.password_hash = new_hash
        session.add(user)
    token = start_session(session, user)
    session.commit()
    logger.info("user %s signed in", user.id)
    return token


def user_for_token(session: Session, token: str | None) -> CurrentUser:
    """The signed-in user behind a session token, or NotSignedIn."""
    if not token:
        raise NotSignedIn()
    row = session.exec(
        select(UserSession).where(UserSession.token_hash == hash_token(token))
    ).first()
    if row is None or row.expires_at <= utcnow():
        raise NotSignedIn()
    return current_user_for(session, row.user_id)


def logout(*, session: Session, token: str | None) -> None:
    """End the session behind the token, if any."""
    if not token:
        return
    row = session.exec(
        select(UserSession).where(UserSession.token_hash == hash_token(token))
    ).first()
    if row is not None:
        session.delete(row)
        session.commit()
        logger.info("user %s signed out", row.user_id)
