"""Private Important and Unimportant tags on leads, contacts and documents."""

import logging

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from chub_ui import routes
from chub_ui.models import (
    ITEM_DOCUMENT,
    ITEM_RECORD,
    KIND_CONTACT,
    KIND_LEAD,
    PLAN_PAID,
    TAG_IMPORTANT,
    TAG_UNIMPORTANT,
    Document,
    Record,
    Referral,
    Tag,
    User,
    utcnow,
)
from chub_ui.services.access import require_user
from chub_ui.services.auth import CurrentUser
from chub_ui.services.errors import InvalidInput, NotAllowed
from chub_ui.services.plans import account_plan
from chub_ui.services.text import clean_id

logger = logging.getLogger(__name__)

TAG_VALUES = (TAG_IMPORTANT, TAG_UNIMPORTANT)
ITEM_TYPES = (ITEM_RECORD, ITEM_DOCUMENT)
VALUE_LABELS = {TAG_IMPORTANT: "Important", TAG_UNIMPORTANT: "Unimportant"}
TYPE_LEADS = "Leads"
TYPE_CONTACTS = "Contacts"
TYPE_DOCUMENTS = "Documents"
# The Tags page lists the important groups first, each tag's types in this order.
TYPE_ORDER = (TYPE_LEADS, TYPE_CONTACTS, TYPE_DOCUMENTS)
RECORD_TYPE_LABELS = {KIND_LEAD: TYPE_LEADS, KIND_CONTACT: TYPE_CONTACTS}
# Inserts that can update the existing row instead of failing, for the two
# databases the app runs on.
_UPSERT_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def _check_item_type(item_type: str) -> str:
    if item_type not in ITEM_TYPES:
        raise InvalidInput("Tags go on leads, contacts and documents only.")
    return item_type


def _check_value(value: str | None) -> str:
    if value is None:
        return ""
    cleaned = value.strip().lower() if isinstance(value, str) else None
    if cleaned not in ("", *TAG_VALUES):
        raise InvalidInput("Choose Important, Unimportant or no tag.")
    return cleaned


def _latest_received(
    session: Session, user: CurrentUser, column, item_ids: set[int]
) -> dict[int, Referral]:
    """The newest referral of each item to the user, by item id."""
    rows = session.exec(
        select(Referral)
        .where(column.in_(item_ids), Referral.recipient_id == user.id)
        .order_by(Referral.id)
    ).all()
    return {getattr(row, column.key): row for row in rows}


def _visible_records(
    session: Session, user: CurrentUser, record_ids: set[int]
) -> dict[int, tuple[Record, Referral | None]]:
    """The records among the ids the user may see now, with the referral to link.

    A record of the user's account is visible while the account is paid, and
    comes with no referral; a record referred to the user comes with the
    newest such referral.
    """
    if not record_ids:
        return {}
    is_paid = account_plan(session, user.account_id) == PLAN_PAID
    received = _latest_received(session, user, Referral.record_id, record_ids)
    rows = session.exec(select(Record).where(Record.id.in_(record_ids))).all()
    visible = {}
    for record in rows:
        if is_paid and record.account_id == user.account_id:
            visible[record.id] = (record, None)
        elif record.id in received:
            visible[record.id] = (record, received[record.id])
    return visible


def _visible_documents(
    session: Session, user: CurrentUser, document_ids: set[int]
) -> dict[int, tuple[Document, Referral | None]]:
    """The documents among the ids the user owns or received."""
    if not document_ids:
        return {}
    received = _latest_received(session, user, Referral.document_id, document_ids)
    rows = session.exec(select(Document).where(Document.id.in_(document_ids))).all()
    visible = {}
    for document in rows:
        if document.owner_id == user.id:
            visible[document.id] = (document, None)
        elif document.id in received:
            visible[document.id] = (document, received[document.id])
    return visible


def _upsert_tag(
    session: Session, user_id: int, item_type: str, item_id: int, value: str
) -> None:
    """Insert or update the user's tag so that two clicks at once both succeed.

    One INSERT ... ON CONFLICT statement, so a second click that arrives while
    the first is being written updates the row instead of failing on uq_tag_item.
    """
    key = {"user_id": user_id, "item_type": item_type, "item_id": item_id}
    changes = {"value": value, "updated_at": utcnow()}
    make_insert = _UPSERT_INSERTS[session.get_bind().dialect.name]

    statement = make_insert(Tag).values(**key, **changes)
    session.exec(
        statement.on_conflict_do_update(index_elements=list(key), set_=changes)
    )


