"""Leads and contacts: create, edit and delete with their checks; sorted, filtered
lists; and exports that hold exactly what the list shows."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from chub_ui.models import (
    KIND_CONTACT,
    KIND_LEAD,
    PLAN_FREE,
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
from chub_ui.services import audit, exports, records, tags
from chub_ui.services.errors import (
    InvalidInput,
    NotAllowed,
    NotSignedIn,
    PlanRequired,
)
from tests.services.rows import add_record, add_referral, add_row, record_snapshot

START = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
BAD_IDS = [None, "", "abc", "1; DROP TABLE record", -1, 0, 2**70, 1.5, [1], True]


@pytest.fixture
def stranger(make_user):
    """A paid user of another account."""
    return make_user("stranger@example.com", name="Sam Stranger")


@pytest.fixture
def partner(make_user):
    """A free partner that records are referred to."""
    return make_user("partner@example.com", plan=PLAN_FREE, name="Pat Partner")


def _create(session, user, kind=KIND_LEAD, **fields) -> int:
    fields.setdefault("name", "Ada Lovelace")
    return records.create_record(session=session, user=user, kind=kind, fields=fields)


def _refused_fields(session, user, **fields) -> dict[str, str]:
    with pytest.raises(records.RecordFieldErrors) as refusal:
        _create(session, user, **fields)
    return refusal.value.fields


def _count_records(session) -> int:
    return len(session.exec(select(Record)).all())


# Create


def test_a_new_lead_keeps_its_fields_trimmed(session, paid_user):
    record_id = _create(
        session,
        paid_user,
        name="  Ada Lovelace ",
        company="Analytical Engines",
        email=" Ada@Example.COM ",
        phone="+44 20 7946 0958",
        website="example.com/ada",
        description="First line\r\nSecond line",
        labels="vip, fair 2026, VIP, ",
    )

    record = session.get(Record, record_id)
    assert record.kind == KIND_LEAD
    assert record.account_id == paid_user.account_id
    assert record.created_by_id == paid_user.id
    assert record.name == "Ada Lovelace"
    assert record.email == "ada@example.com"
    assert record.website == "https://example.com/ada"
    assert record.description == "First line\nSecond line"
    assert record.labels == "vip, fair 2026"
    assert record.updated_at is None


@pytest.mark.parametrize("name", ["", "   ", None])
def test_a_name_is_required(session, paid_user, name):
    assert _refused_fields(session, paid_user, name=name) == {"name": "Enter a name."}
    assert _count_records(session) == 0


@pytest.mark.parametrize(
    "field", ["name", "company", "job_title", "city", "postal_code", "source"]
)
def test_each_field_is_limited_to_its_column(session, paid_user, field):
    limit = records.column_length(field)

    errors = _refused_fields(session, paid_user, **{field: "x" * (limit + 1)})
    record_id = _create(session, paid_user, **{field: "x" * limit})

    assert str(limit) in errors[field]
    assert getattr(session.get(Record, record_id), field) == "x" * limit


def test_the_description_may_be_long_and_have_lines(session, paid_user):
    limit = records.column_length("description")

    errors = _refused_fields(session, paid_user, description="y" * (limit + 1))
    record_id = _create(session, paid_user, description="a\n\tb")

    assert "description" in errors
    assert session.get(Record, record_id).description == "a\n\tb"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Ada\nLovelace"),
        ("name", "Ada\x00"),
        ("company", "Acme\u2028Ltd"),
        ("city", "Lon\x1bdon"),
        ("description", "bell\x07"),
        ("name", "half \ud800 surrogate"),
    ],
)
def test_control_characters_and_line_breaks_are_refused(
    session, paid_user, field, value
):
    errors = _refused_fields(session, paid_user, **{field: value})

    assert field in errors
    assert _count_records(session) == 0


@pytest.mark.parametrize(
    "email", ["not-an-address", "a@b", "Ada <ada@example.com>", "a@@example.com"]
)
def test_a_bad_email_is_refused(session, paid_user, email):
    assert "email" in _refused_fields(session, paid_user, email=email)


def test_other_emails_are_each_checked_and_joined(session, paid_user):
    record_id = _create(
        session, paid_user, other_emails="B@example.com; c@example.com\nb@example.com"
    )

    errors = _refused_fields(session, paid_user, other_emails="ok@example.com, nope")

    assert session.get(Record, record_id).other_emails == (
        "b@example.com, c@example.com"
    )
    assert "nope" in errors["other_emails"]


@pytest.mark.parametrize("phone", ["call me", "12", "+49 (30) 555-CALL", "555 1234 ;"])
def test_a_phone_needs_digits_and_phone_signs(session, paid_user, phone):
    assert "phone" in _refused_fields(session, paid_user, phone=phone)


@pytest.mark.parametrize(
    "phone", ["+49 30 5550 1201", "(555) 123-4567", "030/555.12", "555 1234 ext 12"]
)
def test_usual_phone_numbers_are_kept(session, paid_user, phone):
    record_id = _create(session, paid_user, phone=phone)

    assert session.get(Record, record_id).phone == phone


def test_other_phones_are_each_checked(session, paid_user):
    record_id = _create(session, paid_user, other_phones="+1 555 0100;\n+1 555 0101")

    errors = _refused_fields(session, paid_user, other_phones="+1 555 0100, fax it")

    assert session.get(Record, record_id).other_phones == "+1 555 0100, +1 555 0101"
    assert "fax it" in errors["other_phones"]


@pytest.mark.parametrize(
    "website",
    [
        "javascript:alert(1)",
        "ftp://example.com",
        "localhost",
        "http://exa mple.com",
        "https://[::1",
    ],
)
def test_a_website_must_be_a_web_address(session, paid_user, website):
    assert "website" in _refused_fields(session, paid_user, website=website)


def test_a_long_label_is_refused(session, paid_user):
    errors = _refused_fields(
        session, paid_user, labels="ok, " + "l" * (records.MAX_LABEL_LENGTH + 1)
    )

    assert str(records.MAX_LABEL_LENGTH) in errors["labels"]


@pytest.mark.parametrize("value", [42, ["Ada"], {"a": 1}, 1.5])
def test_values_that_are_not_text_are_refused(session, paid_user, value):
    assert "company" in _refused_fields(session, paid_user, company=value)


@pytest.mark.parametrize("form", [None, "name=Ada", ["Ada"], 7])
def test_a_form_that_is_not_a_mapping_is_refused(session, paid_user, form):
    with pytest.raises(InvalidInput):
        records.create_record(
            session=session, user=paid_user, kind=KIND_LEAD, fields=form
        )


def test_every_refused_field_is_named_at_once(session, paid_user):
    with pytest.raises(records.RecordFieldErrors) as refusal:
        _create(session, paid_user, name="", email="nope", phone="?")

    assert set(refusal.value.fields) == {"name", "email", "phone"}
    assert "Name" in refusal.value.message and "E-mail" in refusal.value.message


def test_unknown_fields_are_ignored(session, paid_user):
    form = {"name": "Ada", "account_id": 999, "created_by_id": 999, "id": 5}
    record_id = records.create_record(
        session=session,
        user=paid_user,
        kind=KIND_LEAD,
        fields={**form, "kind": KIND_CONTACT},
    )

    record = session.get(Record, record_id)
    assert record.account_id == paid_user.account_id
    assert record.created_by_id == paid_user.id
    assert record.kind == KIND_LEAD


def test_creating_needs_a_paid_account_a_user_and_a_kind(session, paid_user, free_user):
    with pytest.raises(PlanRequired):
        _create(session, free_user)
    with pytest.raises(NotSignedIn):
        _create(session, None)
    with pytest.raises(InvalidInput):
        _create(session, paid_user, kind="document")

    assert _count_records(session) == 0


# Edit


def test_editing_changes_the_fields_and_the_time(session, paid_user):
    record = add_record(session, paid_user, name="Old Name", company="Old Co")

    records.update_record(
        session=session,
        user=paid_user,
        record_id=str(record.id),
        fields={"name": "New Name", "company": "", "email": "new@example.com"},
    )

    now = record_snapshot(session, record.id)
    assert (now["name"], now["company"], now["email"]) == (
        "New Name",
        "",
        "new@example.com",
    )
    assert now["updated_at"] is not None
    assert now["updated_at"] <= utcnow()


def test_an_edit_that_changes_nothing_writes_nothing(session, paid_user):
    record = add_record(session, paid_user, name="Same", company="Acme")
    form = records.record_form_values(session.get(Record, record.id))

    records.update_record(
        session=session, user=paid_user, record_id=record.id, fields=form
    )

    assert record_snapshot(session, record.id)["updated_at"] is None


def test_a_refused_edit_leaves_the_record_as_it_was(session, paid_user):
    record = add_record(session, paid_user, name="Kept", email="kept@example.com")
    before = record_snapshot(session, record.id)

    with pytest.raises(records.RecordFieldErrors):
        records.update_record(
            session=session,
            user=paid_user,
            record_id=record.id,
            fields={"name": "Changed", "email": "broken"},
        )

    assert record_snapshot(session, record.id) == before


def test_an_imported_value_left_as_it_was_is_kept(session, paid_user):
    record = add_record(session, paid_user, name="Imported", phone="555-CALL-NOW")
    form = records.record_form_values(session.get(Record, record.id))

    records.update_record(
        session=session,
        user=paid_user,
        record_id=record.id,
        fields={**form, "name": "Renamed"},
    )

    now = record_snapshot(session, record.id)
    assert (now["name"], now["phone"]) == ("Renamed", "555-CALL-NOW")


def test_fields_left_out_of_an_edit_keep_their_values(session, paid_user):
    record = add_record(session, paid_user, name="Ada", city="London")

    records.update_record(
        session=session, user=paid_user, record_id=record.id, fields={"name": "Ava"}
    )

    assert record_snapshot(session, record.id)["city"] == "London"


def test_an_edit_cannot_empty_the_name(session, paid_user):
    record = add_record(session, paid_user, name="Ada")

    with pytest.raises(records.RecordFieldErrors) as refusal:
        records.update_record(
            session=session, user=paid_user, record_id=record.id, fields={"name": " "}
        )

    assert refusal.value.fields == {"name": "Enter a name."}


def test_another_account_cannot_edit_or_delete(session, paid_user, stranger):
    record = add_record(session, paid_user, name="Mine")
    before = record_snapshot(session, record.id)

    with pytest.raises(NotAllowed):
        records.update_record(
            session=session, user=stranger, record_id=record.id, fields={"name": "X"}
        )
    with pytest.raises(NotAllowed):
        records.delete_record(session=session, user=stranger, record_id=record.id)

    assert record_snapshot(session, record.id) == before


def test_a_downgraded_account_cannot_edit_or_delete(session, paid_user):
    record = add_record(session, paid_user, name="Mine")
    free_in_same_account = replace(paid_user, plan=PLAN_FREE)

    with pytest.raises(PlanRequired):
        records.update_record(
            session=session,
            user=free_in_same_account,
            record_id=record.id,
            fields={"name": "X"},
        )
    with pytest.raises(PlanRequired):
        records.delete_record(
            session=session, user=free_in_same_account, record_id=record.id
        )
    with pytest.raises(NotSignedIn):
        records.delete_record(session=session, user=None, record_id=record.id)

    assert record_snapshot(session, record.id)["name"] == "Mine"


@pytest.mark.parametrize("record_id", BAD_IDS)
def test_bad_ids_are_refused_as_missing(session, paid_user, record_id):
    add_record(session, paid_user, name="Mine")

    with pytest.raises(NotAllowed):
        records.update_record(
            session=session, user=paid_user, record_id=record_id, fields={"name": "X"}
        )
    with pytest.raises(NotAllowed):
        records.delete_record(session=session, user=paid_user, record_id=record_id)

    assert _count_records(session) == 1


# Delete


def test_deleting_removes_the_record_its_tags_and_writes_an_audit_line(
    session, paid_user
):
    record = add_record(session, paid_user, name="Gone Soon", kind=KIND_LEAD)
    tags.set_tag(
        session=session,
        user=paid_user,
        item_type="record",
        item_id=record.id,
        value=TAG_IMPORTANT,
    )

    kind = records.delete_record(session=session, user=paid_user, record_id=record.id)

    assert kind == KIND_LEAD
    assert session.get(Record, record.id) is None
    assert session.exec(select(Tag)).all() == []
    line = session.exec(select(AuditEvent)).one()
    assert line.action == audit.RECORD_DELETE
    assert line.target == "lead Gone Soon"
    assert line.actor_id == paid_user.id
    assert line.account_id == paid_user.account_id


def test_a_record_partners_can_still_open_is_not_deleted(session, paid_user, partner):
    record = add_record(session, paid_user, name="Shared")
    add_referral(session, paid_user, partner, record=record)

    with pytest.raises(InvalidInput) as refusal:
        records.delete_record(session=session, user=paid_user, record_id=record.id)

    assert "Revoke" in refusal.value.message
    assert session.get(Record, record.id) is not None
    assert len(session.exec(select(Referral)).all()) == 1
    assert session.exec(select(AuditEvent)).all() == []


def test_a_record_whose_referrals_are_over_goes_with_them(session, paid_user, partner):
    record = add_record(session, paid_user, name="Was Shared")
    revoked = add_referral(session, paid_user, partner, record=record)
    revoked.revoked_at = utcnow()
    add_row(session, revoked)
    expired = add_referral(session, paid_user, partner, record=record)
    expired.expires_at = utcnow() - timedelta(days=1)
    add_row(session, expired)
    invitation = add_row(
        session,
        Invitation(
            token_hash="h" * 64,
            email=partner.email,
            inviter_id=paid_user.id,
            referral_id=revoked.id,
            expires_at=utcnow() + timedelta(days=3),
        ),
    )
    add_row(
        session,
        OutboxMessage(
            to_address=partner.email,
            subject="s",
            body_text="b",
            body_html="b",
            invitation_id=invitation.id,
        ),
    )
    add_row(session, ReferralEvent(referral_id=revoked.id, kind="revoked"))
    other = add_record(session, paid_user, name="Untouched")
    kept = add_referral(session, paid_user, partner, record=other)

    records.delete_record(session=session, user=paid_user, record_id=record.id)

    session.expire_all()
    assert session.get(Record, record.id) is None
    assert [row.id for row in session.exec(select(Referral)).all()] == [kept.id]
    assert session.exec(select(Invitation)).all() == []
    assert session.exec(select(OutboxMessage)).all() == []
    assert session.exec(select(ReferralEvent)).all() == []
    assert "2 closed referrals" in session.exec(select(AuditEvent)).one().detail


def test_a_long_name_fits_the_audit_line(session, paid_user):
    record = add_record(session, paid_user, name="N" * 300, kind=KIND_LEAD)

    records.delete_record(session=session, user=paid_user, record_id=record.id)

    line = session.exec(select(AuditEvent)).one()
    assert line.target.startswith("lead NNN")
    assert len(line.target) == records.AUDIT_TARGET_LENGTH


# Lists: sort


def _book(session, user):
    """Five contacts in known order of time, name and company."""
    rows = [
        ("bob", "Zeta", "fair", 0),
        ("Alice", "alpha", "web", 1),
        ("carl", "Beta", "", 2),
        ("Dora", "beta", "fair", 3),
        ("eve", "Gamma", "web", 4),
    ]
    return {
        name: add_record(
            session,
            user,
            name=name,
            company=company,
            source=source,
            created_at=START + timedelta(hours=hours),
        )
        for name, company, source, hours in rows
    }


def _names(session, user, kind=KIND_CONTACT, **view) -> list[str]:
    found = records.list_records(session=session, user=user, kind=kind, **view)
    names = [item["name"] for item in found.items]
    for page in range(2, found.pages + 1):
        more = records.list_records(
            session=session, user=user, kind=kind, page=page, **view
        )
        names += [item["name"] for item in more.items]
    return names


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["eve", "Dora", "carl", "Alice", "bob"]),
        ("created_at_desc", ["eve", "Dora", "carl", "Alice", "bob"]),
        ("created_at_asc", ["bob", "Alice", "carl", "Dora", "eve"]),
        ("name_asc", ["Alice", "bob", "carl", "Dora", "eve"]),
        ("name_desc", ["eve", "Dora", "carl", "bob", "Alice"]),
        # "Beta" and "beta" tie on lower case; the older (smaller id) comes first.
        ("company_asc", ["Alice", "carl", "Dora", "eve", "bob"]),
        ("company_desc", ["bob", "eve", "Dora", "carl", "Alice"]),
    ],
)
def test_each_sort_orders_the_list(session, paid_user, sort, expected):
    _book(session, paid_user)

    assert _names(session, paid_user, sort=sort) == expected


@pytest.mark.parametrize(
    "sort",
    [
        "name",
        "id_asc",
        "name_up",
        "password_hash_asc",
        "name_asc; DROP TABLE record",
        "created_at_desc, id",
        "NAME_ASC",
        42,
        ["name_asc"],
    ],
)
def test_an_unknown_sort_is_refused(session, paid_user, sort):
    _book(session, paid_user)

    with pytest.raises(InvalidInput):
        records.list_records(
            session=session, user=paid_user, kind=KIND_CONTACT, sort=sort
        )
    with pytest.raises(InvalidInput):
        exports.export_rows(
            session=session, user=paid_user, kind=KIND_CONTACT, sort=sort
        )
    assert _count_records(session) == 5


def test_sorted_pages_hold_every_record_once(session, paid_user):
    # Many ties on the company, across two pages.
    made = [
        add_record(
            session, paid_user, name=f"P{number:02d}", company=f"Co {number % 3}"
        )
        for number in range(records.PAGE_SIZE + 7)
    ]

    names = _names(session, paid_user, sort="company_desc")

    expected = sorted(made, key=lambda row: (row.company, row.id), reverse=True)
    assert names == [row.name for row in expected]


# Lists: filters


def test_the_tag_filter_reads_the_users_own_tags(session, paid_user, make_user):
    book = _book(session, paid_user)
    colleague = replace(
        make_user("colleague@example.com"), account_id=paid_user.account_id
    )
    for name, value in (("bob", TAG_IMPORTANT), ("eve", TAG_UNIMPORTANT)):
        tags.set_tag(
            session=session,
            user=paid_user,
            item_type="record",
            item_id=book[name].id,
            value=value,
        )
    add_row(
        session,
        Tag(
            user_id=colleague.id,
            item_type="record",
            item_id=book["carl"].id,
            value=TAG_IMPORTANT,
        ),
    )

    assert _names(session, paid_user, tag="important") == ["bob"]
    assert _names(session, paid_user, tag="Unimportant") == ["eve"]
    assert _names(session, paid_user, tag="none") == ["Dora", "carl", "Alice"]
    assert _names(session, paid_user, tag="any") == _names(session, paid_user)
    assert _names(session, colleague, tag="important") == ["carl"]


def test_the_source_filter_matches_the_source_exactly(session, paid_user):
    _book(session, paid_user)

    assert _names(session, paid_user, source="web") == ["eve", "Alice"]
    assert _names(session, paid_user, source=" fair ") == ["Dora", "bob"]
    assert _names(session, paid_user, source="we") == []
    assert _names(session, paid_user, source="web\x00") == []
    assert len(_names(session, paid_user, source="")) == 5


def test_the_referred_filter(session, paid_user, partner, stranger):
    book = _book(session, paid_user)
    add_referral(session, paid_user, partner, record=book["carl"])
    add_referral(session, paid_user, stranger, record=book["carl"])
    add_referral(session, paid_user, partner, record=book["eve"])

    assert _names(session, paid_user, referred="yes") == ["eve", "carl"]
    assert _names(session, paid_user, referred="no") == ["Dora", "Alice", "bob"]


@pytest.mark.parametrize(
    "view",
    [
        {"tag": "vip"},
        {"tag": 1},
        {"referred": "maybe"},
        {"referred": ["yes"]},
    ],
)
def test_unknown_filter_values_are_refused(session, paid_user, view):
    with pytest.raises(InvalidInput):
        records.list_records(session=session, user=paid_user, kind=KIND_CONTACT, **view)


def test_filters_search_and_sort_combine(session, paid_user, partner):
    book = _book(session, paid_user)
    add_referral(session, paid_user, partner, record=book["Dora"])

    names = _names(
        session, paid_user, search="a", source="fair", referred="no", sort="name_asc"
    )

    # "a" is in bob's company, Zeta; Dora, also from the fair, was referred.
    assert names == ["bob"]
    assert _names(session, paid_user, search="a", referred="no", sort="name_asc") == [
        "Alice",
        "bob",
        "carl",
        "eve",
    ]


def test_filters_never_show_another_accounts_records(session, paid_user, stranger):
    _book(session, paid_user)
    add_record(session, stranger, name="theirs", source="web")

    assert _names(session, stranger, source="web") == ["theirs"]
    assert "theirs" not in _names(session, paid_user, source="web")


def test_sources_are_the_accounts_distinct_sources_of_that_kind(
    session, paid_user, stranger, free_user
):
    _book(session, paid_user)
    add_record(session, paid_user, name="lead", kind=KIND_LEAD, source="trade show")
    add_record(session, stranger, name="theirs", source="secret list")

    contacts = records.list_sources(session=session, user=paid_user, kind=KIND_CONTACT)
    leads = records.list_sources(session=session, user=paid_user, kind=KIND_LEAD)

    assert contacts == ["fair", "web"]
    assert leads == ["trade show"]
    with pytest.raises(PlanRequired):
        records.list_sources(session=session, user=free_user, kind=KIND_CONTACT)
    with pytest.raises(InvalidInput):
        records.list_sources(session=session, user=paid_user, kind="document")


# Exports hold exactly the list


@pytest.mark.parametrize(
    "view",
    [
        {},
        {"sort": "name_asc"},
        {"sort": "company_desc", "search": "a"},
        {"tag": "important"},
        {"tag": "none", "sort": "created_at_asc"},
        {"source": "web"},
        {"referred": "yes", "sort": "name_desc"},
        {"referred": "no", "source": "fair", "tag": "none"},
    ],
)
def test_the_export_holds_exactly_the_filtered_sorted_list(
    session, paid_user, partner, monkeypatch, view
):
    # Small batches, so the export's keyset paging crosses several batches.
    monkeypatch.setattr(exports, "EXPORT_BATCH_SIZE", 2)
    book = _book(session, paid_user)
    tags.set_tag(
        session=session,
        user=paid_user,
        item_type="record",
        item_id=book["Alice"].id,
        value=TAG_IMPORTANT,
    )
    add_referral(session, paid_user, partner, record=book["bob"])

    exported = [
        record.name
        for record in exports.export_rows(
            session=session, user=paid_user, kind=KIND_CONTACT, **view
        )
    ]

    assert exported == _names(session, paid_user, **view)


def test_the_export_link_carries_the_filters_and_is_refused_without_them(
    session, paid_user
):
    link = exports.export_link(
        session=session,
        user=paid_user,
        kind=KIND_CONTACT,
        fmt="csv",
        search="a",
        tag="important",
        source="web",
        referred="no",
        sort="name_asc",
    )
    query = dict(part.split("=", 1) for part in link.split("?", 1)[1].split("&"))
    signed = {
        "session": session,
        "kind": KIND_CONTACT,
        "fmt": "csv",
        "search": "a",
        "user_id": query["u"],
        "expires": query["e"],
        "signature": query["s"],
    }
    view = {"tag": "important", "source": "web", "referred": "no", "sort": "name_asc"}

    assert exports.user_for_export_link(**signed, **view).id == paid_user.id
    assert exports.view_from_query(query) == view
    for name in view:
        with pytest.raises(NotSignedIn):
            exports.user_for_export_link(**signed, **{**view, name: ""})
    with pytest.raises(NotSignedIn):
        exports.user_for_export_link(**signed, **{**view, "sort": "evil"})
    with pytest.raises(InvalidInput):
        exports.export_link(
            session=session, user=paid_user, kind=KIND_CONTACT, fmt="csv", tag="x"
        )
