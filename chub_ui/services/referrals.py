"""Referring leads, contacts and documents by e-mail, and what recipients see."""

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, func, select

from chub_ui import routes
from chub_ui.models import (
    ITEM_DOCUMENT,
    KIND_CONTACT,
    KIND_LEAD,
    Document,
    Invitation,
    OutboxMessage,
    Record,
    Referral,
    User,
    utcnow,
)
from chub_ui.services import audit, mail, notifications, referral_lifecycle
from chub_ui.services.access import require_user
from chub_ui.services.addresses import normalize_email
from chub_ui.services.auth import CurrentUser
from chub_ui.services.errors import InvalidInput, NotAllowed
from chub_ui.services.library import get_own_document
from chub_ui.services.records import (
    PAGE_SIZE,
    Page,
    get_own_record,
    page_bounds,
    record_fields,
    search_conditions,
)
from chub_ui.services.text import check_free_text, clean_id
from chub_ui.settings import settings

logger = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = 2000
MAIL_STATE_LABELS = {
    mail.STATUS_QUEUED: "queued",
    mail.STATUS_SENDING: "sending",
    mail.STATUS_SENT: "sent",
    mail.STATUS_FAILED: "failed",
    mail.STATUS_UNSENT: "not sent: no SMTP server configured",
}
# How a recipient's notification names what was referred.
_ARTICLES = {KIND_LEAD: "a lead", KIND_CONTACT: "a contact"}
# How an audit line names it.
_KIND_LABELS = {KIND_LEAD: "Lead", KIND_CONTACT: "Contact", ITEM_DOCUMENT: "Document"}


@dataclass(frozen=True)
class ReferOutcome:
    """What happened when a record or a document was referred."""

    referral_id: int
    recipient_email: str
    recipient_has_account: bool
    mail_status: str


def clean_message(text: str | None) -> str:
    """A referral message trimmed, limited, and free of control characters."""
    message = (text if isinstance(text, str) else "").strip()
    if len(message) > MAX_MESSAGE_LENGTH:
        raise InvalidInput(
            f"The message can have at most {MAX_MESSAGE_LENGTH} characters."
        )
    return check_free_text(message, "The message", multiline=True)


def invitation_link(token: str) -> str:
    """The address a recipient opens to accept an invitation."""
    return f"{settings.base_url}/invite/{token}"


def invitation_state(invitation: Invitation | None) -> str:
    """pending, accepted or expired, as the referrer sees it."""
    if invitation is None:
        return "pending"
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.expires_at <= utcnow():
        return "expired"
    return "pending"


def notify_recipient(*, session: Session, referral: Referral) -> None:
    """Tell a referral's recipient what was referred to them; the caller commits.

    A lead or contact gives a 'referral' notification that opens the referral;
    a document gives a 'shared' one that opens the library.

    Args:
        session: the session of the change that granted the referral.
        referral: a referral whose recipient_id is set.
    """
    referrer = session.get(User, referral.referrer_id)
    referrer_name = referrer.full_name or referrer.email
    if referral.document_id is not None:
        document = session.get(Document, referral.document_id)
        kind = notifications.KIND_SHARED
        text = f"{referrer_name} shared a document with you: {document.name}"
        link = routes.LIBRARY
    else:
        record = session.get(Record, referral.record_id)
        article = _ARTICLES.get(record.kind, "an entry")
        kind = notifications.KIND_REFERRAL
        text = f"{referrer_name} referred {article} to you: {record.name}"
        link = routes.referral_url(referral.id)

    notifications.notify(
        session=session,
        user_id=referral.recipient_id,
        kind=kind,
        text=text,
        link=link,
        actor_id=referral.referrer_id,
    )


@dataclass(frozen=True)
class _ReferredItem:
    """What a referral points at, and the words its messages use for it."""

    record_id: int | None
    document_id: int | None
    label: str
    # "lead", "contact" or "document", as the recipient's e-mail names it.
    kind: str
    # "a record" or "a document", for the refusal to refer to oneself.
    noun: str

    def matches(self) -> sa.ColumnElement[bool]:
        """The condition that picks this item's referrals."""
        if self.document_id is not None:
            return Referral.document_id == self.document_id
        return Referral.record_id == self.record_id


def record_item(record: Record) -> _ReferredItem:
    """A lead or contact as something to refer."""
    return _ReferredItem(
        record_id=record.id,
        document_id=None,
        label=record.name,
        kind=record.kind,
        noun="a record",
    )