def set_tag(
    *,
    session: Session,
    user: CurrentUser,
    item_type: str,
    item_id: int,
    value: str,
) -> str:
    """Tag a lead, contact or document for the acting user only, or clear it.

    The tag is the user's own row: the item itself, and anyone else's tags on
    it, never change.

    Args:
        session: the database session.
        user: the acting user.
        item_type: "record" for a lead or contact, or "document".
        item_id: the record's or document's id.
        value: "important", "unimportant", or "" to remove the tag.

    Returns:
        The tag the item has now ("" when removed).

    Raises:
        InvalidInput: an unknown item type or tag value.
        NotAllowed: the item does not exist or the user may not see it.
    """
    user = require_user(user)
    item_type = _check_item_type(item_type)
    value = _check_value(value)
    item_id = clean_id(item_id)
    visible = (
        _visible_records(session, user, {item_id})
        if item_type == ITEM_RECORD
        else _visible_documents(session, user, {item_id})
    )
    if item_id not in visible:
        raise NotAllowed()

    if value:
        _upsert_tag(session, user.id, item_type, item_id, value)
    else:
        session.exec(
            sa.delete(Tag).where(
                Tag.user_id == user.id,
                Tag.item_type == item_type,
                Tag.item_id == item_id,
            )
        )
    session.commit()

    logger.debug("user %s tagged %s %s as %r", user.id, item_type, item_id, value)
    return value


def tags_for(
    *, session: Session, user: CurrentUser, item_type: str, item_ids: list[int]
) -> dict[int, str]:
    """The user's tags on the given items, by item id; untagged items are absent."""
    user = require_user(user)
    item_type = _check_item_type(item_type)
    ids = {clean_id(item_id) for item_id in item_ids or []}
    if not ids:
        return {}

    rows = session.exec(
        select(Tag.item_id, Tag.value).where(
            Tag.user_id == user.id, Tag.item_type == item_type, Tag.item_id.in_(ids)
        )
    ).all()
    return dict(rows)


def _names_of(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = session.exec(select(User).where(User.id.in_(user_ids))).all()
    return {row.id: row.full_name or row.email for row in rows}


def tag_overview(*, session: Session, user: CurrentUser) -> list[dict]:
    """The user's tagged items for the Tags page, grouped by tag and type.

    Items the user can no longer see (their account was downgraded, or the
    referral is gone) are left out and not counted; empty groups are left out.

    Returns:
        One dict per group with value, value_label, type_label, count and
        items, each item a dict of name, link and detail; important groups
        come first, then Leads, Contacts and Documents, items by name.
    """
    user = require_user(user)

    tags = session.exec(select(Tag).where(Tag.user_id == user.id)).all()
    wanted = {item_type: set() for item_type in ITEM_TYPES}
    for tag in tags:
        if tag.item_type in wanted and tag.value in TAG_VALUES:
            wanted[tag.item_type].add(tag.item_id)
    records = _visible_records(session, user, wanted[ITEM_RECORD])
    documents = _visible_documents(session, user, wanted[ITEM_DOCUMENT])
    referrers = _names_of(
        session,
        {
            referral.referrer_id
            for _, referral in [*records.values(), *documents.values()]
            if referral is not None
        },
    )

    groups: dict[tuple[str, str], list[dict]] = {}
    for tag in tags:
        if tag.item_type == ITEM_RECORD and tag.item_id in records:
            record, referral = records[tag.item_id]
            type_label = RECORD_TYPE_LABELS.get(record.kind, TYPE_CONTACTS)
            name, parts = record.name, [record.company]
            link = routes.record_url(record.id)
        elif tag.item_type == ITEM_DOCUMENT and tag.item_id in documents:
            document, referral = documents[tag.item_id]
            type_label = TYPE_DOCUMENTS
            name, parts = document.name, [document.type_label]
            link = routes.LIBRARY
        else:
            continue
        if referral is not None:
            parts.append(f"from {referrers.get(referral.referrer_id, '')}")
            if tag.item_type == ITEM_RECORD:
                link = routes.referral_url(referral.id)
        detail = " · ".join(part for part in parts if part)
        groups.setdefault((tag.value, type_label), []).append(
            {"name": name, "link": link, "detail": detail}
        )

    return [
        {
            "value": value,
            "value_label": VALUE_LABELS[value],
            "type_label": type_label,
            "count": len(groups[value, type_label]),
            "items": sorted(
                groups[value, type_label], key=lambda item: item["name"].casefold()
            ),
        }
        for value in TAG_VALUES
        for type_label in TYPE_ORDER
        if (value, type_label) in groups
    ]


def record_ids_of_referrals(
    *, session: Session, user: CurrentUser, referral_ids: list[int]
) -> dict[int, int]:
    """The record behind each referral made to the user, by referral id."""
    user = require_user(user)
    ids = {clean_id(referral_id) for referral_id in referral_ids or []}
    if not ids:
        return {}

    rows = session.exec(
        select(Referral.id, Referral.record_id).where(
            Referral.id.in_(ids),
            Referral.recipient_id == user.id,
            Referral.record_id.is_not(None),
        )
    ).all()
    return dict(rows)
