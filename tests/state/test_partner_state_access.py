"""Partner's Network handlers called directly with other users' ids and plans."""

from sqlmodel import select

import chub_ui.chub_ui  # noqa: F401  (registers every state on the app)
from chub_ui.models import (
    PLAN_FREE,
    Record,
    Referral,
    Tag,
    TeamMessage,
)
from chub_ui.services import library
from chub_ui.state.library import LibraryState
from chub_ui.state.notifications import NotificationsState
from chub_ui.state.plans import PlansState
from chub_ui.state.referrals import ReferralsState
from tests.services.rows import PDF
from tests.state.conftest import state_at, token_for


def test_free_partner_save_as_is_refused_however_called(
    session, referral_id, free_user
):
    state = state_at(
        ReferralsState, f"/referrals/{referral_id}", token_for(session, free_user.email)
    )
    before = len(session.exec(select(Record)).all())

    ReferralsState.save_as.fn(state, "contact", True)

    assert "paid plan" in state.save_error
    assert state.save_result == {}
    assert len(session.exec(select(Record)).all()) == before


def test_save_as_of_someone_elses_referral_is_refused(session, referral_id, make_user):
    other = make_user("other.paid@example.com")
    state = state_at(
        ReferralsState, f"/referrals/{referral_id}", token_for(session, other.email)
    )
    before = len(session.exec(select(Record)).all())

    ReferralsState.save_as.fn(state, "contact", True)

    assert state.save_error
    assert len(session.exec(select(Record)).all()) == before


def test_free_account_cannot_send_a_team_message_through_the_handler(
    session, free_user
):
    state = state_at(
        NotificationsState, "/notifications", token_for(session, free_user.email)
    )

    NotificationsState.send_team_message.fn(state, {"body": "Hello team"})

    assert "paid plan" in state.team_error
    assert session.exec(select(TeamMessage)).all() == []


def test_free_account_cannot_invite_team_members_through_the_handler(
    session, free_user
):
    state = state_at(PlansState, "/team", token_for(session, free_user.email))

    PlansState.invite_member.fn(state, {"email": "newbie@example.com"})

    assert "paid plan" in state.team_error


def test_tagging_a_record_the_user_cannot_see_is_refused(
    session, referral_id, make_user
):
    record_id = session.get(Referral, referral_id).record_id
    stranger = make_user("stranger@example.com", plan=PLAN_FREE)
    state = state_at(ReferralsState, "/referrals", token_for(session, stranger.email))

    ReferralsState.set_item_tag.fn(state, "record", record_id, "important")

    assert state.tag_error == "That item does not exist."
    assert session.exec(select(Tag)).all() == []


def test_download_and_share_of_a_foreign_document_are_refused(
    session, paid_user, make_user
):
    document = library.store_document(
        session=session, user=paid_user, name="secret.pdf", data=PDF
    )
    stranger = make_user("stranger@example.com", plan=PLAN_FREE)
    state = state_at(LibraryState, "/library", token_for(session, stranger.email))

    LibraryState.download.fn(state, document["id"])
    download_error = state.library_error
    LibraryState.open_share.fn(state, {"id": document["id"], "name": "x"})
    LibraryState.submit_share.fn(state, {"to_email": "x@example.com", "message": ""})

    assert download_error == "That item does not exist."
    assert state.share_error
    assert session.exec(select(Referral)).all() == []
