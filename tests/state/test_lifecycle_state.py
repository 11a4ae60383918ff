"""Lifecycle handlers called directly: Sent referrals, timeline, decline, live
revocation, dashboard and audit, as any browser could call them."""

from sqlmodel import select

import chub_ui.chub_ui  # noqa: F401  (registers every state on the app)
from chub_ui.models import PLAN_FREE, OutboxMessage, Referral
from chub_ui.services import (
    audit,
    invitations,
    plans,
    referral_lifecycle,
)
from chub_ui.state.audit import EVERY_ACTION, AuditState
from chub_ui.state.dashboard import DEFAULT_PERIOD, DashboardState
from chub_ui.state.library import LibraryState
from chub_ui.state.referrals import ReferralsState
from chub_ui.state.sent import EVERY_STATE, SentState, SentTimelineState
from tests.conftest import TEST_PASSWORD
from tests.services.rows import refer_new_document
from tests.state.conftest import state_at, token_for


def _referral(session, referral_id: int) -> Referral:
    session.expire_all()
    return session.get(Referral, referral_id)


def _teammate_token(session, owner) -> str:
    """A session token of a user who joined the owner's team (not its owner)."""
    plans.invite_team_member(session=session, user=owner, email="mate@example.com")
    body = session.exec(
        select(OutboxMessage.body_text).order_by(OutboxMessage.id.desc())
    ).first()
    token = body.split("/invite/", 1)[1].split()[0]
    session_token, _landing = invitations.register_from_invitation(
        session=session, token=token, password=TEST_PASSWORD, full_name="Mate"
    )
    return session_token


def test_sent_list_shows_the_accounts_referrals_and_nobody_elses(
    session, referral_id, paid_user, free_user, make_user
):
    owner = state_at(SentState, "/sent", token_for(session, paid_user.email))
    intruder = make_user("intruder@example.com")
    stranger = state_at(SentState, "/sent", token_for(session, intruder.email))

    SentState.load_sent.fn(owner)
    SentState.load_sent.fn(stranger)

    assert [item["id"] for item in owner.items] == [referral_id]
    assert owner.items[0]["recipient_email"] == free_user.email
    assert owner.items[0]["state"] in referral_lifecycle.STATES
    assert stranger.items == []
    assert stranger.total == 0


def test_sent_state_filter_takes_only_known_states(session, referral_id, paid_user):
    state = state_at(SentState, "/sent", token_for(session, paid_user.email))
    SentState.load_sent.fn(state)
    shown_state = state.items[0]["state"]
    other_state = next(s for s in referral_lifecycle.STATES if s != shown_state)

    SentState.set_state_filter.fn(state, other_state)
    filtered_away = list(state.items)
    SentState.set_state_filter.fn(state, shown_state)
    filtered_in = [item["id"] for item in state.items]
    SentState.set_state_filter.fn(state, ["'; drop table referral; --"])

    assert filtered_away == []
    assert filtered_in == [referral_id]
    assert state.state_filter == EVERY_STATE
    assert [item["id"] for item in state.items] == [referral_id]


def test_free_partner_follows_own_shares_but_has_no_dashboard(
    session, referral_id, free_user
):
    token = token_for(session, free_user.email)
    _document_id, shared_id = refer_new_document(
        session, free_user, "reader@example.com", name="price-list.pdf"
    )
    sent = state_at(SentState, "/sent", token)
    timeline = state_at(SentTimelineState, f"/sent/{referral_id}", token)
    dashboard = state_at(DashboardState, "/dashboard", token)

    SentState.load_sent.fn(sent)
    SentTimelineState.load_timeline.fn(timeline)
    dashboard_redirect = DashboardState.load_dashboard.fn(dashboard)

    # Their own share, and not the lead the paid account referred to them.
    assert [item["id"] for item in sent.items] == [shared_id]
    assert timeline.timeline == {}
    assert timeline.timeline_error
    assert "/referrals" in str(dashboard_redirect)
    assert dashboard.series == []


def test_signed_out_visitor_of_a_timeline_goes_to_sign_in(session, referral_id):
    state = state_at(SentTimelineState, f"/sent/{referral_id}", "forged-token")

    redirect = SentTimelineState.load_timeline.fn(state)

    assert state.timeline == {}
    assert f"/login?next=%2Fsent%2F{referral_id}" in str(redirect)


