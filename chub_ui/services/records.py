"""Leads and contacts of the signed-in user's account: lists, forms, deletion."""

import json
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlmodel import Session, func, select

from chub_ui.models import (
    ITEM_RECORD,
    KIND_CONTACT,
    KIND_LEAD,
    TAG_IMPORTANT,
    TAG_UNIMPORTANT,
    AuditEvent,
    Invitation,
    OutboxMessage,
    Record,
    Referral,
    ReferralEvent,
    Tag,
    utcnow,
)
from chub_ui.services.access import require_paid
from chub_ui.services.addresses import normalize_email
from chub_ui.services.auth import CurrentUser
from chub_ui.services.errors import InvalidInput, NotAllowed
from chub_ui.services.text import (
    check_free_text,
    clean_id,
    clean_page,
    printable_only,
)

logger = logging.getLogger(__name__)

PAGE_SIZE = 20
MAX_SEARCH_LENGTH = 100
RECORD_KINDS = (KIND_LEAD, KIND_CONTACT)

# The fields shown on a detail page, in order, with the label a user reads.
FIELD_LABELS = (
    ("name", "Name"),
    ("company", "Company"),
    ("job_title", "Job title"),
    ("email", "E-mail"),
    ("other_emails", "Other e-mails"),
    ("phone", "Phone"),
    ("other_phones", "Other phones"),
    ("website", "Website"),
    ("street", "Street"),
    ("city", "City"),
    ("region", "State or region"),
    ("postal_code", "Postal code"),
    ("country", "Country"),
    ("description", "Description"),
    ("source", "Source"),
)
# What the New and Edit forms hold: the fields above and the free labels.
FORM_FIELDS = (*(name for name, _ in FIELD_LABELS), "labels")
FORM_LABELS = {**dict(FIELD_LABELS), "labels": "Labels"}
MULTILINE_FIELDS = ("description",)

# The filters' "no filter" value, as the list's selects send it.
ANY = "any"
TAG_NONE = "none"
TAG_FILTERS = (TAG_IMPORTANT, TAG_UNIMPORTANT, TAG_NONE)
REFERRED_YES = "yes"
REFERRED_NO = "no"
REFERRED_FILTERS = (REFERRED_YES, REFERRED_NO)
MAX_SOURCE_OPTIONS = 200
# Every order a list may have, with the label its select shows; nothing else
# reaches ORDER BY.
SORT_OPTIONS = {
    "created_at_desc": "Newest first",
    "created_at_asc": "Oldest first",
    "name_asc": "Name A to Z",
    "name_desc": "Name Z to A",
    "company_asc": "Company A to Z",
    "company_desc": "Company Z to A",
}
DEFAULT_SORT = "created_at_desc"

MAX_LABEL_LENGTH = 50
AUDIT_TARGET_LENGTH = AuditEvent.__table__.c.target.type.length
_PHONE = re.compile(r"\+?[\d\s().\-/]+(\s*(ext\.?|x|#)\s*\d+)?", re.IGNORECASE)
MIN_PHONE_DIGITS = 3
_EMAIL_SEPARATORS = re.compile(r"[,;\s]+")
_LIST_SEPARATORS = re.compile(r"[,;\n]+")


@dataclass(frozen=True)
class Page:
    """One page of a list, with what the pager needs."""

    items: list[dict]
    total: int
    page: int
    pages: int


def clean_search(text: str | None) -> str:
    """A search text trimmed and limited in length.

    Control characters and lone surrogates become U+FFFD, which no stored
    value holds, so such a search finds nothing instead of everything.
    """
    text = text if isinstance(text, str) else ""
    cleaned = "".join(
        char if printable_only(char) else "\ufffd" for char in text.strip()
    )
    return cleaned[:MAX_SEARCH_LENGTH]


