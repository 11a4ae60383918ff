"""Save As: copying a lead or contact referred to the user into their own CRM."""

import logging
import re

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from chub_ui import routes
from chub_ui.models import KIND_CONTACT, KIND_LEAD, Record, Referral, User
from chub_ui.services import notifications, referral_lifecycle
from chub_ui.services.auth import CurrentUser
from chub_ui.services.errors import InvalidInput, NotAllowed
from chub_ui.services.plans import require_paid_account
from chub_ui.services.text import clean_id

logger = logging.getLogger(__name__)

SAVE_AS_PLAN_MESSAGE = (
    "Save As needs the paid plan: upgrade your account on the plans page to copy "
    "referred leads and contacts into your own CRM."
)
SAVE_AS_KINDS = (KIND_LEAD, KIND_CONTACT)

STATUS_CREATED = "created"
STATUS_EXISTS = "exists"
STATUS_DUPLICATES = "duplicates"

REASON_EMAIL = "same e-mail"
REASON_PHONE = "same phone"
REASON_NAME_AND_COMPANY = "same name and company"
# Duplicates are listed by how sure the match is.
REASON_ORDER = (REASON_EMAIL, REASON_PHONE, REASON_NAME_AND_COMPANY)

MIN_PHONE_DIGITS = 6
# The last nine digits match a number with or without its country code.
PHONE_DIGITS_COMPARED = 9

# Every field of a record that a copy takes over as it is.
COPIED_FIELDS = (
    "name",
    "company",
    "job_title",
    "email",
    "other_emails",
    "phone",
    "other_phones",
    "website",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "description",
    "extra_json",
)
MAX_SOURCE_LENGTH = Record.__table__.c.source.type.length

# Lists in other_emails hold no spaces; phone numbers often do.
_EMAIL_SEPARATORS = re.compile(r"[,;\s]+")
_PHONE_SEPARATORS = re.compile(r"[,;\n]+")
_NOT_DIGITS = re.compile(r"[^0-9]")


def email_keys(email: str, other_emails: str = "") -> set[str]:
    """Every address of a record, trimmed and case-folded."""
    values = [email or "", *_EMAIL_SEPARATORS.split(other_emails or "")]
    return {value.strip().casefold() for value in values if value.strip()}


def phone_keys(phone: str, other_phones: str = "") -> set[str]:
    """The last nine digits of every phone of a record with at least six digits."""
    values = [phone or "", *_PHONE_SEPARATORS.split(other_phones or "")]
    keys = set()
    for value in values:
        digits = _NOT_DIGITS.sub("", value)
        if len(digits) >= MIN_PHONE_DIGITS:
            keys.add(digits[-PHONE_DIGITS_COMPARED:])
    return keys


def name_and_company_key(name: str, company: str) -> tuple[str, str] | None:
    """Name and company trimmed, case-folded and with spaces collapsed.

    None when either is empty: a bare name is too weak to call a duplicate.
    """
    key = tuple(" ".join((text or "").split()).casefold() for text in (name, company))
    return key if all(key) else None


def _received_record(
    session: Session, user: CurrentUser, referral_id: int
) -> tuple[Referral, Record]:
    """A record referral made to the user, with its record, or NotAllowed.

    A revoked, declined or expired referral is refused with the reason.
    """
    referral = session.get(Referral, clean_id(referral_id))
    if referral is None or referral.recipient_id != user.id or not referral.record_id:
        raise NotAllowed("This referral does not exist or was not referred to you.")
    record = session.get(Record, referral.record_id)
    if record is None:
        raise NotAllowed("This referral does not exist or was not referred to you.")
    refusal = referral_lifecycle.access_refusal(session, referral)
    if refusal:
        raise NotAllowed(refusal)
    return referral, record


def _duplicates_of(session: Session, user: CurrentUser, original: Record) -> list[dict]:
    """The account's records that look like the original, each once.

    Known limit: every record of the account is compared in Python, which is
    quick for thousands of records but would need indexed keys for millions.
    """
    emails = email_keys(original.email, original.other_emails)
    phones = phone_keys(original.phone, original.other_phones)
    name_key = name_and_company_key(original.name, original.company)

    rows = session.exec(
        select(
            Record.id,
            Record.name,
            Record.company,
            Record.email,
            Record.other_emails,
            Record.phone,
            Record.other_phones,
        )
        .where(Record.account_id == user.account_id)
        .order_by(Record.id)
    ).all()
    found = []
    for record_id, name, company, email, other_emails, phone, other_phones in rows:
        if emails & email_keys(email, other_emails):
            reason = REASON_EMAIL
        elif phones & phone_keys(phone, other_phones):
            reason = REASON_PHONE
        elif name_key and name_key == name_and_company_key(name, company):
            reason = REASON_NAME_AND_COMPANY
        else:
            continue
        found.append(
            {
                "id": record_id,
                "name": name,
                "company": company,
                "email": email,
                "reason": reason,
                "link": routes.record_url(record_id),
            }
        )
    found.sort(key=lambda item: (REASON_ORDER.index(item["reason"]), item["id"]))
    return found


