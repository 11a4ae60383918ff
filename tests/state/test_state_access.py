"""State handlers called directly, as any browser could, with other users' ids."""

import json

import pytest
from sqlmodel import select

import chub_ui.chub_ui  # noqa: F401  (registers every state on the app)
from chub_ui.models import KIND_CONTACT, PLAN_FREE, Record, Referral
from chub_ui.services import auth, referrals
from chub_ui.state.importing import ImportState
from chub_ui.state.records import RecordsState
from chub_ui.state.referrals import ReferralsState
from tests.state.conftest import state_at, token_for


@pytest.fixture
def owner_record(session, paid_user) -> Record:
    record = Record(
        account_id=paid_user.account_id,
        created_by_id=paid_user.id,
        kind=KIND_CONTACT,
        name="Sasha Calle",
        email="contact@sasha.com",
    )
    session.add(record)
    session.commit()
    session.refresh(record)
    return record


def test_free_partner_cannot_refer_someone_elses_record(
    session, owner_record, free_user
):
    state = state_at(
        RecordsState, f"/records/{owner_record.id}", token_for(session, free_user.email)
    )

    RecordsState.submit_referral.fn(state, {"to_email": "x@example.com", "message": ""})

    assert "paid plan" in state.refer_error
    assert state.refer_success == ""
    assert session.exec(select(Referral)).all() == []


def test_other_paid_account_cannot_refer_or_open_the_record(
    session, owner_record, make_user
):
    intruder = make_user("intruder@example.com")
    token = token_for(session, intruder.email)
    state = state_at(RecordsState, f"/records/{owner_record.id}", token)

    RecordsState.submit_referral.fn(
        state, {"to_email": "x@example.com", "message": "hi"}
    )
    refer_error = state.refer_error
    RecordsState.load_record.fn(state)

    assert refer_error == "That item does not exist."
    assert state.record == {}
    assert state.record_error == "That item does not exist."
    assert session.exec(select(Referral)).all() == []


def test_forged_or_missing_token_refers_nothing(session, owner_record):
    state = state_at(RecordsState, f"/records/{owner_record.id}", "forged-token")

    RecordsState.submit_referral.fn(state, {"to_email": "x@example.com", "message": ""})

    assert state.refer_error == "Please sign in to continue."
    assert session.exec(select(Referral)).all() == []


def test_stranger_cannot_open_a_referral_made_to_someone_else(
    session, owner_record, paid_user, free_user, make_user
):
    outcome = referrals.refer_record(
        session=session,
        user=paid_user,
        record_id=owner_record.id,
        to_email=free_user.email,
    )
    stranger = make_user("stranger@example.com", plan=PLAN_FREE)
    state = state_at(
        ReferralsState,
        f"/referrals/{outcome.referral_id}",
        token_for(session, stranger.email),
    )

    ReferralsState.load_detail.fn(state)
    ReferralsState.load_referrals.fn(state)

    assert state.detail == {}
    assert "not referred to you" in state.detail_error
    assert state.items == []


def test_recipient_opens_the_referral_and_no_secret_reaches_the_browser(
    session, owner_record, paid_user, free_user
):
    outcome = referrals.refer_record(
        session=session,
        user=paid_user,
        record_id=owner_record.id,
        to_email=free_user.email,
    )
    token = token_for(session, free_user.email)
    state = state_at(ReferralsState, f"/referrals/{outcome.referral_id}", token)

    ReferralsState.load_detail.fn(state)

    assert state.detail["name"] == "Sasha Calle"
    sent = json.dumps({"user": state.user, "detail": state.detail}, default=str)
    assert "password" not in sent
    assert "$argon2" not in sent
    assert auth.hash_token(token) not in sent


def test_signed_out_visitor_is_sent_to_login_with_the_way_back(session):
    state = state_at(ReferralsState, "/referrals/1")

    redirect = ReferralsState.load_detail.fn(state)

    assert state.detail == {}
    assert "/login?next=%2Freferrals%2F1" in str(redirect)


def test_free_partner_is_kept_out_of_the_import_page(session, free_user):
    state = state_at(ImportState, "/import", token_for(session, free_user.email))

    redirect = ImportState.load_import.fn(state)

    assert "paid plan" in state.notice
    assert "/referrals" in str(redirect)