def _open_referral(
    session: Session, item: _ReferredItem, address: str
) -> tuple[Referral, Invitation | None] | None:
    """The latest referral of the item to the address that still counts.

    A revoked, declined or expired referral no longer counts, so the item
    may be referred to the address again.
    """
    rows = session.exec(
        select(Referral, Invitation)
        .join(Invitation, Invitation.referral_id == Referral.id, isouter=True)
        .where(item.matches(), Referral.recipient_email == address)
        .order_by(Referral.id.desc(), Invitation.id.desc())
    ).all()
    now = utcnow()
    for referral, invitation in rows:
        if referral_lifecycle.referral_state(referral, now) in (
            referral_lifecycle.CLOSED_STATES
        ):
            continue
        if referral.recipient_id is not None:
            return referral, invitation
        if invitation_state(invitation) == "pending":
            return referral, invitation
    return None


def open_referral_reason(session: Session, item: _ReferredItem, address: str) -> str:
    """Why the item cannot be referred to the address now, or "" if it can."""
    existing = _open_referral(session, item, address)
    if existing is None:
        return ""
    referral, invitation = existing
    if referral.recipient_id is not None and invitation_state(invitation) != "pending":
        return "already has it"
    return (
        f"an invitation sent {referral.created_at:%Y-%m-%d %H:%M} UTC is still pending"
    )


@dataclass(frozen=True)
class QueuedReferral:
    """A referral written but not yet committed, and what to log once it is."""

    outcome: ReferOutcome
    label: str
    record_id: int | None
    document_id: int | None
    link: str
    mail_status: str


def add_referral(
    session: Session,
    *,
    user: CurrentUser,
    item: _ReferredItem,
    address: str,
    message: str,
    expires_at: datetime | None = None,
) -> QueuedReferral:
    """Write one referral of a checked item to a checked address; caller commits.

    With it go its invitation, the e-mail in the outbox, the "invited" step of
    its timeline, an audit line and, for a recipient who already has an
    account, their notification: the recipient is granted the item at once.
    """
    recipient = session.exec(select(User).where(User.email == address)).first()
    referral = Referral(
        record_id=item.record_id,
        document_id=item.document_id,
        referrer_id=user.id,
        recipient_email=address,
        recipient_id=recipient.id if recipient else None,
        message=message,
        expires_at=expires_at,
    )
    session.add(referral)
    session.flush()
    invitation, token = referral_lifecycle.new_invitation(
        session, referral=referral, inviter_id=user.id
    )
    link, outbox = queue_invitation_mail(
        session,
        invitation_id=invitation.id,
        token=token,
        to_address=address,
        inviter_name=user.display_name,
        item_label=item.label,
        item_kind=item.kind,
        message=message,
    )
    if recipient is not None:
        notify_recipient(session=session, referral=referral)
    referral_lifecycle.add_event(
        session,
        referral_id=referral.id,
        kind=referral_lifecycle.EVENT_INVITED,
        actor_id=user.id,
        detail=f"expires {referral_lifecycle.utc_text(expires_at, '%Y-%m-%d')}"
        if expires_at
        else "",
    )
    audit.record_event(
        session,
        action=audit.REFER,
        actor=user,
        target=f"{_KIND_LABELS.get(item.kind, 'Item')} {item.label} to {address}",
        detail=f"referral #{referral.id}",
    )
    return QueuedReferral(
        outcome=ReferOutcome(
            referral_id=referral.id,
            recipient_email=address,
            recipient_has_account=recipient is not None,
            mail_status=MAIL_STATE_LABELS.get(outbox.status, outbox.status),
        ),
        label=item.label,
        record_id=item.record_id,
        document_id=item.document_id,
        link=link,
        mail_status=outbox.status,
    )


def log_queued(queued: QueuedReferral) -> None:
    """Log a committed referral; without SMTP, with its link."""
    referral_id = queued.outcome.referral_id
    if queued.document_id is not None:
        logger.info(
            "referral %s of document %s queued", referral_id, queued.document_id
        )
    else:
        logger.info("referral %s of record %s queued", referral_id, queued.record_id)
    log_link_if_unsent(queued.mail_status, queued.link)