def like_pattern(text: str) -> str:
    """A case-insensitive LIKE pattern that treats % and _ literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%")
    return "%" + escaped.replace("_", "\\_") + "%"


def search_conditions(search: str | None, *columns) -> list:
    """A case-insensitive "contains" on any of the columns, or [] for no search."""
    text = clean_search(search)
    if not text:
        return []
    pattern = like_pattern(text)
    return [sa.or_(*(func.lower(c).like(pattern, escape="\\") for c in columns))]


def _filter_text(value: object, what: str, allowed: tuple[str, ...]) -> str:
    """A filter value from the browser: one of the allowed values, or ""."""
    text = value.strip().lower() if isinstance(value, str) else value
    if text in (None, "", ANY):
        return ""
    if text not in allowed:
        raise InvalidInput(f"Choose {what} from the list.")
    return text


def clean_source_filter(value: object) -> str:
    """A source to filter by, as stored; "" for any source.

    Control characters become U+FFFD as in a search, so they match nothing.
    """
    if not isinstance(value, str):
        return ""
    cleaned = "".join(char if printable_only(char) else "\ufffd" for char in value)
    return cleaned.strip()[: column_length("source")]


def list_conditions(
    *,
    user: CurrentUser,
    kind: str,
    search: str = "",
    tag: str = "",
    source: str = "",
    referred: str = "",
) -> list:
    """What narrows the account's list of leads or contacts.

    The one place both the list and its export read their filters from, so an
    export holds exactly what the list shows.

    Args:
        user: the acting user; the tag filter reads their own tags.
        kind: "lead" or "contact".
        search: text contained in the name, company or e-mail.
        tag: "important", "unimportant", "none" (untagged), or "" for any.
        source: a source exactly as stored, or "" for any.
        referred: "yes", "no", or "" for either.

    Raises:
        InvalidInput: a tag or referred value that is not offered.
    """
    tag = _filter_text(tag, "a tag", TAG_FILTERS)
    referred = _filter_text(referred, "referred or not", REFERRED_FILTERS)
    source = clean_source_filter(source)

    conditions = [
        Record.account_id == user.account_id,
        Record.kind == kind,
        *search_conditions(search, Record.name, Record.company, Record.email),
    ]
    if source:
        conditions.append(Record.source == source)
    if tag:
        tagged = sa.exists().where(
            Tag.user_id == user.id,
            Tag.item_type == ITEM_RECORD,
            Tag.item_id == Record.id,
            *([] if tag == TAG_NONE else [Tag.value == tag]),
        )
        conditions.append(~tagged if tag == TAG_NONE else tagged)
    if referred:
        was_referred = sa.exists().where(Referral.record_id == Record.id)
        conditions.append(was_referred if referred == REFERRED_YES else ~was_referred)
    return conditions


def sort_key(sort: str | None):
    """The expression a list is ordered by, and whether it runs newest/Z first.

    Only the keys of SORT_OPTIONS are accepted; the browser's text never
    reaches the SQL.

    Raises:
        InvalidInput: any other sort.
    """
    sort = DEFAULT_SORT if sort in (None, "") else sort
    if not isinstance(sort, str) or sort not in SORT_OPTIONS:
        raise InvalidInput("Choose a sort order from the list.")
    field, _, direction = sort.rpartition("_")
    column = getattr(Record, field)
    # Names sort as people read them, whatever their case, on both databases.
    expression = column if field == "created_at" else func.lower(column)
    return expression, direction == "desc"


def clean_list_view(
    *, tag: str = "", source: str = "", referred: str = "", sort: str = ""
) -> dict[str, str]:
    """A list's filters and sort, checked, with "" for each that is not set.

    Raises:
        InvalidInput: a tag, referred value or sort that is not offered.
    """
    sort_key(sort)
    return {
        "tag": _filter_text(tag, "a tag", TAG_FILTERS),
        "source": clean_source_filter(source),
        "referred": _filter_text(referred, "referred or not", REFERRED_FILTERS),
        "sort": "" if sort in (None, "", DEFAULT_SORT) else sort,
    }


def list_order(sort: str | None) -> list:
    """The ORDER BY of a list sorted by one of SORT_OPTIONS, ties by id."""
    expression, descending = sort_key(sort)
    if descending:
        return [expression.desc(), Record.id.desc()]
    return [expression.asc(), Record.id.asc()]


def page_bounds(page: int, total: int, page_size: int = PAGE_SIZE) -> tuple[int, int]:
    """The page clamped to what exists, and the number of pages."""
    pages = max(1, -(-total // page_size))
    return min(clean_page(page), pages), pages


def extra_values(record: Record) -> dict:
    """A record's extra data (label to value), or {} when it holds none or junk."""
    try:
        extra = json.loads(record.extra_json or "{}")
    except ValueError:
        return {}
    return extra if isinstance(extra, dict) else {}


