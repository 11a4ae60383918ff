"""Private tags: who may tag what, upserts, and the Tags page overview."""

import threading

import pytest
from sqlmodel import Session, func, select

from chub_ui.models import (
    KIND_CONTACT,
    KIND_LEAD,
    PLAN_FREE,
    Record,
    Referral,
    Tag,
)
from chub_ui.services import auth, plans, tags
from chub_ui.services.errors import InvalidInput, NotAllowed
from tests.services.rows import add_document, add_record, add_referral, record_snapshot


def _count(session, table) -> int:
    return session.exec(select(func.count()).select_from(table)).one()


def _add_record(session, user, name, *, kind=KIND_CONTACT, company="") -> Record:
    email = f"{name.split()[0].lower()}@example.com"
    return add_record(session, user, name=name, kind=kind, company=company, email=email)


def _tag(session, user, item_type, item_id, value) -> str:
    return tags.set_tag(
        session=session, user=user, item_type=item_type, item_id=item_id, value=value
    )


@pytest.fixture
def record(session, paid_user) -> Record:
    return _add_record(session, paid_user, "Wilson Fisk", company="Fisk Industries")


def test_a_recipient_tags_a_referred_record_for_themselves_only(
    session, paid_user, free_user, record
):
    add_referral(session, paid_user, free_user, record=record)
    _tag(session, paid_user, "record", record.id, "unimportant")
    before = record_snapshot(session, record.id)

    value = _tag(session, free_user, "record", record.id, " Important ")

    assert value == "important"
    assert record_snapshot(session, record.id) == before
    assert before["name"] == "Wilson Fisk"
    rows = session.exec(select(Tag).order_by(Tag.id)).all()
    assert [(row.user_id, row.value) for row in rows] == [
        (paid_user.id, "unimportant"),
        (free_user.id, "important"),
    ]
    assert tags.tags_for(
        session=session, user=free_user, item_type="record", item_ids=[record.id]
    ) == {record.id: "important"}
    assert tags.tags_for(
        session=session, user=paid_user, item_type="record", item_ids=[record.id]
    ) == {record.id: "unimportant"}


def test_changing_and_removing_a_tag_keeps_at_most_one_row(session, paid_user, record):
    _tag(session, paid_user, "record", record.id, "important")
    _tag(session, paid_user, "record", record.id, "unimportant")

    assert [row.value for row in session.exec(select(Tag)).all()] == ["unimportant"]

    assert _tag(session, paid_user, "record", record.id, "") == ""
    assert _count(session, Tag) == 0
    assert _tag(session, paid_user, "record", record.id, None) == ""
    assert _count(session, Tag) == 0


def test_a_free_account_cannot_tag_its_own_records(session, free_user):
    own = _add_record(session, free_user, "Karen Page")

    with pytest.raises(NotAllowed):
        _tag(session, free_user, "record", own.id, "important")

    assert _count(session, Tag) == 0


def test_another_users_items_and_missing_ids_are_refused(
    session, paid_user, make_user, record
):
    stranger = make_user("stranger@example.com", name="Sam Stranger")
    document = add_document(session, paid_user, "brochure.pdf")
    # A referral to someone else grants the stranger nothing.
    add_referral(session, paid_user, make_user("third@example.com"), record=record)
    attempts = [
        ("record", record.id),
        ("document", document.id),
        ("record", 9999),
        ("document", 9999),
        ("record", "not a number"),
        ("record", 10**20),
    ]

    for item_type, item_id in attempts:
        with pytest.raises(NotAllowed):
            _tag(session, stranger, item_type, item_id, "important")
        with pytest.raises(NotAllowed):
            _tag(session, stranger, item_type, item_id, "")

    assert _count(session, Tag) == 0


def test_documents_are_tagged_by_their_owner_and_their_recipients(
    session, paid_user, free_user
):
    document = add_document(session, paid_user, "brochure.pdf")
    add_referral(session, paid_user, free_user, document=document)

    _tag(session, paid_user, "document", document.id, "important")
    _tag(session, free_user, "document", document.id, "unimportant")

    rows = session.exec(select(Tag).order_by(Tag.id)).all()
    assert [(row.user_id, row.item_type, row.value) for row in rows] == [
        (paid_user.id, "document", "important"),
        (free_user.id, "document", "unimportant"),
    ]


@pytest.mark.parametrize(
    ("item_type", "value"),
    [("deal", "important"), ("record", "urgent"), ("record", 1), ("", "important")],
)
def test_unknown_item_types_and_values_are_refused(
    session, paid_user, record, item_type, value
):
    with pytest.raises(InvalidInput):
        _tag(session, paid_user, item_type, record.id, value)

    assert _count(session, Tag) == 0


