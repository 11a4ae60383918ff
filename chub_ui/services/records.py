"""Leads and contacts of the signed-in user's account."""

import json
import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, func, select

from chub_ui.models import KIND_CONTACT, KIND_LEAD, Record
from chub_ui.services.access import require_paid
from chub_ui.services.auth import CurrentUser
from chub_ui.services.errors import InvalidInput, NotAllowed
from chub_ui.services.text import clean_id, clean_page, printable_only

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


def list_conditions(*, user: CurrentUser, kind: str, search: str = "") -> list:
    """What narrows the account's list of leads or contacts: kind and search."""
    return [
        Record.account_id == user.account_id,
        Record.kind == kind,
        *search_conditions(search, Record.name, Record.company, Record.email),
    ]


def page_bounds(page: int, total: int, page_size: int = PAGE_SIZE) -> tuple[int, int]:
    """The page clamped to what exists, and the number of pages."""
    pages = max(1, -(-total // page_size))
    return min(clean_page(page), pages), pages


def record_fields(record: Record) -> list[dict]:
    """Every non-empty field of a record as label and value, extras included."""
    fields = [
        {"label": label, "value": str(getattr(record, name))}
        for name, label in FIELD_LABELS
        if getattr(record, name)
    ]
    try:
        extra = json.loads(record.extra_json or "{}")
    except ValueError:
        extra = {}
    fields.extend(
        {"label": str(label), "value": str(value)}
        for label, value in extra.items()
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
) -> Page:
    """The account's leads or contacts, newest first, searched and paged."""
    require_paid(user)
    if kind not in RECORD_KINDS:
        raise InvalidInput("Choose leads or contacts.")

    conditions = list_conditions(user=user, kind=kind, search=search)
    total = session.exec(select(func.count()).select_from(Record).where(*conditions))
    total = total.one()
    page, pages = page_bounds(page, total)
    rows = session.exec(
        select(Record)
        .where(*conditions)
        .order_by(Record.created_at.desc(), Record.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return Page([record_summary(r) for r in rows], total, page, pages)