def test_another_account_can_neither_read_nor_change_the_timeline(
    session, referral_id, make_user
):
    intruder = make_user("intruder@example.com")
    path = f"/sent/{referral_id}"
    state = state_at(SentTimelineState, path, token_for(session, intruder.email))
    outbox_before = len(session.exec(select(OutboxMessage)).all())

    SentTimelineState.load_timeline.fn(state)
    read_error = state.timeline_error
    SentTimelineState.resend_invitation.fn(state)
    resend_error = state.action_error
    SentTimelineState.copy_invitation_link.fn(state)
    link_error = state.action_error
    SentTimelineState.revoke_referral.fn(state)

    assert state.timeline == {}
    assert read_error
    assert resend_error
    assert link_error
    assert state.action_error
    assert state.invitation_link == ""
    assert state.action_success == ""
    assert _referral(session, referral_id).revoked_at is None
    assert len(session.exec(select(OutboxMessage)).all()) == outbox_before


def test_referrer_copies_the_link_resends_and_revokes(session, referral_id, paid_user):
    path = f"/sent/{referral_id}"
    state = state_at(SentTimelineState, path, token_for(session, paid_user.email))
    SentTimelineState.load_timeline.fn(state)
    can_act = (state.timeline["can_resend"], state.timeline["can_revoke"])

    clipboard = SentTimelineState.copy_invitation_link.fn(state)
    link = state.invitation_link
    SentTimelineState.resend_invitation.fn(state)
    resent = state.action_success
    SentTimelineState.revoke_referral.fn(state)

    assert can_act == (True, True)
    assert "/invite/" in link
    assert link in str(clipboard)
    assert "E-mail:" in resent
    assert state.action_error == ""
    assert _referral(session, referral_id).revoked_at is not None
    assert state.timeline["state"] == referral_lifecycle.STATE_REVOKED
    assert state.timeline["can_revoke"] is False
    assert state.invitation_link == ""
    assert [event["kind"] for event in state.timeline["events"]]


def test_timeline_refresh_shows_what_the_recipient_did(
    session, referral_id, paid_user, free_user
):
    path = f"/sent/{referral_id}"
    state = state_at(SentTimelineState, path, token_for(session, paid_user.email))
    SentTimelineState.load_timeline.fn(state)
    events_before = len(state.timeline["events"])

    referral_lifecycle.decline_referral(
        session=session, user=free_user, referral_id=referral_id, reason="Not now"
    )
    SentTimelineState.refresh_timeline.fn(state, "12:00:03")

    assert state.timeline["state"] == referral_lifecycle.STATE_DECLINED
    assert state.timeline["decline_reason"] == "Not now"
    assert len(state.timeline["events"]) > events_before


def _recipient_on_detail(session, referral_id, free_user) -> ReferralsState:
    path = f"/referrals/{referral_id}"
    state = state_at(ReferralsState, path, token_for(session, free_user.email))
    ReferralsState.load_detail.fn(state)
    return state


def test_open_referral_vanishes_as_soon_as_it_is_revoked(
    session, referral_id, paid_user, free_user
):
    state = _recipient_on_detail(session, referral_id, free_user)
    ReferralsState.check_access.fn(state, "12:00:00")
    shown_while_allowed = state.detail.get("name")

    referral_lifecycle.revoke_referral(
        session=session, user=paid_user, referral_id=referral_id
    )
    ReferralsState.check_access.fn(state, "12:00:03")

    assert shown_while_allowed == "Karen Page"
    assert state.detail == {}
    assert "revoked" in state.gone_message
    assert state.save_result == {}
    assert state.duplicates == []


def test_signed_out_tab_forgets_the_open_referral(session, referral_id, free_user):
    state = _recipient_on_detail(session, referral_id, free_user)
    state.session_token = "ended"

    redirect = ReferralsState.check_access.fn(state, "12:00:00")

    assert state.detail == {}
    assert "/login" in str(redirect)


