"""The lead and contact handlers called as any browser could: forms, filters,
selection and the Refer dialog, with other accounts' ids and odd arguments."""

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

import chub_ui.chub_ui  # noqa: F401  (registers every state on the app)
from chub_ui.models import (
    KIND_CONTACT,
    KIND_LEAD,
    PLAN_FREE,
    TAG_IMPORTANT,
    Record,
    Referral,
    Tag,
)
from chub_ui.services import records
from chub_ui.state.records import SOURCE_PREFIX, RecordsState
from chub_ui.state.referring import MAX_SELECTED
from tests.services.rows import add_record, add_referral, add_row, record_snapshot
from tests.state.conftest import state_at, token_for


@pytest.fixture
def owner_token(session, paid_user) -> str:
    return token_for(session, paid_user.email)


@pytest.fixture
def stranger(make_user):
    """A paid user of another account."""
    return make_user("stranger@example.com", name="Sam Stranger")


@pytest.fixture
def theirs(session, stranger) -> Record:
    """A contact of the other account, with a person's details."""
    return add_record(session, stranger, name="Their Contact", email="t@example.com")


def _leads(token: str):
    state = state_at(RecordsState, "/leads", token)
    RecordsState.load_leads.fn(state)
    return state


def _names(state) -> list[str]:
    return [item["name"] for item in state.items]


# New, Edit, Delete


def test_a_new_lead_opens_its_page(session, paid_user, owner_token):
    state = _leads(owner_token)

    redirect = RecordsState.submit_new_record.fn(
        state, {"name": "Ada Lovelace", "email": "ADA@example.com", "kind": "contact"}
    )

    record = session.exec(select(Record)).one()
    assert (record.kind, record.email) == (KIND_LEAD, "ada@example.com")
    assert record.account_id == paid_user.account_id
    assert f"/records/{record.id}" in str(redirect)
    assert state.form_error == ""


def test_a_refused_form_shows_each_fields_error(session, owner_token):
    state = _leads(owner_token)

    redirect = RecordsState.submit_new_record.fn(
        state, {"name": "", "email": "nope", "website": "javascript:alert(1)"}
    )

    assert redirect is None
    assert set(state.field_errors) == {"name", "email", "website"}
    assert state.field_errors["name"] == "Enter a name."
    assert "Please correct" in state.form_error
    assert session.exec(select(Record)).all() == []


@pytest.mark.parametrize("form", [None, "name=Ada", ["Ada"], 5])
def test_a_form_that_is_not_a_mapping_writes_nothing(session, owner_token, form):
    state = _leads(owner_token)

    RecordsState.submit_new_record.fn(state, form)

    assert state.form_error != ""
    assert session.exec(select(Record)).all() == []


def test_free_partner_and_signed_out_visitor_create_nothing(session, free_user):
    partner = state_at(RecordsState, "/leads", token_for(session, free_user.email))
    visitor = state_at(RecordsState, "/leads", "forged-token")

    RecordsState.submit_new_record.fn(partner, {"name": "Sneaky"})
    RecordsState.submit_new_record.fn(visitor, {"name": "Sneaky"})

    assert "paid plan" in partner.form_error
    assert visitor.form_error == "Please sign in to continue."
    assert session.exec(select(Record)).all() == []


def test_the_owner_edits_the_record_of_the_page(session, paid_user, owner_token):
    record = add_record(session, paid_user, name="Old", kind=KIND_LEAD)
    state = state_at(RecordsState, f"/records/{record.id}", owner_token)
    RecordsState.load_record.fn(state)

    RecordsState.start_edit.fn(state)
    form = {**state.form_values, "name": "New", "id": 999}
    RecordsState.submit_edit.fn(state, form)

    assert state.is_editing is False
    assert state.record["name"] == "New"
    assert record_snapshot(session, record.id)["updated_at"] is not None


def test_another_account_cannot_edit_or_delete_by_address(session, theirs, owner_token):
    before = record_snapshot(session, theirs.id)
    state = state_at(RecordsState, f"/records/{theirs.id}", owner_token)

    RecordsState.start_edit.fn(state)
    start_error = state.form_error
    RecordsState.submit_edit.fn(state, {"name": "Hacked"})
    edit_error = state.form_error
    redirect = RecordsState.confirm_delete.fn(state)

    assert start_error == edit_error == "That item does not exist."
    assert state.is_editing is False
    assert state.form_values == {}
    assert state.delete_error == "That item does not exist."
    assert redirect is None
    assert record_snapshot(session, theirs.id) == before


def test_the_owner_deletes_and_goes_back_to_the_list(session, paid_user, owner_token):
    record = add_record(session, paid_user, name="Gone", kind=KIND_CONTACT)
    state = state_at(RecordsState, f"/records/{record.id}", owner_token)
    RecordsState.load_record.fn(state)

    redirect = RecordsState.confirm_delete.fn(state)

    assert session.exec(select(Record.id)).all() == []
    assert "/contacts" in str(redirect)
    assert state.notice == "Gone was deleted."


