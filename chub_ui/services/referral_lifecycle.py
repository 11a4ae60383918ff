"""The states of a referral after it is sent: view, save, decline, revoke, expiry.

Also what the referrer sees of them: the Sent referrals list, each referral's
timeline, resending and copying the invitation link, and the dashboard.
"""

import base64
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlmodel import Session, func, select

from chub_ui import routes
from chub_ui.models import (
    ITEM_DOCUMENT,
    Document,
    Invitation,
    OutboxMessage,
    Record,
    Referral,
    ReferralEvent,
    User,
    utcnow,
)
from chub_ui.services import audit, mail, notifications
from chub_ui.services.access import require_user
from chub_ui.services.addresses import normalize_email
from chub_ui.services.auth import CurrentUser, hash_token
from chub_ui.services.errors import InvalidInput, NotAllowed
from chub_ui.services.plans import require_paid_account
from chub_ui.services.records import PAGE_SIZE, Page, page_bounds, search_conditions
from chub_ui.services.text import check_free_text, clean_id, printable_only
from chub_ui.settings import settings

# referrals, invitations, saving and library read the states from this module,
# so the few functions below that need referrals import it when they run.

logger = logging.getLogger(__name__)

STATE_INVITED = "invited"
STATE_ACCEPTED = "accepted"
STATE_VIEWED = "viewed"
STATE_SAVED = "saved"
STATE_DECLINED = "declined"
STATE_REVOKED = "revoked"
STATE_EXPIRED = "expired"
STATES = (
    STATE_INVITED,
    STATE_ACCEPTED,
    STATE_VIEWED,
    STATE_SAVED,
    STATE_DECLINED,
    STATE_REVOKED,
    STATE_EXPIRED,
)
MAX_DECLINE_REASON = 500
STATE_LABELS = {
    STATE_INVITED: "Invited",
    STATE_ACCEPTED: "Accepted",
    STATE_VIEWED: "Viewed",
    STATE_SAVED: "Saved",
    STATE_DECLINED: "Declined",
    STATE_REVOKED: "Revoked",
    STATE_EXPIRED: "Expired",
}
# In these states the recipient no longer has the referral, so the item may be
# referred to them again and the invitation cannot be resent.
CLOSED_STATES = (STATE_DECLINED, STATE_REVOKED, STATE_EXPIRED)

EVENT_INVITED = "invited"
EVENT_MAIL_SENT = mail.EVENT_MAIL_SENT
EVENT_MAIL_FAILED = mail.EVENT_MAIL_FAILED
EVENT_ACCEPTED = "accepted"
EVENT_VIEWED = "viewed"
EVENT_SAVED = "saved"
EVENT_DECLINED = "declined"
EVENT_REVOKED = "revoked"
EVENT_RESENT = "resent"
EVENT_LINK_COPIED = "link_copied"
# Never stored: the timeline adds it at expires_at once that has passed.
EVENT_EXPIRED = "expired"
EVENT_LABELS = {
    EVENT_INVITED: "Referred and invited",
    EVENT_MAIL_SENT: "Invitation e-mail sent",
    EVENT_MAIL_FAILED: "Invitation e-mail not delivered",
    EVENT_ACCEPTED: "Invitation accepted",
    EVENT_VIEWED: "Viewed by the recipient",
    EVENT_SAVED: "Saved by the recipient",
    EVENT_DECLINED: "Declined by the recipient",
    EVENT_REVOKED: "Revoked",
    EVENT_RESENT: "Invitation resent",
    EVENT_LINK_COPIED: "Invitation link copied",
    EVENT_EXPIRED: "Expired",
}

MAX_BATCH_RECORDS = 50
MAX_BATCH_ADDRESSES = 20
# Twenty addresses of the longest kind, with room for separators.
MAX_ADDRESSES_TEXT = 7000
MAX_EVENT_DETAIL = ReferralEvent.__table__.c.detail.type.length
# Known limit: a timeline shows the latest 200 steps of a referral.
MAX_TIMELINE_EVENTS = 200
MIN_DASHBOARD_DAYS = 7
MAX_DASHBOARD_DAYS = 365
TOP_COUNT = 5

CONSENT_MESSAGE = (
    "Some of these records hold a person's e-mail, phone or address: confirm "
    "that you may share them before you refer them."
)
EXPIRY_FORMAT_MESSAGE = "Enter the expiry date as YYYY-MM-DD, or leave it empty."
SENT_MISSING_MESSAGE = "This referral does not exist or was not sent by your account."
RECEIVED_MISSING_MESSAGE = "This referral does not exist or was not referred to you."

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ADDRESS_SEPARATORS = re.compile(r"[,;\s]+")
# The fields that make a record a person's details, besides the name.
_PERSONAL_FIELDS = ("email", "other_emails", "phone", "other_phones", "street")
_KIND_LABELS = {ITEM_DOCUMENT: "Document"}


@dataclass(frozen=True)
class BatchOutcome:
    """What referring a selection to several addresses did.

    sent: one line per referral made ("Acme Ltd to ann@example.com: sent").
    skipped: one line per pair left alone, with why ("... already has it").
    """

    sent: list[str]
    skipped: list[str]