def record_fields(record: Record) -> list[dict]:
    """Every non-empty field of a record as label and value, extras included."""
    fields = [
        {"label": label, "value": str(getattr(record, name))}
        for name, label in FIELD_LABELS
        if getattr(record, name)
    ]
    fields.extend(
        {"label": str(label), "value": str(value)}
        for label, value in extra_values(record).items()
        if str(value).strip()
    )
    return fields


def record_summary(record: Record) -> dict:
    """The short public shape of a record for lists."""
    return {
        "id": record.id,
        "kind": record.kind,
        "name": record.name,
        "company": record.company,
        "email": record.email,
        "phone": record.phone,
        "city": record.city,
    }


def get_own_record(*, session: Session, user: CurrentUser, record_id: int) -> Record:
    """A record of the user's account, or NotAllowed (also for other accounts)."""
    require_paid(user)
    record = session.get(Record, clean_id(record_id))
    if record is None or record.account_id != user.account_id:
        raise NotAllowed()
    return record


def list_records(
    *,
    session: Session,
    user: CurrentUser,
    kind: str,
    search: str = "",
    page: int = 1,
    tag: str = "",
    source: str = "",
    referred: str = "",
    sort: str = "",
) -> Page:
    """The account's leads or contacts, searched, filtered, sorted and paged.

    Args:
        session: the database session.
        user: the acting user.
        kind: "lead" or "contact".
        search: text in the name, company or e-mail.
        page: the page number; out of range is clamped.
        tag, source, referred: filters, as list_conditions takes them.
        sort: one of SORT_OPTIONS; "" for newest first.

    Raises:
        PlanRequired: the account is on the free plan.
        InvalidInput: another kind, filter value or sort.
    """
    require_paid(user)
    if kind not in RECORD_KINDS:
        raise InvalidInput("Choose leads or contacts.")
    conditions = list_conditions(
        user=user, kind=kind, search=search, tag=tag, source=source, referred=referred
    )
    order = list_order(sort)

    total = session.exec(select(func.count()).select_from(Record).where(*conditions))
    total = total.one()
    page, pages = page_bounds(page, total)
    rows = session.exec(
        select(Record)
        .where(*conditions)
        .order_by(*order)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return Page([record_summary(r) for r in rows], total, page, pages)


def list_sources(*, session: Session, user: CurrentUser, kind: str) -> list[str]:
    """The distinct sources of the account's leads or contacts, A to Z.

    Known limit: only the first MAX_SOURCE_OPTIONS sources are offered.
    """
    require_paid(user)
    if kind not in RECORD_KINDS:
        raise InvalidInput("Choose leads or contacts.")

    rows = session.exec(
        select(Record.source)
        .where(
            Record.account_id == user.account_id,
            Record.kind == kind,
            Record.source != "",
        )
        .distinct()
        .order_by(Record.source)
        .limit(MAX_SOURCE_OPTIONS)
    ).all()
    return list(rows)


class RecordFieldErrors(InvalidInput):
    """A New or Edit form refused, with what is wrong with each field."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(
            "Please correct the marked fields: "
            + ", ".join(FORM_LABELS[name] for name in fields)
            + "."
        )
        self.fields = fields


def column_length(field: str) -> int:
    """The most characters the database keeps in one of the record's fields."""
    return Record.__table__.c[field].type.length


def _check_phone(text: str) -> str:
    digits = sum(char.isdigit() for char in text)
    if not _PHONE.fullmatch(text) or digits < MIN_PHONE_DIGITS:
        raise InvalidInput(
            f"“{text}” is not a phone number: use digits, spaces and + ( ) - . / "
            "(an extension may follow as “ext 12”)."
        )
    return text


def _check_website(text: str) -> str:
    address = text if "://" in text else "https://" + text
    try:
        parts = urlsplit(address)
        scheme, host = parts.scheme.lower(), parts.hostname or ""
    except ValueError:
        scheme, host = "", ""
    if (
        scheme not in ("http", "https")
        or "." not in host.strip(".")
        or any(char.isspace() for char in address)
    ):
        raise InvalidInput("Enter a web address such as example.com or https://...")
    return address


def _several(text: str, separators: re.Pattern, check) -> str:
    """Values separated by commas, semicolons or lines, each checked, joined."""
    values: list[str] = []
    for part in separators.split(text):
        part = part.strip()
        checked = check(part) if part else ""
        if checked and checked not in values:
            values.append(checked)
    return ", ".join(values)


def _check_labels(text: str) -> str:
    labels: list[str] = []
    for label in _LIST_SEPARATORS.split(text):
        label = label.strip()
        if len(label) > MAX_LABEL_LENGTH:
            raise InvalidInput(
                f"A label can have at most {MAX_LABEL_LENGTH} characters."
            )
        if label and label.casefold() not in {known.casefold() for known in labels}:
            labels.append(label)
    return ", ".join(labels)


def _check_other_email(part: str) -> str:
    try:
        return normalize_email(part)
    except InvalidInput as error:
        raise InvalidInput(f"“{part}”: {error.message}") from None


# How each field with a format is checked after its text is cleaned.
_FORMATS = {
    "email": normalize_email,
    "other_emails": lambda text: _several(text, _EMAIL_SEPARATORS, _check_other_email),
    "phone": _check_phone,
    "other_phones": lambda text: _several(text, _LIST_SEPARATORS, _check_phone),
    "website": _check_website,
    "labels": _check_labels,
}
# Fields where a list may be typed one value a line.
_LINES_ALLOWED = ("description", "other_emails", "other_phones", "labels")


def _clean_field(field: str, raw: object) -> str:
    """One submitted field trimmed and checked, or InvalidInput saying why."""
    label = FORM_LABELS[field]
    if raw is None:
        raw = ""
    if not isinstance(raw, str):
        raise InvalidInput(f"{label} must be text.")
    text = raw.replace("\r\n", "\n").strip()
    check_free_text(text, label, multiline=field in _LINES_ALLOWED)
    if text and field in _FORMATS:
        text = _FORMATS[field](text)
    limit = column_length(field)
    if len(text) > limit:
        raise InvalidInput(f"{label} can have at most {limit} characters.")
    return text


def clean_record_fields(form: object, *, current: Record | None = None) -> dict:
    """The New or Edit form's fields, trimmed and checked, by field name.

    Unknown keys are ignored. When editing, a field left out keeps its value,
    and a value left as it was is kept without checking its format again.
    Known limit: so a value imported in a form the form would refuse (a phone
    such as "555-CALL-NOW") stays until someone changes it.

    Args:
        form: the submitted form, field name to text.
        current: the record being edited, or None for a new one.

    Returns:
        The value of every field to write.

    Raises:
        RecordFieldErrors: one message per refused field; nothing is written.
    """
    if not isinstance(form, dict):
        raise InvalidInput("The form could not be read; please try again.")

    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for field in FORM_FIELDS:
        if current is not None and field not in form:
            continue
        raw = form.get(field)
        stored = getattr(current, field) if current is not None else None
        if stored is not None and isinstance(raw, str) and raw.strip() == stored:
            values[field] = stored
            continue
        try:
            values[field] = _clean_field(field, raw)
        except InvalidInput as error:
            errors[field] = error.message
    name = values.get("name", current.name if current is not None else "")
    if "name" not in errors and not name:
        errors["name"] = "Enter a name."
    if errors:
        raise RecordFieldErrors(errors)
    return values


def record_form_values(record: Record) -> dict[str, str]:
    """The record's fields as the Edit form shows them."""
    return {field: str(getattr(record, field) or "") for field in FORM_FIELDS}


def create_record(
    *, session: Session, user: CurrentUser | None, kind: str, fields: dict
) -> int:
    """Add a lead or contact to the user's account.

    Args:
        session: the database session.
        user: the acting user, on the paid plan.
        kind: "lead" or "contact".
        fields: the New form, field name to text (see FORM_FIELDS).

    Returns:
        The new record's id.

    Raises:
        NotSignedIn: without a user.
        PlanRequired: the account is on the free plan.
        InvalidInput: another kind; RecordFieldErrors for refused fields.
    """
    user = require_paid(user)
    if kind not in RECORD_KINDS:
        raise InvalidInput("Choose leads or contacts.")
    values = clean_record_fields(fields)

    record = Record(
        account_id=user.account_id, created_by_id=user.id, kind=kind, **values
    )
    session.add(record)
    session.commit()

    logger.info("%s %s created by user %s", kind, record.id, user.id)
    return record.id


def update_record(
    *, session: Session, user: CurrentUser | None, record_id: int, fields: dict
) -> None:
    """Change the fields of one of the account's leads or contacts.

    Raises:
        NotSignedIn: without a user.
        PlanRequired: the account is on the free plan.
        NotAllowed: the record is not the account's.
        RecordFieldErrors: refused fields; nothing is changed.
    """
    record = get_own_record(session=session, user=user, record_id=record_id)
    values = clean_record_fields(fields, current=record)
    changes = {
        field: value
        for field, value in values.items()
        if getattr(record, field) != value
    }
    if not changes:
        return

    for field, value in changes.items():
        setattr(record, field, value)
    record.updated_at = utcnow()
    session.add(record)
    session.commit()

    logger.info(
        "record %s changed by user %s: %s", record_id, user.id, ", ".join(changes)
    )


def delete_record(*, session: Session, user: CurrentUser | None, record_id: int) -> str:
    """Delete one of the account's leads or contacts; returns its kind.

    A record that partners can still open through a referral is refused: the
    referrer revokes those referrals first, so nobody loses access unseen.
    Referrals that are over (revoked, declined or expired) are deleted with
    the record, with their invitations, e-mails and timeline, as is every
    user's tag on it. An audit line names what was deleted.

    Raises:
        NotSignedIn: without a user.
        PlanRequired: the account is on the free plan.
        NotAllowed: the record is not the account's.
        InvalidInput: the record has open referrals, or was referred while
            it was being deleted.
    """
    # Imported here: both modules import this one for its Page.
    from chub_ui.services import audit, referral_lifecycle

    record = get_own_record(session=session, user=user, record_id=record_id)
    kind, name, record_id = record.kind, record.name, record.id
    referrals = session.exec(
        select(Referral).where(Referral.record_id == record_id)
    ).all()
    now = utcnow()
    over = (
        referral_lifecycle.STATE_REVOKED,
        referral_lifecycle.STATE_DECLINED,
        referral_lifecycle.STATE_EXPIRED,
    )
    still_open = [
        referral
        for referral in referrals
        if referral_lifecycle.referral_state(referral, now) not in over
    ]
    if still_open:
        count = len(still_open)
        raise InvalidInput(
            f"{name} was referred to {count} "
            f"{'partner who' if count == 1 else 'partners who'} can still open "
            f"it. Revoke {'that referral' if count == 1 else 'those referrals'} "
            f"under Sent referrals before deleting this {kind}."
        )

    referral_ids = [referral.id for referral in referrals]
    if referral_ids:
        invitations = select(Invitation.id).where(
            Invitation.referral_id.in_(referral_ids)
        )
        session.exec(
            sa.delete(OutboxMessage).where(OutboxMessage.invitation_id.in_(invitations))
        )
        session.exec(
            sa.delete(Invitation).where(Invitation.referral_id.in_(referral_ids))
        )
        session.exec(
            sa.delete(ReferralEvent).where(ReferralEvent.referral_id.in_(referral_ids))
        )
        session.exec(sa.delete(Referral).where(Referral.id.in_(referral_ids)))
    session.exec(
        sa.delete(Tag).where(Tag.item_type == ITEM_RECORD, Tag.item_id == record_id)
    )
    session.exec(sa.delete(Record).where(Record.id == record_id))
    detail = f"with {len(referral_ids)} closed referrals" if referral_ids else ""
    audit.record_event(
        session,
        action=audit.RECORD_DELETE,
        actor=user,
        target=f"{kind} {name}"[:AUDIT_TARGET_LENGTH],
        detail=detail,
    )
    try:
        session.commit()
    except sa.exc.IntegrityError:
        # A referral written between the check and the delete holds the row.
        session.rollback()
        raise InvalidInput(
            f"{name} was referred just now; reload the page and try again."
        ) from None

    logger.info("%s %s deleted by user %s", kind, record_id, user.id)
    return kind


def referral_states(
    *, session: Session, user: CurrentUser | None, record_id: int
) -> dict[int, str]:
    """The lifecycle state (invited ... expired) of each referral of a record.

    Raises:
        NotSignedIn, PlanRequired, NotAllowed: as get_own_record.
    """
    # Imported here: the lifecycle module imports this one for its Page.
    from chub_ui.services import referral_lifecycle

    record = get_own_record(session=session, user=user, record_id=record_id)

    rows = session.exec(select(Referral).where(Referral.record_id == record.id)).all()
    now = utcnow()
    return {row.id: referral_lifecycle.referral_state(row, now) for row in rows}