def test_a_record_with_an_open_referral_stays(
    session, paid_user, owner_token, free_user
):
    record = add_record(session, paid_user, name="Shared")
    add_referral(session, paid_user, free_user, record=record)
    state = state_at(RecordsState, f"/records/{record.id}", owner_token)
    RecordsState.set_delete_open.fn(state, True)

    redirect = RecordsState.confirm_delete.fn(state)

    assert redirect is None
    assert "Revoke" in state.delete_error
    assert state.delete_open is True
    assert session.get(Record, record.id) is not None


# Filters and sort


def test_filters_and_sort_narrow_the_list(session, paid_user, owner_token, stranger):
    web = add_record(session, paid_user, name="b web", kind=KIND_LEAD, source="web")
    add_record(session, paid_user, name="a fair", kind=KIND_LEAD, source="fair")
    add_record(session, stranger, name="theirs", kind=KIND_LEAD, source="secret")
    add_row(
        session,
        Tag(
            user_id=paid_user.id, item_type="record", item_id=web.id, value="important"
        ),
    )
    state = _leads(owner_token)

    sources = [option["label"] for option in state.source_options]
    RecordsState.set_sort_by.fn(state, "name_asc")
    by_name = _names(state)
    RecordsState.set_source_filter.fn(state, SOURCE_PREFIX + "web")
    by_source = _names(state)
    RecordsState.set_source_filter.fn(state, records.ANY)
    RecordsState.set_tag_filter.fn(state, TAG_IMPORTANT)
    by_tag = _names(state)
    RecordsState.set_referred_filter.fn(state, "yes")

    assert sources == ["fair", "web"]
    assert by_name == ["a fair", "b web"]
    assert by_source == ["b web"]
    assert by_tag == ["b web"]
    assert state.items == [] and state.is_filtered is True


@pytest.mark.parametrize(
    ("handler", "value"),
    [
        (RecordsState.set_sort_by, "name_asc; DROP TABLE record"),
        (RecordsState.set_sort_by, ["name_asc"]),
        (RecordsState.set_tag_filter, "vip"),
        (RecordsState.set_referred_filter, {"yes": 1}),
        (RecordsState.set_source_filter, [SOURCE_PREFIX + "web"]),
        (RecordsState.set_source_filter, None),
    ],
)
def test_unknown_filter_or_sort_values_change_nothing(
    session, paid_user, owner_token, handler, value
):
    add_record(session, paid_user, name="Kept", kind=KIND_LEAD)
    state = _leads(owner_token)

    handler.fn(state, value)

    assert state.list_error != ""
    assert (
        state.sort_by,
        state.tag_filter,
        state.referred_filter,
        state.source_filter,
    ) == (records.DEFAULT_SORT, records.ANY, records.ANY, records.ANY)
    assert _names(state) == ["Kept"]


def test_a_source_that_is_not_a_select_value_filters_nothing_in(
    session, paid_user, owner_token
):
    add_record(session, paid_user, name="Kept", kind=KIND_LEAD, source="any")
    state = _leads(owner_token)

    RecordsState.set_source_filter.fn(state, "any")
    unfiltered = _names(state)
    RecordsState.set_source_filter.fn(state, SOURCE_PREFIX + "any")

    assert unfiltered == ["Kept"] and _names(state) == ["Kept"]


def test_the_export_link_holds_the_lists_filters(session, paid_user, owner_token):
    state = _leads(owner_token)
    RecordsState.set_tag_filter.fn(state, TAG_IMPORTANT)
    RecordsState.set_sort_by.fn(state, "company_desc")

    script = str(RecordsState.export.fn(state, "csv"))

    link = script[script.index("/api/export/") :].split('"')[0].split("\\")[0]
    query = parse_qs(urlsplit(link).query)
    assert query["tag"] == [TAG_IMPORTANT]
    assert query["sort"] == ["company_desc"]
    assert state.tag_error == ""


# Selection and Refer


def test_selection_takes_only_ids_and_at_most_fifty(session, paid_user, owner_token):
    state = _leads(owner_token)

    for bad in (None, "abc", -3, 2**70, True, [1]):
        RecordsState.toggle_selected.fn(state, bad, True)
    RecordsState.toggle_selected.fn(state, "7", True)
    RecordsState.toggle_selected.fn(state, 7, True)
    first = list(state.selected)
    for number in range(100, 100 + MAX_SELECTED):
        RecordsState.toggle_selected.fn(state, number, True)
    full, error = list(state.selected), state.list_error
    RecordsState.toggle_selected.fn(state, 7, "false")

    assert first == [7]
    assert len(full) == MAX_SELECTED and 100 + MAX_SELECTED - 1 not in full
    assert "at most" in error
    assert 7 not in state.selected and len(state.selected) == MAX_SELECTED - 1