def test_recipient_declines_with_a_reason(session, referral_id, free_user):
    state = _recipient_on_detail(session, referral_id, free_user)
    offered = state.detail.get("can_decline")

    ReferralsState.decline_referral.fn(state, {"reason": "We do not serve this area"})
    ReferralsState.load_referrals.fn(state)

    referral = _referral(session, referral_id)
    assert offered is True
    assert state.decline_error == ""
    assert state.detail == {}
    assert "declined" in state.gone_message
    assert referral.declined_at is not None
    assert referral.decline_reason == "We do not serve this area"
    assert [item["id"] for item in state.items] == []


def test_a_too_long_decline_reason_changes_nothing(session, referral_id, free_user):
    state = _recipient_on_detail(session, referral_id, free_user)
    reason = "x" * (referral_lifecycle.MAX_DECLINE_REASON + 1)

    ReferralsState.decline_referral.fn(state, {"reason": reason})

    assert state.decline_error
    assert state.detail.get("name") == "Karen Page"
    assert _referral(session, referral_id).declined_at is None


def test_nobody_else_can_decline_the_referral(
    session, referral_id, paid_user, make_user
):
    stranger = make_user("stranger@example.com", plan=PLAN_FREE)
    for user in (paid_user, stranger):
        path = f"/referrals/{referral_id}"
        state = state_at(ReferralsState, path, token_for(session, user.email))

        ReferralsState.decline_referral.fn(state, {"reason": "no"})

        assert state.decline_error
    assert _referral(session, referral_id).declined_at is None


def test_open_library_drops_a_revoked_document_and_keeps_the_search(
    session, paid_user, free_user
):
    _, shared_id = refer_new_document(
        session, paid_user, free_user.email, name="Pricing.pdf"
    )
    state = state_at(LibraryState, "/library", token_for(session, free_user.email))
    LibraryState.load_library.fn(state)
    LibraryState.set_search.fn(state, "pricing")
    state.uploads = [{"name": "big.pdf", "status": "uploading", "percent": 40}]
    listed_before = [item["name"] for item in state.items]

    referral_lifecycle.revoke_referral(
        session=session, user=paid_user, referral_id=shared_id
    )
    LibraryState.refresh_library.fn(state, "12:00:03")

    assert listed_before == ["Pricing.pdf"]
    assert state.items == []
    assert state.search == "pricing"
    assert state.uploads[0]["name"] == "big.pdf"


def test_dashboard_counts_the_accounts_referrals_and_refuses_odd_periods(
    session, referral_id, paid_user, make_user
):
    owner = state_at(DashboardState, "/dashboard", token_for(session, paid_user.email))
    intruder = make_user("intruder@example.com")
    stranger = state_at(
        DashboardState, "/dashboard", token_for(session, intruder.email)
    )

    DashboardState.load_dashboard.fn(owner)
    DashboardState.set_days.fn(owner, "100000")
    DashboardState.load_dashboard.fn(stranger)

    assert owner.totals["sent"] == 1
    assert owner.days == DEFAULT_PERIOD
    assert owner.dashboard_error == ""
    assert sum(day["sent"] for day in owner.series) == 1
    assert stranger.totals["sent"] == 0
    assert stranger.top_partners == []


def test_audit_is_refused_to_a_teammate_who_is_not_the_owner(session, paid_user):
    audit.record_event(
        session, action=audit.REFER, actor=paid_user, target="Karen Page"
    )
    session.commit()
    teammate = state_at(AuditState, "/audit", _teammate_token(session, paid_user))
    owner = state_at(AuditState, "/audit", token_for(session, paid_user.email))

    AuditState.load_audit.fn(teammate)
    AuditState.load_audit.fn(owner)
    AuditState.set_action.fn(owner, "drop_everything")

    assert teammate.audit_error
    assert teammate.items == []
    assert owner.audit_error == ""
    assert owner.action == EVERY_ACTION
    assert "Karen Page" in [item["target"] for item in owner.items]


def test_signed_out_visitor_of_the_audit_goes_to_sign_in(session):
    state = state_at(AuditState, "/audit", "forged-token")

    redirect = AuditState.load_audit.fn(state)

    assert state.items == []
    assert "/login?next=%2Faudit" in str(redirect)