def _existing_copy(session: Session, user: CurrentUser, referral_id: int) -> int | None:
    """The id of the account's copy of a referral, if it was saved already."""
    return session.exec(
        select(Record.id).where(
            Record.account_id == user.account_id,
            Record.copied_from_referral_id == referral_id,
        )
    ).first()


def find_duplicates(
    *, session: Session, user: CurrentUser, referral_id: int
) -> list[dict]:
    """The user's own records that look like a lead or contact referred to them.

    A record matches on the same e-mail address (any of either record's
    addresses), the same phone (the last nine digits of any number with at
    least six), or the same name and company.

    Args:
        session: the database session.
        user: the recipient of the referral.
        referral_id: the referral of a lead or contact to the user.

    Returns:
        One dict per matching record: id, name, company, email, reason and
        link, surest reasons first.

    Raises:
        PlanRequired: the account is on the free plan.
        NotAllowed: the referral does not exist, is of a document, or was
            made to someone else.
    """
    user = require_paid_account(
        session=session, user=user, message=SAVE_AS_PLAN_MESSAGE
    )
    _, original = _received_record(session, user, referral_id)

    return _duplicates_of(session, user, original)


def save_as_own(
    *,
    session: Session,
    user: CurrentUser,
    referral_id: int,
    kind: str,
    create_anyway: bool = False,
) -> dict:
    """Copy a lead or contact referred to the user into their account's records.

    The copy, the referrer's notification, the referral's "saved" state with
    its timeline step, and the audit line are committed together. A second
    save of the same referral, at once from another tab or later, finds the
    first copy instead of making another. The referrer's record is only read.

    Args:
        session: the database session.
        user: the recipient of the referral.
        referral_id: the referral of a lead or contact to the user.
        kind: "lead" or "contact", what the copy becomes.
        create_anyway: copy even when the account has records that look alike.

    Returns:
        {"status": "created", "record_id"} for a new copy,
        {"status": "exists", "record_id"} when the referral was saved before,
        or {"status": "duplicates", "duplicates"} with find_duplicates' list
        when look-alikes were found and nothing was written.

    Raises:
        PlanRequired: the account is on the free plan, however this is called.
        InvalidInput: the kind is neither lead nor contact.
        NotAllowed: the referral does not exist, is of a document, was made
            to someone else, or was revoked, declined or has expired.
    """
    user = require_paid_account(
        session=session, user=user, message=SAVE_AS_PLAN_MESSAGE
    )
    if kind not in SAVE_AS_KINDS:
        raise InvalidInput("Save it as a lead or as a contact.")
    referral, original = _received_record(session, user, referral_id)
    existing_id = _existing_copy(session, user, referral.id)
    if existing_id is not None:
        return {"status": STATUS_EXISTS, "record_id": existing_id}
    if not create_anyway:
        duplicates = _duplicates_of(session, user, original)
        if duplicates:
            # The look-alike may be the copy another tab saved a moment ago.
            existing_id = _existing_copy(session, user, referral.id)
            if existing_id is not None:
                return {"status": STATUS_EXISTS, "record_id": existing_id}
            return {"status": STATUS_DUPLICATES, "duplicates": duplicates}

    referrer = session.get(User, referral.referrer_id)
    referrer_name = referrer.full_name or referrer.email
    copy = Record(
        account_id=user.account_id,
        created_by_id=user.id,
        kind=kind,
        source=f"Saved from a referral by {referrer_name}"[:MAX_SOURCE_LENGTH],
        copied_from_referral_id=referral.id,
        **{field: getattr(original, field) for field in COPIED_FIELDS},
    )
    session.add(copy)
    notifications.notify(
        session=session,
        user_id=referral.referrer_id,
        kind=notifications.KIND_SAVED,
        text=f"{user.display_name} saved {original.name} as their own {kind}",
        link=routes.record_url(original.id),
        actor_id=user.id,
    )
    saved_referral_id = referral.id
    try:
        session.flush()
        record_id = copy.id
        referral_lifecycle.mark_saved(session, referral=referral, user=user)
        session.commit()
    except IntegrityError:
        # Another tab saved the same referral first: answer with its copy.
        session.rollback()
        existing_id = _existing_copy(session, user, saved_referral_id)
        if existing_id is None:
            raise
        logger.info(
            "referral %s was saved already by a concurrent request", saved_referral_id
        )
        return {"status": STATUS_EXISTS, "record_id": existing_id}

    logger.info(
        "user %s saved referral %s as %s %s",
        user.id,
        saved_referral_id,
        kind,
        record_id,
    )
    return {"status": STATUS_CREATED, "record_id": record_id}