def test_select_page_selects_and_clears_the_page(session, paid_user, owner_token):
    made = [
        add_record(session, paid_user, name=f"L{number}", kind=KIND_LEAD)
        for number in range(3)
    ]
    state = _leads(owner_token)

    RecordsState.select_page.fn(state, True)
    selected = sorted(state.selected)
    page_selected = state.is_page_selected
    RecordsState.select_page.fn(state, False)

    assert selected == sorted(record.id for record in made)
    assert page_selected is True
    assert state.selected == []


def test_refer_selected_refuses_other_accounts_records(
    session, paid_user, owner_token, theirs
):
    mine = add_record(session, paid_user, name="Mine", kind=KIND_LEAD)
    state = _leads(owner_token)
    RecordsState.toggle_selected.fn(state, mine.id, True)
    RecordsState.toggle_selected.fn(state, theirs.id, True)

    RecordsState.open_refer_selected.fn(state)
    open_error = state.refer_error
    RecordsState.submit_referral.fn(
        state,
        {"to_email": "x@example.com", "message": "", "consent": "on"},
    )

    assert open_error != ""
    assert state.refer_error != ""
    assert state.refer_sent == []
    assert session.exec(select(Referral)).all() == []


def test_nothing_selected_opens_no_dialog(session, owner_token):
    state = _leads(owner_token)

    RecordsState.open_refer_selected.fn(state)

    assert state.refer_open is False
    assert state.refer_error == "Select the records to refer first."


def test_refer_selected_to_several_addresses_with_consent(
    session, paid_user, owner_token
):
    people = [
        add_record(
            session, paid_user, name=name, email=f"{name}@x.example", kind=KIND_LEAD
        )
        for name in ("ann", "ben")
    ]
    state = _leads(owner_token)
    for record in people:
        RecordsState.toggle_selected.fn(state, record.id, True)
    RecordsState.open_refer_selected.fn(state)
    needs_consent = state.refer_needs_consent

    RecordsState.submit_referral.fn(
        state, {"to_email": "p1@example.com, p2@example.com", "message": "hi"}
    )
    without_consent = state.refer_error
    RecordsState.submit_referral.fn(
        state,
        {
            "to_email": "p1@example.com\np2@example.com",
            "message": "hi",
            "consent": "on",
        },
    )

    assert needs_consent is True
    assert without_consent != ""
    assert state.refer_error == ""
    assert len(state.refer_sent) == 4
    assert state.refer_success.startswith("4 referrals made")
    assert state.selected == [] and state.refer_open is False
    assert len(session.exec(select(Referral)).all()) == 4


def test_the_record_pages_refer_button_refers_that_record_only(
    session, paid_user, owner_token, theirs
):
    record = add_record(session, paid_user, name="Acme Ltd", kind=KIND_LEAD)
    state = state_at(RecordsState, f"/records/{record.id}", owner_token)
    RecordsState.load_record.fn(state)
    # A selection left from the list does not ride along.
    state.selected = [theirs.id]

    RecordsState.set_refer_open.fn(state, True)
    RecordsState.submit_referral.fn(state, {"to_email": "p@example.com"})

    referral = session.exec(select(Referral)).one()
    assert referral.record_id == record.id
    assert state.refer_ids == [record.id]
    assert state.history[0]["id"] == referral.id
    assert state.history[0]["state"] == "invited"
    assert "p@example.com" in state.refer_sent[0]


def test_a_downgraded_account_refers_nothing(session, paid_user, make_user):
    record = add_record(session, paid_user, name="Acme Ltd", kind=KIND_LEAD)
    member = make_user("member@example.com", plan=PLAN_FREE)
    state = state_at(
        RecordsState, f"/records/{record.id}", token_for(session, member.email)
    )

    RecordsState.submit_referral.fn(state, {"to_email": "p@example.com"})

    assert state.refer_error != ""
    assert session.exec(select(Referral)).all() == []


def test_a_dialog_left_open_does_not_follow_to_another_record(
    session, paid_user, owner_token
):
    first = add_record(session, paid_user, name="First Lead Ltd", kind=KIND_LEAD)
    second = add_record(session, paid_user, name="Second Lead Ltd", kind=KIND_LEAD)
    state = state_at(RecordsState, f"/records/{first.id}", owner_token)
    RecordsState.load_record.fn(state)
    RecordsState.set_refer_open.fn(state, True)
    RecordsState.submit_referral.fn(state, {"to_email": "not an address"})
    assert state.refer_open is True
    assert state.refer_error

    # The same browser tab goes on to the second record's page.
    moved = state_at(RecordsState, f"/records/{second.id}", owner_token)
    moved.refer_open, moved.refer_ids = state.refer_open, list(state.refer_ids)
    moved.refer_title = state.refer_title
    RecordsState.load_record.fn(moved)

    assert moved.refer_open is False
    assert moved.refer_ids == []
    RecordsState.set_refer_open.fn(moved, True)
    assert moved.refer_title == "Refer Second Lead Ltd"
    RecordsState.submit_referral.fn(moved, {"to_email": "p@example.com"})
    referral = session.exec(select(Referral)).one()
    assert referral.record_id == second.id