def test_tags_for_answers_only_the_asked_items_of_one_type(session, paid_user, record):
    other = _add_record(session, paid_user, "Matt Murdock")
    document = add_document(session, paid_user, "brochure.pdf")
    _tag(session, paid_user, "record", record.id, "important")
    _tag(session, paid_user, "record", other.id, "unimportant")
    _tag(session, paid_user, "document", document.id, "important")

    found = tags.tags_for(
        session=session,
        user=paid_user,
        item_type="record",
        item_ids=[record.id, 4242],
    )

    assert found == {record.id: "important"}
    assert (
        tags.tags_for(session=session, user=paid_user, item_type="record", item_ids=[])
        == {}
    )
    with pytest.raises(InvalidInput):
        tags.tags_for(session=session, user=paid_user, item_type="x", item_ids=[1])
    with pytest.raises(NotAllowed):
        tags.tags_for(
            session=session, user=paid_user, item_type="record", item_ids=["x"]
        )


def test_a_double_click_from_two_sessions_leaves_one_tag_and_no_error(
    engine, session, paid_user, record
):
    record_id = record.id
    session.close()
    barrier = threading.Barrier(2)
    errors = []

    def click(value: str) -> None:
        with Session(engine) as own_session:
            barrier.wait()
            try:
                _tag(own_session, paid_user, "record", record_id, value)
            except Exception as error:  # the test reports any error, not just one kind
                errors.append(error)

    threads = [
        threading.Thread(target=click, args=(value,))
        for value in ("important", "unimportant")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    with Session(engine) as check:
        rows = check.exec(select(Tag)).all()
        assert len(rows) == 1
        assert rows[0].value in ("important", "unimportant")


@pytest.fixture
def tagged(session, paid_user, make_user) -> dict:
    """A paid user with tagged own records, referred items and documents."""
    partner = make_user("pat@example.com", plan=PLAN_FREE, name="Pat Partner")
    lead = _add_record(session, paid_user, "Zed Lead", kind=KIND_LEAD, company="Z Co")
    contact = _add_record(session, paid_user, "Ann Contact")
    referred = _add_record(session, partner, "Bob Referred", kind=KIND_LEAD)
    add_referral(session, partner, paid_user, record=referred)
    latest = add_referral(session, partner, paid_user, record=referred)
    own_file = add_document(session, paid_user, "price-list.pdf")
    shared_file = add_document(session, partner, "brochure.pdf")
    add_referral(session, partner, paid_user, document=shared_file)
    _tag(session, paid_user, "record", lead.id, "important")
    _tag(session, paid_user, "record", referred.id, "important")
    _tag(session, paid_user, "record", contact.id, "important")
    _tag(session, paid_user, "document", own_file.id, "unimportant")
    _tag(session, paid_user, "document", shared_file.id, "important")
    return {
        "lead": lead,
        "contact": contact,
        "referred": referred,
        "latest": latest,
        "own_file": own_file,
        "shared_file": shared_file,
    }


def test_overview_groups_by_tag_and_type_with_counts_and_links(
    session, paid_user, tagged
):
    groups = tags.tag_overview(session=session, user=paid_user)

    assert [
        (group["value"], group["value_label"], group["type_label"], group["count"])
        for group in groups
    ] == [
        ("important", "Important", "Leads", 2),
        ("important", "Important", "Contacts", 1),
        ("important", "Important", "Documents", 1),
        ("unimportant", "Unimportant", "Documents", 1),
    ]
    assert groups[0]["items"] == [
        {
            "name": "Bob Referred",
            "link": f"/referrals/{tagged['latest'].id}",
            "detail": "from Pat Partner",
        },
        {
            "name": "Zed Lead",
            "link": f"/records/{tagged['lead'].id}",
            "detail": "Z Co",
        },
    ]
    assert groups[1]["items"] == [
        {
            "name": "Ann Contact",
            "link": f"/records/{tagged['contact'].id}",
            "detail": "",
        }
    ]
    assert groups[2]["items"] == [
        {"name": "brochure.pdf", "link": "/library", "detail": "PDF · from Pat Partner"}
    ]
    assert groups[3]["items"] == [
        {"name": "price-list.pdf", "link": "/library", "detail": "PDF"}
    ]


def test_overview_leaves_out_what_the_user_can_no_longer_see(
    session, paid_user, tagged
):
    plans.change_plan(session=session, user=paid_user, plan=PLAN_FREE)
    downgraded = auth.current_user_for(session, paid_user.id)
    for referral in session.exec(
        select(Referral).where(Referral.document_id == tagged["shared_file"].id)
    ).all():
        session.delete(referral)
    session.commit()

    groups = tags.tag_overview(session=session, user=downgraded)

    assert [(group["type_label"], group["count"]) for group in groups] == [
        ("Leads", 1),
        ("Documents", 1),
    ]
    assert groups[0]["items"][0]["name"] == "Bob Referred"
    assert groups[1]["items"][0]["name"] == "price-list.pdf"
    assert _count(session, Tag) == 5


def test_overview_of_a_user_without_tags_is_empty(session, free_user, tagged):
    assert tags.tag_overview(session=session, user=free_user) == []