def queue_invitation_mail(
    session: Session,
    *,
    invitation_id: int,
    token: str,
    to_address: str,
    inviter_name: str,
    item_label: str,
    item_kind: str,
    message: str,
) -> tuple[str, OutboxMessage]:
    """Put an invitation's e-mail in the outbox; the caller commits.

    The first e-mail of a referral and a resend write the same message.

    Returns:
        The link the e-mail carries, and its outbox row.
    """
    link = invitation_link(token)
    subject, body_text, body_html = mail.invitation_message(
        inviter_name=inviter_name,
        item_label=item_label,
        item_kind=item_kind,
        message=message,
        link=link,
    )
    outbox = mail.queue_message(
        session,
        to_address=to_address,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        invitation_id=invitation_id,
    )
    return link, outbox


def log_link_if_unsent(status: str, link: str) -> None:
    """Without SMTP the log is the only way to the link (demo and dev only)."""
    if status == mail.STATUS_UNSENT:
        logger.warning("no SMTP server configured; invitation link: %s", link)


def _refer(
    *,
    session: Session,
    user: CurrentUser,
    item: _ReferredItem,
    to_email: str,
    message: str,
    expires_at: datetime | None = None,
) -> ReferOutcome:
    """Refer an item the caller may refer; the shared part of every referral.

    The referral, its invitation, the e-mail in the outbox and, for a
    recipient who already has an account, their notification are written in
    one transaction, so a crash leaves all of them or none. A recipient who
    already has an account is granted the item at once.
    """
    address = normalize_email(to_email)
    text = clean_message(message)
    if address == user.email:
        raise InvalidInput(f"You cannot refer {item.noun} to yourself.")
    existing = _open_referral(session, item, address)
    if existing is not None:
        referral, invitation = existing
        if referral.recipient_id is not None and invitation_state(invitation) != (
            "pending"
        ):
            raise InvalidInput(f"{address} already has this {item.kind}.")
        raise InvalidInput(
            f"An invitation to {address} for this {item.kind} is still pending "
            f"(sent {referral.created_at:%Y-%m-%d %H:%M} UTC); no second "
            "invitation was sent."
        )

    queued = add_referral(
        session,
        user=user,
        item=item,
        address=address,
        message=text,
        expires_at=expires_at,
    )
    session.commit()

    log_queued(queued)
    return queued.outcome


def refer_record(
    *,
    session: Session,
    user: CurrentUser,
    record_id: int,
    to_email: str,
    message: str = "",
) -> ReferOutcome:
    """Refer one of the account's records to an address, with an invitation.

    The referral, its invitation and the e-mail in the outbox are written in
    one transaction, so a crash leaves all of them or none. A recipient who
    already has an account is granted it and notified in that transaction.

    Raises:
        NotAllowed: the record is not the account's.
        InvalidInput: a bad address, the user's own address, a message that
            is too long, or a referral to that address that is still open.
    """
    record = get_own_record(session=session, user=user, record_id=record_id)
    item = record_item(record)
    return _refer(
        session=session, user=user, item=item, to_email=to_email, message=message
    )


def refer_document(
    *,
    session: Session,
    user: CurrentUser,
    document_id: int,
    to_email: str,
    message: str = "",
) -> ReferOutcome:
    """Refer one of the user's own documents to an address, with an invitation.

    Any plan may do this: a free partner shares their own documents onward.
    Only the owner may; a recipient of a document cannot pass it on. A
    recipient who already has an account is granted it and notified at once.

    Raises:
        NotSignedIn: without a user.
        NotAllowed: the document does not exist or is not the user's own.
        InvalidInput: a bad address, the user's own address, a message that
            is too long, or a referral to that address that is still open.
    """
    document = get_own_document(session=session, user=user, document_id=document_id)
    item = _ReferredItem(
        record_id=None,
        document_id=document.id,
        label=document.name,
        kind=ITEM_DOCUMENT,
        noun="a document",
    )
    return _refer(
        session=session, user=user, item=item, to_email=to_email, message=message
    )


def _history(session: Session, item: _ReferredItem) -> list[dict]:
    """The referrals of one item, newest first, with lifecycle and mail state.

    Each entry: id and referral_id (the same), recipient_email, sent_at,
    state (a referral_lifecycle state), state_label, mail_status, mail_error,
    message and link (the referral's timeline page).
    """
    referrals = session.exec(
        select(Referral)
        .where(item.matches())
        .order_by(Referral.created_at.desc(), Referral.id.desc())
    ).all()
    mail_states = referral_lifecycle.latest_mail(
        session, [referral.id for referral in referrals]
    )
    now = utcnow()
    entries = []
    for referral in referrals:
        state = referral_lifecycle.referral_state(referral, now)
        status, error = mail_states.get(referral.id, ("", ""))
        entries.append(
            {
                "id": referral.id,
                "referral_id": referral.id,
                "recipient_email": referral.recipient_email,
                "sent_at": f"{referral.created_at:%Y-%m-%d %H:%M} UTC",
                "state": state,
                "state_label": referral_lifecycle.STATE_LABELS[state],
                "mail_status": MAIL_STATE_LABELS.get(status, status),
                "mail_error": mail.failure_reason(status, error),
                "message": referral.message,
                "link": routes.sent_referral_url(referral.id),
            }
        )
    return entries


