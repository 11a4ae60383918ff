"""All database tables of Partner Network, as SQLModel classes."""

import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

logger = logging.getLogger(__name__)

PLAN_FREE = "free"
TAG_IMPORTANT = "important"
TAG_UNIMPORTANT = "unimportant"
ITEM_RECORD = "record"
ITEM_DOCUMENT = "document"
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
        # SQLite keeps no offset, and every value written here was UTC;
        # PostgreSQL answers in its session's time zone, which may be another.
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


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
    # Set on a copy made by Save As; unique per account, so a double click
    # or a second tab cannot make two copies of one referral.
    copied_from_referral_id: int | None = Field(default=None, index=True)
    # Free labels from an import ("vip, 2024 fair"), comma-separated.
    labels: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    updated_at: datetime | None = Field(
        default=None, sa_column=_utc_column(nullable=True)
    )

    __table_args__ = (
        sa.UniqueConstraint(
            "account_id", "copied_from_referral_id", name="uq_record_saved_copy"
        ),
        # The lists filter by account and kind and show the newest first.
        sa.Index("ix_record_account_kind_created", "account_id", "kind", "created_at"),
        sa.Index("ix_record_account_kind_source", "account_id", "kind", "source"),
    )


class Document(SQLModel, table=True):
    """A file in a user's library, stored under a random name."""

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="user.id", index=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    name: str = Field(max_length=255, index=True)
    stored_name: str = Field(max_length=64, unique=True)
    content_type: str = Field(max_length=100)
    type_label: str = Field(max_length=32, index=True)
    size_bytes: int = Field(default=0)
    sha256: str = Field(max_length=64)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=_utc_column(index=True)
    )


class Referral(SQLModel, table=True):
    """A record or a document referred by one user to an e-mail address."""

    id: int | None = Field(default=None, primary_key=True)
    record_id: int | None = Field(default=None, foreign_key="record.id", index=True)
    document_id: int | None = Field(default=None, foreign_key="document.id", index=True)
    referrer_id: int = Field(foreign_key="user.id", index=True)
    recipient_email: str = Field(max_length=320, index=True)
    recipient_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    message: str = Field(default="", max_length=2000)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=_utc_column(index=True)
    )
    # The lifecycle, as timestamps; referral_lifecycle.referral_state reads them.
    expires_at: datetime | None = Field(
        default=None, sa_column=_utc_column(nullable=True, index=True)
    )
    accepted_at: datetime | None = Field(
        default=None, sa_column=_utc_column(nullable=True)
    )
    viewed_at: datetime | None = Field(
        default=None, sa_column=_utc_column(nullable=True)
    )
    saved_at: datetime | None = Field(
        default=None, sa_column=_utc_column(nullable=True)
    )
    declined_at: datetime | None = Field(
        default=None, sa_column=_utc_column(nullable=True)
    )
    decline_reason: str = Field(default="", max_length=500)
    revoked_at: datetime | None = Field(
        default=None, sa_column=_utc_column(nullable=True)
    )

    __table_args__ = (
        sa.Index("ix_referral_recipient_created", "recipient_id", "created_at"),
        sa.CheckConstraint(
            "(record_id IS NULL) <> (document_id IS NULL)",
            name="ck_referral_one_item",
        ),
    )


class Invitation(SQLModel, table=True):
    """A single-use link sent to one address; only the token's hash is kept."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    email: str = Field(max_length=320, index=True)
    inviter_id: int = Field(foreign_key="user.id")
    referral_id: int | None = Field(default=None, foreign_key="referral.id", index=True)
    # Set for an invitation to join a paid account's team instead of a referral.
    account_id: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())
    expires_at: datetime = Field(sa_column=_utc_column())
    accepted_at: datetime | None = Field(
        default=None, sa_column=_utc_column(nullable=True)
    )
    accepted_by_id: int | None = Field(default=None, foreign_key="user.id")
    # The link's token is an HMAC of this nonce under the secret key, so the
    # referrer can copy the link again while only its hash is stored.
    link_nonce: str = Field(default="", max_length=64)


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


class Tag(SQLModel, table=True):
    """One user's private mark on a lead, contact or document."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    item_type: str = Field(max_length=16)
    item_id: int = Field()
    value: str = Field(max_length=16, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())

    __table_args__ = (
        sa.UniqueConstraint("user_id", "item_type", "item_id", name="uq_tag_item"),
    )


class Notification(SQLModel, table=True):
    """Something a user should know about: a referral, a save, a team message."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    kind: str = Field(max_length=32)
    text: str = Field(max_length=2300)
    link: str = Field(default="", max_length=300)
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=_utc_column(index=True)
    )
    read_at: datetime | None = Field(default=None, sa_column=_utc_column(nullable=True))


class TeamMessage(SQLModel, table=True):
    """A message from a user of a paid account to the rest of its team."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    author_id: int = Field(foreign_key="user.id")
    body: str = Field(max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())


class ReferralEvent(SQLModel, table=True):
    """One step in a referral's timeline: invited, mail sent, viewed, revoked..."""

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    kind: str = Field(max_length=32)
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    detail: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())


class AuditEvent(SQLModel, table=True):
    """An append-only line about a sensitive action; the app never edits it."""

    id: int | None = Field(default=None, primary_key=True)
    # The account whose owner may read it; None for a sign-in failure on an
    # address that has no account.
    account_id: int | None = Field(default=None, foreign_key="account.id")
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    actor_email: str = Field(default="", max_length=320)
    action: str = Field(max_length=32, index=True)
    target: str = Field(default="", max_length=300)
    detail: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc_column())

    __table_args__ = (
        sa.Index("ix_auditevent_account_created", "account_id", "created_at"),
    )
