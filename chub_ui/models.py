"""All database tables of Partner Network, as SQLModel classes."""

import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

logger = logging.getLogger(__name__)

PLAN_FREE = "free"
PLAN_PAID = "paid"
KIND_LEAD = "lead"
KIND_CONTACT = "contact"


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware datetime that comes back aware from SQLite too."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetimes are refused; use utcnow()")
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        # SQLite keeps no offset, and every value written here was UTC.
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _utc_column(*, nullable: bool = False, index: bool = False) -> sa.Column:
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


class Account(SQLModel, table=True):
    """A customer of the product: one plan, one or more users."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    plan: str = Field(default=PLAN_FREE, max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())


class User(SQLModel, table=True):
    """A person who signs in; the e-mail is stored trimmed and case-folded."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    full_name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=255)
    account_id: int = Field(foreign_key="account.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())


class UserSession(SQLModel, table=True):
    """A signed-in browser; only the hash of its token is kept."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    expires_at: datetime = Field(sa_column=_utc_column(index=True))


class Record(SQLModel, table=True):
    """A lead or a contact owned by an account."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    created_by_id: int = Field(foreign_key="user.id")
    kind: str = Field(max_length=16, index=True)
    name: str = Field(max_length=300, index=True)
    company: str = Field(default="", max_length=300)
    job_title: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=320, index=True)
    other_emails: str = Field(default="", max_length=2000)
    phone: str = Field(default="", max_length=100)
    other_phones: str = Field(default="", max_length=1000)
    website: str = Field(default="", max_length=500)
    street: str = Field(default="", max_length=500)
    city: str = Field(default="", max_length=200)
    region: str = Field(default="", max_length=200)
    postal_code: str = Field(default="", max_length=50)
    country: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=10000)
    source: str = Field(default="", max_length=300)
    extra_json: str = Field(default="{}", max_length=50000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())


class Referral(SQLModel, table=True):
    """A record referred by one user to an e-mail address."""

    id: int | None = Field(default=None, primary_key=True)
    record_id: int = Field(foreign_key="record.id", index=True)
    referrer_id: int = Field(foreign_key="user.id", index=True)
    recipient_email: str = Field(max_length=320, index=True)
    recipient_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    message: str = Field(default="", max_length=2000)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=_utc_column(index=True)
    )


class Invitation(SQLModel, table=True):
    """A single-use link sent to one address; only the token's hash is kept."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    email: str = Field(max_length=320, index=True)
    inviter_id: int = Field(foreign_key="user.id")
    referral_id: int | None = Field(default=None, foreign_key="referral.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    expires_at: datetime = Field(sa_column=_utc_column())
    accepted_at: datetime | None = Field(
        default=None, sa_column=_utc_column(nullable=True)
    )
    accepted_by_id: int | None = Field(default=None, foreign_key="user.id")


class OutboxMessage(SQLModel, table=True):
    """An e-mail waiting for, or done with, delivery by the outbox worker."""

    id: int | None = Field(default=None, primary_key=True)
    to_address: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    body_text: str = Field(max_length=20000)
    body_html: str = Field(max_length=40000)
    invitation_id: int | None = Field(
        default=None, foreign_key="invitation.id", index=True
    )
    status: str = Field(default="queued", max_length=16, index=True)
    attempts: int = Field(default=0)
    last_error: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=_utc_column(index=True)
    )
    claimed_at: datetime | None = Field(
        default=None, sa_column=_utc_column(nullable=True)
    )
    sent_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))