def referral_history(
    *, session: Session, user: CurrentUser, record_id: int
) -> list[dict]:
    """To whom a record was referred, when, and the invitation's state."""
    record = get_own_record(session=session, user=user, record_id=record_id)

    return _history(session, record_item(record))


def document_referral_history(
    *, session: Session, user: CurrentUser, document_id: int
) -> list[dict]:
    """To whom the user's own document was referred, when, and in what state.

    Raises:
        NotSignedIn: without a user.
        NotAllowed: the document does not exist or is not the user's own.
    """
    document = get_own_document(session=session, user=user, document_id=document_id)

    item = _ReferredItem(
        record_id=None,
        document_id=document.id,
        label=document.name,
        kind=ITEM_DOCUMENT,
        noun="a document",
    )
    return _history(session, item)


def list_referred_to_me(
    *, session: Session, user: CurrentUser, search: str = "", page: int = 1
) -> Page:
    """Leads and contacts referred to the user, newest first, searched, paged.

    Revoked, declined and expired referrals are left out: the recipient no
    longer has them.
    """
    user = require_user(user)

    referrer = sa.orm.aliased(User)
    conditions = [
        Referral.recipient_id == user.id,
        *referral_lifecycle.access_conditions(),
        *search_conditions(search, Record.name, Record.company, Record.email),
    ]
    base = select(Referral, Record, referrer).join(
        Record, Record.id == Referral.record_id
    )
    base = base.join(referrer, referrer.id == Referral.referrer_id).where(*conditions)
    total = session.exec(
        select(func.count())
        .select_from(Referral)
        .join(Record, Record.id == Referral.record_id)
        .where(*conditions)
    ).one()
    page, pages = page_bounds(page, total)
    rows = session.exec(
        base.order_by(Referral.created_at.desc(), Referral.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    items = [
        {
            "id": referral.id,
            "name": record.name,
            "company": record.company,
            "email": record.email,
            "kind": record.kind.capitalize(),
            "referrer": by.full_name or by.email,
            "referred_at": f"{referral.created_at:%Y-%m-%d %H:%M}",
        }
        for referral, record, by in rows
    ]
    return Page(items, total, page, pages)


def referral_detail(*, session: Session, user: CurrentUser, referral_id: int) -> dict:
    """Everything a recipient may see of a referral; NotAllowed for anyone else.

    The recipient's first open is the referral's "viewed" step, committed
    here. Besides the record, the dict has state (a referral_lifecycle state)
    and can_decline (bool).

    Raises:
        NotSignedIn: without a user.
        NotAllowed: a missing referral or someone else's; a revoked, declined
            or expired one, saying which; or a document's.
    """
    user = require_user(user)
    missing = NotAllowed("This referral does not exist or was not referred to you.")
    try:
        referral = session.get(Referral, clean_id(referral_id))
    except NotAllowed:
        raise missing from None
    if referral is None or referral.recipient_id != user.id:
        raise missing
    refusal = referral_lifecycle.access_refusal(session, referral)
    if refusal:
        raise NotAllowed(refusal)
    if referral.record_id is None:
        raise NotAllowed("This referral is a document: find it in your Library.")

    if referral_lifecycle.mark_viewed(session, referral=referral, user=user):
        session.commit()
        session.refresh(referral)
    record = session.get(Record, referral.record_id)
    by = session.get(User, referral.referrer_id)
    state = referral_lifecycle.referral_state(referral)
    return {
        "id": referral.id,
        "kind": record.kind.capitalize(),
        "name": record.name,
        "fields": record_fields(record),
        "referrer_name": by.full_name or by.email,
        "referrer_email": by.email,
        "message": referral.message,
        "referred_at": f"{referral.created_at:%Y-%m-%d %H:%M} UTC",
        "state": state,
        "can_decline": state
        in (
            referral_lifecycle.STATE_INVITED,
            referral_lifecycle.STATE_ACCEPTED,
            referral_lifecycle.STATE_VIEWED,
        ),
        "expires_at": referral_lifecycle.utc_text(referral.expires_at, "%Y-%m-%d"),
    }