@dataclass(frozen=True)
class _SentItem:
    """What a sent referral points at, as its referrer sees it."""

    label: str
    # "Lead", "Contact" or "Document".
    kind_label: str
    # "lead", "contact" or "document", as the invitation e-mail names it.
    mail_kind: str
    # The record's page, or "" for a document.
    link: str
    account_id: int

    @property
    def is_record(self) -> bool:
        """Whether the referral is of a lead or contact rather than a document."""
        return self.mail_kind != ITEM_DOCUMENT


def utc_text(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M UTC") -> str:
    """A moment written in UTC, or "" for none.

    PostgreSQL hands timestamps back in its session's time zone, so they are
    turned to UTC before the "UTC" label is put beside them.
    """
    return moment.astimezone(UTC).strftime(pattern) if moment is not None else ""


def referral_state(referral: Referral, now: datetime | None = None) -> str:
    """One of STATES: revoked, declined, saved, expired, viewed, accepted, invited.

    The first that applies wins, in that order.
    """
    now = now or utcnow()
    if referral.revoked_at is not None:
        return STATE_REVOKED
    if referral.declined_at is not None:
        return STATE_DECLINED
    if referral.saved_at is not None:
        return STATE_SAVED
    if is_past_expiry(referral, now):
        return STATE_EXPIRED
    if referral.viewed_at is not None:
        return STATE_VIEWED
    if referral.accepted_at is not None:
        return STATE_ACCEPTED
    return STATE_INVITED


def is_past_expiry(referral: Referral, now: datetime | None = None) -> bool:
    """Whether the referral had an expiry date and it has passed."""
    return referral.expires_at is not None and referral.expires_at <= (now or utcnow())


def state_condition(state: str, now: datetime) -> sa.ColumnElement[bool]:
    """The SQL condition for referrals in a state, with referral_state's order.

    Raises:
        ValueError: for a state that is not in STATES (check input first).
    """
    ordered = (
        (STATE_REVOKED, Referral.revoked_at.is_not(None)),
        (STATE_DECLINED, Referral.declined_at.is_not(None)),
        (STATE_SAVED, Referral.saved_at.is_not(None)),
        (
            STATE_EXPIRED,
            sa.and_(Referral.expires_at.is_not(None), Referral.expires_at <= now),
        ),
        (STATE_VIEWED, Referral.viewed_at.is_not(None)),
        (STATE_ACCEPTED, Referral.accepted_at.is_not(None)),
        (STATE_INVITED, sa.true()),
    )
    earlier = []
    for name, condition in ordered:
        if name == state:
            return sa.and_(*(sa.not_(before) for before in earlier), condition)
        earlier.append(condition)
    raise ValueError(f"unknown referral state {state!r}")


def access_conditions(now: datetime | None = None) -> list:
    """While these hold, the recipient has the referral.

    A referral ends for its recipient when it is revoked, declined, or past its
    expiry date; a saved one too, though the recipient's copy stays theirs.
    """
    now = now or utcnow()
    return [
        Referral.revoked_at.is_(None),
        Referral.declined_at.is_(None),
        sa.or_(Referral.expires_at.is_(None), Referral.expires_at > now),
    ]


def access_refusal(session: Session, referral: Referral) -> str:
    """Why the recipient no longer has a referral, or "" while they do."""
    if referral.revoked_at is not None:
        referrer = session.get(User, referral.referrer_id)
        return f"This referral was revoked by {referrer.full_name or referrer.email}."
    if referral.declined_at is not None:
        return "You declined this referral."
    if is_past_expiry(referral):
        return f"This referral expired on {utc_text(referral.expires_at, '%Y-%m-%d')}."
    return ""


def add_event(
    session: Session,
    *,
    referral_id: int,
    kind: str,
    actor_id: int | None = None,
    detail: str = "",
) -> None:
    """Add a step to a referral's timeline, in the caller's transaction."""
    if kind not in EVENT_LABELS or kind == EVENT_EXPIRED:
        raise ValueError(f"unknown referral event {kind!r}")
    # A decline reason keeps its line breaks; nothing else unprintable stays.
    text = "\n".join(printable_only(line) for line in (detail or "").split("\n"))
    if len(text) > MAX_EVENT_DETAIL:
        text = text[: MAX_EVENT_DETAIL - 1] + "…"
    session.add(
        ReferralEvent(
            referral_id=referral_id, kind=kind, actor_id=actor_id, detail=text
        )
    )


def _item_of(session: Session, referral: Referral) -> _SentItem:
    if referral.document_id is not None:
        document = session.get(Document, referral.document_id)
        return _SentItem(
            label=document.name,
            kind_label=_KIND_LABELS[ITEM_DOCUMENT],
            mail_kind=ITEM_DOCUMENT,
            link="",
            account_id=document.account_id,
        )
    record = session.get(Record, referral.record_id)
    return _SentItem(
        label=record.name,
        kind_label=record.kind.capitalize(),
        mail_kind=record.kind,
        link=routes.record_url(record.id),
        account_id=record.account_id,
    )


def audit_referral(
    session: Session,
    *,
    referral: Referral,
    action: str,
    actor_id: int | None,
    actor_email: str,
    detail: str = "",
) -> None:
    """Add an audit line about a referral to the trail of the item's account."""
    item = _item_of(session, referral)
    audit.record_event(
        session,
        action=action,
        account_id=item.account_id,
        actor_id=actor_id,
        actor_email=actor_email,
        target=f"{item.kind_label} {item.label} to {referral.recipient_email}",
        detail=detail or f"referral #{referral.id}",
    )


def _stamp(session: Session, referral_id: int, column: str) -> bool:
    """Set a lifecycle timestamp once; whether this call was the one that set it.

    The conditional UPDATE is the lock: of two requests at once, one changes
    the row and writes the event, the other changes nothing.
    """
    field = getattr(Referral, column)
    result = session.execute(
        sa.update(Referral)
        .where(Referral.id == referral_id, field.is_(None))
        .values({column: utcnow()})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _note_step(
    session: Session,
    *,
    referral: Referral,
    event: str,
    action: str,
    actor_id: int,
    actor_email: str,
    detail: str = "",
) -> None:
    """Add a step to the referral's timeline and its line to the audit trail."""
    add_event(
        session, referral_id=referral.id, kind=event, actor_id=actor_id, detail=detail
    )
    audit_referral(
        session,
        referral=referral,
        action=action,
        actor_id=actor_id,
        actor_email=actor_email,
        detail=detail,
    )


def _mark_once(
    session: Session,
    *,
    referral: Referral,
    column: str,
    event: str,
    action: str,
    actor_id: int,
    actor_email: str,
) -> bool:
    """Stamp a lifecycle column and note the step, unless it was stamped already."""
    if getattr(referral, column) is not None or not _stamp(
        session, referral.id, column
    ):
        return False

    _note_step(
        session,
        referral=referral,
        event=event,
        action=action,
        actor_id=actor_id,
        actor_email=actor_email,
    )
    return True


def mark_viewed(session: Session, *, referral: Referral, user: CurrentUser) -> bool:
    """Note the recipient's first look at a referral; the caller commits."""
    viewed = _mark_once(
        session,
        referral=referral,
        column="viewed_at",
        event=EVENT_VIEWED,
        action=audit.VIEW,
        actor_id=user.id,
        actor_email=user.email,
    )
    if viewed:
        logger.info("referral %s viewed by user %s", referral.id, user.id)
    return viewed


def mark_accepted(
    session: Session, *, referral: Referral, user_id: int, email: str
) -> bool:
    """Note that the recipient accepted the invitation; the caller commits."""
    return _mark_once(
        session,
        referral=referral,
        column="accepted_at",
        event=EVENT_ACCEPTED,
        action=audit.ACCEPT,
        actor_id=user_id,
        actor_email=email,
    )


def mark_saved(session: Session, *, referral: Referral, user: CurrentUser) -> bool:
    """Note that the recipient saved a referral as their own; the caller commits."""
    return _mark_once(
        session,
        referral=referral,
        column="saved_at",
        event=EVENT_SAVED,
        action=audit.SAVE_AS,
        actor_id=user.id,
        actor_email=user.email,
    )


def new_link_nonce() -> str:
    """A fresh random nonce for an invitation link."""
    return secrets.token_urlsafe(24)


def link_token(nonce: str) -> str:
    """The invitation token derived from a nonce and the secret key.

    Known limit: changing CHUB_SECRET_KEY changes every derived token, so
    every invitation link sent or copied before then stops working.
    """
    key = settings.secret_key.encode("utf-8")
    digest = hmac.new(key, f"invitation:{nonce}".encode(), hashlib.sha256).digest()
    # Without padding, like secrets.token_urlsafe: "=" has no place in a path.
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_invitation(
    session: Session, *, referral: Referral, inviter_id: int
) -> tuple[Invitation, str]:
    """An invitation for a referral, flushed, and the token of its link."""
    nonce = new_link_nonce()
    token = link_token(nonce)
    now = utcnow()
    invitation = Invitation(
        token_hash=hash_token(token),
        email=referral.recipient_email,
        inviter_id=inviter_id,
        referral_id=referral.id,
        created_at=now,
        expires_at=now + timedelta(days=settings.invitation_days),
        link_nonce=nonce,
    )
    session.add(invitation)
    session.flush()
    return invitation, token


def link_token_of(session: Session, invitation: Invitation) -> str:
    """The token of an invitation's link, recomputed from its nonce.

    An invitation made before links were derived from a nonce has none: it
    gets a new nonce and token hash here, so the link in its old e-mail stops
    working and only the link returned now (and sent from now on) opens it.
    The caller commits.
    """
    if invitation.link_nonce:
        return link_token(invitation.link_nonce)

    invitation.link_nonce = new_link_nonce()
    token = link_token(invitation.link_nonce)
    invitation.token_hash = hash_token(token)
    session.add(invitation)
    logger.info(
        "invitation %s given a derivable link; its old link ends", invitation.id
    )
    return token


def latest_mail(session: Session, referral_ids: list[int]) -> dict[int, tuple]:
    """The newest invitation e-mail of each referral: (status, last_error)."""
    if not referral_ids:
        return {}
    rows = session.exec(
        select(Invitation.referral_id, OutboxMessage.status, OutboxMessage.last_error)
        .join(OutboxMessage, OutboxMessage.invitation_id == Invitation.id)
        .where(Invitation.referral_id.in_(referral_ids))
        .order_by(OutboxMessage.id)
    ).all()
    return {referral_id: (status, error) for referral_id, status, error in rows}


def _mail_fields(labels: dict, mail_state: tuple | None) -> dict:
    if mail_state is None:
        return {"mail_status": "", "mail_error": ""}
    status, error = mail_state
    return {
        "mail_status": labels.get(status, status),
        "mail_error": mail.failure_reason(status, error),
    }


def _sent_fields(referral: Referral, state: str, mail_state: tuple | None) -> dict:
    """What the Sent list and a timeline both show of a referral's progress."""
    from chub_ui.services import referrals

    return {
        "recipient_email": referral.recipient_email,
        "state": state,
        "state_label": STATE_LABELS[state],
        **_mail_fields(referrals.MAIL_STATE_LABELS, mail_state),
        "sent_at": utc_text(referral.created_at),
        "expires_at": utc_text(referral.expires_at, "%Y-%m-%d"),
        "decline_reason": referral.decline_reason,
    }


def _account_records(
    session: Session, user: CurrentUser, record_ids: object
) -> list[Record]:
    """The account's records of a selection, in its order, each once."""
    if isinstance(record_ids, int | str):
        record_ids = [record_ids]
    if not isinstance(record_ids, list | tuple) or not record_ids:
        raise InvalidInput("Choose at least one lead or contact to refer.")
    if len(record_ids) > MAX_BATCH_RECORDS:
        raise InvalidInput(f"Refer at most {MAX_BATCH_RECORDS} records at a time.")
    ids = list(dict.fromkeys(clean_id(value) for value in record_ids))

    rows = session.exec(
        select(Record).where(Record.id.in_(ids), Record.account_id == user.account_id)
    ).all()
    if len(rows) != len(ids):
        raise NotAllowed()
    by_id = {record.id: record for record in rows}
    return [by_id[record_id] for record_id in ids]


def _holds_person_details(record: Record) -> bool:
    return bool(record.name.strip()) and any(
        getattr(record, field).strip() for field in _PERSONAL_FIELDS
    )


def needs_consent(*, session: Session, user: CurrentUser, record_ids: list) -> bool:
    """Whether any of the records holds a person's details (name plus e-mail,
    phone or address), so the referrer must confirm they may share them.

    Raises:
        NotSignedIn: without a user.
        NotAllowed: a record that is not the account's, or a bad id.
        InvalidInput: no records, or more than 50.
    """
    user = require_user(user)

    records = _account_records(session, user, record_ids)
    return any(_holds_person_details(record) for record in records)


def clean_addresses(addresses: object, own_email: str) -> list[str]:
    """The addresses of a batch normalized, each once, or InvalidInput.

    Args:
        addresses: a list of texts, or one text with addresses separated by
            commas, semicolons, spaces or line breaks.
        own_email: the referrer's address, which may not be among them.
    """
    if isinstance(addresses, str):
        parts = [addresses]
    elif isinstance(addresses, list | tuple) and all(
        isinstance(part, str) for part in addresses
    ):
        parts = list(addresses)
    else:
        raise InvalidInput("Enter the e-mail addresses to refer to.")
    if len(parts) > MAX_BATCH_ADDRESSES or sum(map(len, parts)) > MAX_ADDRESSES_TEXT:
        raise InvalidInput(f"Refer to at most {MAX_BATCH_ADDRESSES} addresses at once.")

    words = [word for part in parts for word in _ADDRESS_SEPARATORS.split(part) if word]
    if not words:
        raise InvalidInput("Enter at least one e-mail address.")
    found: list[str] = []
    for word in words:
        try:
            address = normalize_email(word)
        except InvalidInput as error:
            shown = printable_only(word)[:80]
            raise InvalidInput(f"{shown}: {error.message}") from None
        if address == own_email:
            raise InvalidInput("You cannot refer a record to yourself.")
        if address not in found:
            found.append(address)
    if len(found) > MAX_BATCH_ADDRESSES:
        raise InvalidInput(f"Refer to at most {MAX_BATCH_ADDRESSES} addresses at once.")
    return found


def expiry_from(expires_on: object) -> datetime | None:
    """The end (UTC) of an ISO date after today, or None for no expiry."""
    if expires_on is None:
        return None
    if not isinstance(expires_on, str):
        raise InvalidInput(EXPIRY_FORMAT_MESSAGE)
    text = expires_on.strip()
    if not text:
        return None
    if not _ISO_DATE.fullmatch(text):
        raise InvalidInput(EXPIRY_FORMAT_MESSAGE)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(EXPIRY_FORMAT_MESSAGE) from None

    if day <= utcnow().date():
        raise InvalidInput("The expiry date must be after today.")
    return datetime.combine(day, time.max, tzinfo=UTC)


def refer_records(
    *,
    session: Session,
    user: CurrentUser | None,
    record_ids: list,
    addresses: str | list,
    message: str = "",
    expires_on: str = "",
    consent: bool = False,
) -> BatchOutcome:
    """Refer one or more of the account's records to one or more addresses.

    addresses: a list, or one text with addresses separated by commas,
    semicolons, spaces or line breaks (at most 20 addresses, 50 records).
    expires_on: "" for no expiry, or an ISO date ("2027-01-31") after today;
    the referral expires at the end of that day, UTC.
    Every address and record is checked before anything is written; a pair
    that is already open is skipped and reported, the rest are referred.
    Every referral, with its invitation, e-mail, notification, timeline step
    and audit line, is committed in one transaction.

    Raises:
        NotSignedIn, PlanRequired, NotAllowed: as for refer_record.
        InvalidInput: no or bad addresses or records, a bad expiry date, too
            many, or consent missing where needs_consent is true.
    """
    from chub_ui.services import referrals

    user = require_paid_account(session=session, user=user)
    records = _account_records(session, user, record_ids)
    found = clean_addresses(addresses, user.email)
    text = referrals.clean_message(message)
    expires_at = expiry_from(expires_on)
    if consent is not True and any(_holds_person_details(r) for r in records):
        raise InvalidInput(CONSENT_MESSAGE)

    skipped: list[str] = []
    queued: list = []
    for record in records:
        item = referrals.record_item(record)
        for address in found:
            reason = referrals.open_referral_reason(session, item, address)
            if reason:
                skipped.append(f"{record.name} to {address}: {reason}")
                continue
            queued.append(
                referrals.add_referral(
                    session,
                    user=user,
                    item=item,
                    address=address,
                    message=text,
                    expires_at=expires_at,
                )
            )
    session.commit()

    for entry in queued:
        referrals.log_queued(entry)
    sent = [
        f"{entry.label} to {entry.outcome.recipient_email}: {entry.outcome.mail_status}"
        for entry in queued
    ]
    logger.info(
        "user %s referred %s record(s) to %s address(es): %s sent, %s skipped",
        user.id,
        len(records),
        len(found),
        len(sent),
        len(skipped),
    )
    return BatchOutcome(sent=sent, skipped=skipped)


def _referral_or_missing(
    session: Session, referral_id: object, missing: str
) -> Referral:
    """The referral with that id, or NotAllowed(missing) for a bad or unknown id."""
    try:
        referral = session.get(Referral, clean_id(referral_id))
    except NotAllowed:
        raise NotAllowed(missing) from None
    if referral is None:
        raise NotAllowed(missing)
    return referral


def _received(session: Session, user: CurrentUser, referral_id: object) -> Referral:
    """A referral made to the user, or NotAllowed as for a missing one."""
    referral = _referral_or_missing(session, referral_id, RECEIVED_MISSING_MESSAGE)
    if referral.recipient_id != user.id:
        raise NotAllowed(RECEIVED_MISSING_MESSAGE)
    return referral


def _sent(
    session: Session, user: CurrentUser, referral_id: object
) -> tuple[Referral, _SentItem]:
    """A referral of the account's record or the user's own document."""
    referral = _referral_or_missing(session, referral_id, SENT_MISSING_MESSAGE)
    # Records belong to the account, so any of its users may manage their
    # referrals; a document belongs to its owner alone.
    if referral.document_id is not None:
        document = session.get(Document, referral.document_id)
        allowed = document is not None and document.owner_id == user.id
    else:
        record = session.get(Record, referral.record_id)
        allowed = record is not None and record.account_id == user.account_id
    if not allowed:
        raise NotAllowed(SENT_MISSING_MESSAGE)
    return referral, _item_of(session, referral)


def clean_reason(reason: object) -> str:
    """A decline reason trimmed, at most 500 characters, no control characters."""
    text = reason.strip() if isinstance(reason, str) else ""
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("The reason must be text.")
    if len(text) > MAX_DECLINE_REASON:
        raise InvalidInput(
            f"The reason can have at most {MAX_DECLINE_REASON} characters."
        )
    return check_free_text(text.replace("\r\n", "\n"), "The reason", multiline=True)


def decline_referral(
    *, session: Session, user: CurrentUser | None, referral_id: int, reason: str
) -> None:
    """The recipient declines a referral, with a reason (may be empty, max 500).

    The referrer is notified; the referral leaves the recipient's lists.

    Raises:
        NotAllowed: not referred to this user, or already revoked/expired.
        InvalidInput: a reason that is too long or has control characters,
            or a referral that was already declined or saved.
    """
    user = require_user(user)
    referral = _received(session, user, referral_id)
    text = clean_reason(reason)
    if referral.declined_at is not None:
        raise InvalidInput("You declined this referral already.")
    if referral.revoked_at is not None or is_past_expiry(referral):
        raise NotAllowed(access_refusal(session, referral))
    if referral.saved_at is not None:
        raise InvalidInput(
            "You saved this referral as your own: it cannot be declined."
        )

    declined = session.execute(
        sa.update(Referral)
        .where(
            Referral.id == referral.id,
            Referral.declined_at.is_(None),
            Referral.revoked_at.is_(None),
            Referral.saved_at.is_(None),
        )
        .values(declined_at=utcnow(), decline_reason=text)
        .execution_options(synchronize_session=False)
    )
    if declined.rowcount != 1:
        session.rollback()
        raise InvalidInput("This referral changed a moment ago: reload the page.")
    _note_step(
        session,
        referral=referral,
        event=EVENT_DECLINED,
        action=audit.DECLINE,
        actor_id=user.id,
        actor_email=user.email,
        detail=text,
    )
    label = _item_of(session, referral).label
    notifications.notify(
        session=session,
        user_id=referral.referrer_id,
        kind=notifications.KIND_DECLINED,
        text=f"{user.display_name} declined {label}: " + (text or "no reason given"),
        link=routes.sent_referral_url(referral.id),
        actor_id=user.id,
    )
    referral_id = referral.id
    session.commit()

    logger.info("referral %s declined by user %s", referral_id, user.id)


def revoke_referral(
    *, session: Session, user: CurrentUser | None, referral_id: int
) -> None:
    """The referrer (or their account) revokes a referral; access ends at once.

    Any plan may revoke: taking access away is never a paid feature.

    Raises:
        NotAllowed: not a referral of the user's account (documents: the
            owner's own).
        InvalidInput: already revoked, or declined or expired (access has
            ended already, and the state keeps saying why).
    """
    user = require_user(user)
    referral, _ = _sent(session, user, referral_id)
    if referral.revoked_at is not None:
        raise InvalidInput("This referral was revoked already.")
    if referral.declined_at is not None:
        raise InvalidInput(
            "The recipient declined this referral; they have no access to revoke."
        )
    if is_past_expiry(referral):
        raise InvalidInput("This referral has expired; access ended already.")

    if not _stamp(session, referral.id, "revoked_at"):
        session.rollback()
        raise InvalidInput("This referral was revoked already.")
    _note_step(
        session,
        referral=referral,
        event=EVENT_REVOKED,
        action=audit.REVOKE,
        actor_id=user.id,
        actor_email=user.email,
    )
    referral_id = referral.id
    session.commit()

    logger.info("referral %s revoked by user %s", referral_id, user.id)


def _open_invitation(
    session: Session, user: CurrentUser, referral: Referral, item: _SentItem
) -> tuple[Invitation, str]:
    """The referral's invitation and its link's token, usable for 14 more days
    if it lapsed unused; the caller commits.

    Raises:
        PlanRequired: a record's referral, for an account on the free plan.
        InvalidInput: a revoked, declined or expired referral.
    """
    if item.is_record:
        require_paid_account(session=session, user=user)
    state = referral_state(referral)
    if state in CLOSED_STATES:
        raise InvalidInput(
            f"This referral is {state}: refer the {item.mail_kind} again instead."
        )

    invitation = session.exec(
        select(Invitation)
        .where(Invitation.referral_id == referral.id)
        .order_by(Invitation.id.desc())
    ).first()
    if invitation is None:
        # Referrals made before invitations were kept (or by a data import)
        # get one now, so the referrer can still reach the recipient.
        return new_invitation(session, referral=referral, inviter_id=user.id)
    token = link_token_of(session, invitation)
    now = utcnow()
    if invitation.accepted_at is None and invitation.expires_at <= now:
        invitation.expires_at = now + timedelta(days=settings.invitation_days)
        session.add(invitation)
    return invitation, token


def resend_invitation(
    *, session: Session, user: CurrentUser | None, referral_id: int
) -> str:
    """Queue the invitation e-mail again with the same link; returns the mail
    state label ("queued", "not sent: no SMTP server configured", ...).

    An invitation that lapsed unaccepted is renewed for another 14 days, so
    the resent link works.

    Raises:
        NotAllowed: not the user's account's referral.
        PlanRequired: a lead or contact, for an account on the free plan.
        InvalidInput: revoked, declined or expired referrals.
    """
    from chub_ui.services import referrals

    user = require_user(user)
    referral, item = _sent(session, user, referral_id)
    invitation, token = _open_invitation(session, user, referral, item)

    referrer = session.get(User, referral.referrer_id)
    link, outbox = referrals.queue_invitation_mail(
        session,
        invitation_id=invitation.id,
        token=token,
        to_address=referral.recipient_email,
        inviter_name=referrer.full_name or referrer.email,
        item_label=item.label,
        item_kind=item.mail_kind,
        message=referral.message,
    )
    _note_step(
        session,
        referral=referral,
        event=EVENT_RESENT,
        action=audit.RESEND,
        actor_id=user.id,
        actor_email=user.email,
    )
    status = outbox.status
    referral_id = referral.id
    session.commit()

    logger.info("invitation of referral %s resent by user %s", referral_id, user.id)
    referrals.log_link_if_unsent(status, link)
    return referrals.MAIL_STATE_LABELS.get(status, status)


def invitation_link_for(
    *, session: Session, user: CurrentUser | None, referral_id: int
) -> str:
    """The invitation link of a referral, for the referrer to copy.

    It is the link the e-mail carried, unless the invitation predates
    derivable links: then it gets a new one and the e-mailed link stops
    working. An invitation that lapsed unaccepted is renewed for 14 days.

    Raises:
        NotAllowed: not the user's account's referral.
        PlanRequired: a lead or contact, for an account on the free plan.
        InvalidInput: revoked, declined or expired referrals.
    """
    from chub_ui.services import referrals

    user = require_user(user)
    referral, item = _sent(session, user, referral_id)
    _, token = _open_invitation(session, user, referral, item)

    add_event(
        session, referral_id=referral.id, kind=EVENT_LINK_COPIED, actor_id=user.id
    )
    session.commit()
    return referrals.invitation_link(token)


def _sent_scope(user: CurrentUser) -> list:
    """Referrals of the account's records and of the user's own documents.

    The referrer condition uses its index; the ownership condition is the
    rule itself (the query joins Record and Document).
    """
    team = select(User.id).where(User.account_id == user.account_id)
    return [
        Referral.referrer_id.in_(team),
        sa.or_(Record.account_id == user.account_id, Document.owner_id == user.id),
    ]


def _with_items(statement):
    return statement.join(Record, Record.id == Referral.record_id, isouter=True).join(
        Document, Document.id == Referral.document_id, isouter=True
    )


def list_sent_referrals(
    *,
    session: Session,
    user: CurrentUser | None,
    state: str = "",
    search: str = "",
    page: int = 1,
) -> Page:
    """Referrals made by the user's account, newest first.

    Items are dicts: id, item_label, item_kind ("Lead", "Contact",
    "Document"), recipient_email, state, mail_status, mail_error, sent_at,
    expires_at ("" when none), decline_reason; also state_label and link
    (the referral's timeline page).

    Raises:
        InvalidInput: a state not in STATES.
    """
    user = require_user(user)
    wanted = state.strip() if isinstance(state, str) else None
    if wanted is None or (wanted and wanted not in STATES):
        raise InvalidInput("Choose a state from the list.")

    now = utcnow()
    conditions = [
        *_sent_scope(user),
        *search_conditions(
            search, Referral.recipient_email, Record.name, Document.name
        ),
    ]
    if wanted:
        conditions.append(state_condition(wanted, now))
    total = session.exec(
        _with_items(select(func.count()).select_from(Referral)).where(*conditions)
    ).one()
    page, pages = page_bounds(page, total)
    rows = session.exec(
        _with_items(select(Referral, Record, Document))
        .where(*conditions)
        .order_by(Referral.created_at.desc(), Referral.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    mail_states = latest_mail(session, [referral.id for referral, _, _ in rows])
    items = []
    for referral, record, document in rows:
        current = referral_state(referral, now)
        items.append(
            {
                "id": referral.id,
                "item_label": record.name if record else document.name,
                "item_kind": record.kind.capitalize()
                if record
                else _KIND_LABELS[ITEM_DOCUMENT],
                **_sent_fields(referral, current, mail_states.get(referral.id)),
                "link": routes.sent_referral_url(referral.id),
            }
        )
    return Page(items, total, page, pages)


def referral_timeline(
    *, session: Session, user: CurrentUser | None, referral_id: int
) -> dict:
    """One sent referral and its events, oldest first.

    Returns a dict: id, item_label, item_kind, item_link ("" or a record
    page), recipient_email, state, mail_status, mail_error, message,
    sent_at, expires_at, decline_reason, can_resend (bool), can_revoke
    (bool), events: [{kind, label, at, actor, detail}]; also state_label and
    can_copy_link (bool, the same as can_resend).

    Raises:
        NotSignedIn: without a user.
        NotAllowed: not the user's account's referral.
    """
    user = require_user(user)
    referral, item = _sent(session, user, referral_id)

    now = utcnow()
    rows = session.exec(
        select(ReferralEvent, User)
        .join(User, User.id == ReferralEvent.actor_id, isouter=True)
        .where(ReferralEvent.referral_id == referral.id)
        .order_by(ReferralEvent.created_at.desc(), ReferralEvent.id.desc())
        .limit(MAX_TIMELINE_EVENTS)
    ).all()
    steps = [
        (
            event.created_at,
            event.kind,
            (actor.full_name or actor.email) if actor else "",
            event.detail,
        )
        for event, actor in reversed(rows)
    ]
    if is_past_expiry(referral, now):
        steps.append((referral.expires_at, EVENT_EXPIRED, "", ""))
        steps.sort(key=lambda step: step[0])
    state = referral_state(referral, now)
    may_resend = state not in CLOSED_STATES and (not item.is_record or user.is_paid)
    return {
        "id": referral.id,
        "item_label": item.label,
        "item_kind": item.kind_label,
        "item_link": item.link,
        **_sent_fields(
            referral, state, latest_mail(session, [referral.id]).get(referral.id)
        ),
        "message": referral.message,
        "can_resend": may_resend,
        "can_copy_link": may_resend,
        "can_revoke": state not in (STATE_REVOKED, STATE_DECLINED, STATE_EXPIRED),
        "events": [
            {
                "kind": kind,
                "label": EVENT_LABELS[kind],
                "at": utc_text(at),
                "actor": actor,
                "detail": detail,
            }
            for at, kind, actor, detail in steps
        ],
    }


def _utc_day(session: Session, column) -> sa.ColumnElement[str]:
    """A timestamp's UTC day as "YYYY-MM-DD", in the database's own dialect.

    The formats are literal SQL, not parameters, so the GROUP BY repeats the
    very expression of the SELECT (PostgreSQL insists on that).
    """
    if session.get_bind().dialect.name == "postgresql":
        in_utc = func.timezone(sa.literal_column("'UTC'"), column)
        return func.to_char(in_utc, sa.literal_column("'YYYY-MM-DD'"))
    # SQLite keeps UTC timestamps as text that starts with the day.
    return func.strftime(sa.literal_column("'%Y-%m-%d'"), column)


def _dashboard_days(days: object) -> int:
    if isinstance(days, bool) or not isinstance(days, int | str):
        raise InvalidInput("Choose how many days the dashboard shows.")
    if isinstance(days, str):
        if not (days.strip().isascii() and days.strip().isdigit()):
            raise InvalidInput("Choose how many days the dashboard shows.")
        days = int(days.strip())
    return min(max(days, MIN_DASHBOARD_DAYS), MAX_DASHBOARD_DAYS)


def dashboard(*, session: Session, user: CurrentUser | None, days: int = 30) -> dict:
    """Numbers for the referrer's dashboard over the last `days` days (7-365).

    Each number counts a step by its own time: sent by when the referral was
    made, accepted, viewed, saved and declined by when that happened, all in
    the window (today and the days before it, UTC). The referrals are those
    of the Sent referrals list: the account's records, the user's documents.
    Days outside 7-365 are brought to the nearest end.

    Returns a dict: totals {sent, accepted, viewed, saved, declined},
    series [{day: "MM-DD", sent, accepted, saved}] with one entry per day,
    top_partners [{email, name, sent, accepted, saved}] (at most 5),
    top_records [{id, name, kind, referrals}] (at most 5); also days (the
    window used) and, in top_records, link (the record's page).

    Raises:
        NotSignedIn: without a user.
        InvalidInput: days that are not a number.
    """
    user = require_user(user)
    days = _dashboard_days(days)

    today = utcnow().date()
    first_day = today - timedelta(days=days - 1)
    start = datetime.combine(first_day, time.min, tzinfo=UTC)
    scope = _sent_scope(user)
    moments = {
        "sent": Referral.created_at,
        "accepted": Referral.accepted_at,
        "viewed": Referral.viewed_at,
        "saved": Referral.saved_at,
        "declined": Referral.declined_at,
    }
    sums = session.exec(
        _with_items(
            select(
                *(
                    func.coalesce(func.sum(sa.case((column >= start, 1), else_=0)), 0)
                    for column in moments.values()
                )
            ).select_from(Referral)
        ).where(*scope)
    ).one()
    totals = dict(zip(moments, (int(value) for value in sums), strict=True))

    per_day: dict[str, dict[str, int]] = {}
    for name in ("sent", "accepted", "saved"):
        column = moments[name]
        day = _utc_day(session, column)
        counted = session.exec(
            _with_items(select(day, func.count()).select_from(Referral))
            .where(*scope, column >= start)
            .group_by(day)
        ).all()
        for day_text, count in counted:
            per_day.setdefault(day_text, {})[name] = count
    series = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        counts = per_day.get(day.isoformat(), {})
        series.append(
            {
                "day": f"{day:%m-%d}",
                "sent": counts.get("sent", 0),
                "accepted": counts.get("accepted", 0),
                "saved": counts.get("saved", 0),
            }
        )

    in_window = [*scope, Referral.created_at >= start]
    sent_count = func.count(Referral.id)
    partners = session.exec(
        _with_items(
            select(
                Referral.recipient_email,
                sent_count,
                func.count(Referral.accepted_at),
                func.count(Referral.saved_at),
            ).select_from(Referral)
        )
        .where(*in_window)
        .group_by(Referral.recipient_email)
        .order_by(sent_count.desc(), Referral.recipient_email)
        .limit(TOP_COUNT)
    ).all()
    names = (
        dict(
            session.exec(
                select(User.email, User.full_name).where(
                    User.email.in_([email for email, *_ in partners])
                )
            ).all()
        )
        if partners
        else {}
    )
    record_count = func.count(Referral.id)
    top_records = session.exec(
        select(Record.id, Record.name, Record.kind, record_count)
        .join(Referral, Referral.record_id == Record.id)
        .where(
            Record.account_id == user.account_id,
            Referral.created_at >= start,
        )
        .group_by(Record.id, Record.name, Record.kind)
        .order_by(record_count.desc(), Record.id)
        .limit(TOP_COUNT)
    ).all()
    return {
        "days": days,
        "totals": totals,
        "series": series,
        "top_partners": [
            {
                "email": email,
                "name": names.get(email, ""),
                "sent": sent,
                "accepted": accepted,
                "saved": saved,
            }
            for email, sent, accepted, saved in partners
        ],
        "top_records": [
            {
                "id": record_id,
                "name": name,
                "kind": kind.capitalize(),
                "referrals": count,
                "link": routes.record_url(record_id),
            }
            for record_id, name, kind, count in top_records
        ],
    }
