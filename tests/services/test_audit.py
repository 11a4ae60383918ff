"""The audit trail: a line per sensitive action, for the owner only, append-only."""

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select
from starlette.testclient import TestClient

from chub_ui import db
from chub_ui.api import api
from chub_ui.models import (
    KIND_CONTACT,
    KIND_LEAD,
    PLAN_FREE,
    AuditEvent,
    OutboxMessage,
    User,
)
from chub_ui.services import (
    audit,
    auth,
    invitations,
    plans,
    referral_lifecycle,
    referrals,
    saving,
)
from chub_ui.services.errors import (
    InvalidInput,
    LoginFailed,
    NotAllowed,
    NotSignedIn,
)
from chub_ui.settings import SESSION_COOKIE, settings
from tests.conftest import TEST_PASSWORD
from tests.services.rows import add_record, refer_new_document


def _lines(session: Session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)))


def _actions(session: Session) -> list[str]:
    return [line.action for line in _lines(session)]


def _newest_token(session: Session) -> str:
    outbox = session.exec(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
    return outbox.first().body_text.split("/invite/", 1)[1].split()[0]


@pytest.fixture
def teammate(session, paid_user) -> auth.CurrentUser:
    """A second user of paid_user's account: not its owner."""
    plans.invite_team_member(session=session, user=paid_user, email="tom@example.com")
    token, _ = invitations.register_from_invitation(
        session=session, token=_newest_token(session), password=TEST_PASSWORD
    )
    return auth.user_for_token(session, token)


@pytest.fixture
def contact(session, paid_user):
    return add_record(
        session, paid_user, kind=KIND_CONTACT, name="Wilson Fisk", company="Fisk"
    )


def test_record_event_fills_in_the_actor_and_refuses_unknown_actions(
    session, paid_user
):
    audit.record_event(
        session, action=audit.REFER, actor=paid_user, target="x\x00y", detail="d"
    )
    session.commit()

    line = _lines(session)[0]
    assert (line.account_id, line.actor_id, line.actor_email) == (
        paid_user.account_id,
        paid_user.id,
        paid_user.email,
    )
    assert line.target == "xy"
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record_event(session, action="delete_everything", actor=paid_user)


def test_failed_sign_ins_are_lines_without_the_password(session, paid_user):
    for email, password in (
        (" OWNER@example.com ", "wrong password 1"),
        ("nobody@example.com", "wrong password 2"),
        ("owner@example.com", ""),
    ):
        with pytest.raises(LoginFailed):
            auth.login(session=session, email=email, password=password)
    auth.login(session=session, email=paid_user.email, password=TEST_PASSWORD)

    lines = _lines(session)
    assert [line.action for line in lines] == [audit.SIGN_IN_FAILED] * 3
    assert [(line.account_id, line.actor_email) for line in lines] == [
        (paid_user.account_id, "owner@example.com"),
        (None, "nobody@example.com"),
        (paid_user.account_id, "owner@example.com"),
    ]
    for line in lines:
        assert "wrong password" not in f"{line.target} {line.detail}"
        assert line.actor_id is None
    page = audit.list_audit(session=session, user=paid_user)
    assert page.total == 2
    assert page.items[0]["actor"] == "owner@example.com"


def test_every_step_of_a_referral_is_a_line(session, paid_user, contact, make_user):
    recipient = make_user("rita@example.com", name="Rita Recipient")
    first = referrals.refer_record(
        session=session, user=paid_user, record_id=contact.id, to_email="new@x.example"
    ).referral_id
    invitations.register_from_invitation(
        session=session, token=_newest_token(session), password=TEST_PASSWORD
    )
    second = referrals.refer_record(
        session=session, user=paid_user, record_id=contact.id, to_email=recipient.email
    ).referral_id
    referrals.referral_detail(session=session, user=recipient, referral_id=second)
    saving.save_as_own(
        session=session, user=recipient, referral_id=second, kind=KIND_LEAD
    )
    referral_lifecycle.resend_invitation(
        session=session, user=paid_user, referral_id=first
    )
    third_record = add_record(session, paid_user, kind=KIND_LEAD, name="Acme deal")
    third = referrals.refer_record(
        session=session,
        user=paid_user,
        record_id=third_record.id,
        to_email=recipient.email,
    ).referral_id
    referral_lifecycle.decline_referral(
        session=session, user=recipient, referral_id=third, reason="Not now"
    )
    referral_lifecycle.revoke_referral(
        session=session, user=paid_user, referral_id=first
    )

    lines = _lines(session)
    assert [line.action for line in lines] == [
        audit.REFER,
        audit.ACCEPT,
        audit.REFER,
        audit.VIEW,
        audit.SAVE_AS,
        audit.RESEND,
        audit.REFER,
        audit.DECLINE,
        audit.REVOKE,
    ]
    # Every line joins the trail of the account whose record it is.
    assert {line.account_id for line in lines} == {paid_user.account_id}
    by_action = {line.action: line for line in lines}
    assert by_action[audit.ACCEPT].actor_email == "new@x.example"
    assert by_action[audit.SAVE_AS].actor_id == recipient.id
    assert by_action[audit.DECLINE].detail == "Not now"
    assert by_action[audit.REVOKE].target == "Contact Wilson Fisk to new@x.example"


def test_plan_and_team_changes_are_lines(session, paid_user, teammate):
    plans.change_plan(session=session, user=paid_user, plan="free")
    plans.change_plan(session=session, user=paid_user, plan="free")
    plans.change_plan(session=session, user=paid_user, plan="paid")

    lines = [
        (line.action, line.target, line.detail)
        for line in _lines(session)
        if line.account_id == paid_user.account_id
    ]
    assert lines == [
        (audit.TEAM_CHANGE, "tom@example.com", "team invitation sent"),
        (
            audit.TEAM_CHANGE,
            "tom@example.com",
            "joined the team through an invitation",
        ),
        (audit.PLAN_CHANGE, "Olivia Owner", "Paid to Free"),
        (audit.PLAN_CHANGE, "Olivia Owner", "Free to Paid"),
    ]


def test_every_download_through_the_route_is_a_line(
    session, engine, paid_user, free_user, tmp_path: Path, monkeypatch
):
    monkeypatch.setattr(db, "get_engine", lambda url=None: engine)
    monkeypatch.setattr(settings, "storage_dir", tmp_path / "storage")
    document_id, referral_id = refer_new_document(
        session, paid_user, free_user.email, name="Prices.pdf"
    )
    url = f"/api/documents/{document_id}/download"

    for user in (paid_user, free_user, free_user):
        client = TestClient(api)
        token = auth.start_session(session, session.get(User, user.id))
        session.commit()
        client.cookies.set(SESSION_COOKIE, token)
        assert client.get(url).status_code == 200
    refused = TestClient(api).get(url)

    assert refused.status_code == 401
    downloads = [line for line in _lines(session) if line.action == audit.DOWNLOAD]
    assert [line.actor_id for line in downloads] == [
        paid_user.id,
        free_user.id,
        free_user.id,
    ]
    assert {line.account_id for line in downloads} == {paid_user.account_id}
    assert downloads[0].detail == "by its owner"
    assert downloads[1].detail == f"referral #{referral_id}"
    # Only the first download by the recipient is the referral's first view.
    assert _actions(session).count(audit.VIEW) == 1


def test_only_the_owner_reads_the_trail(session, paid_user, teammate, make_user):
    rival = make_user("rival@example.com", plan=PLAN_FREE)
    audit.record_event(session, action=audit.REFER, actor=teammate, target="Lead A")
    audit.record_event(session, action=audit.REFER, actor=rival, target="Lead B")
    session.commit()

    with pytest.raises(NotAllowed, match="owner"):
        audit.list_audit(session=session, user=teammate)
    with pytest.raises(NotSignedIn):
        audit.list_audit(session=session, user=None)
    assert audit.is_account_owner(session=session, user=paid_user) is True
    assert audit.is_account_owner(session=session, user=teammate) is False
    assert audit.is_account_owner(session=session, user=None) is False

    mine = audit.list_audit(session=session, user=paid_user)
    theirs = audit.list_audit(session=session, user=rival)
    assert "Lead B" not in [item["target"] for item in mine.items]
    assert [item["target"] for item in theirs.items] == ["Lead B"]
    assert mine.items[0]["actor"] == teammate.email
    assert set(mine.items[0]) >= {
        "id",
        "at",
        "action",
        "action_label",
        "actor",
        "target",
        "detail",
    }
    assert mine.items[0]["at"].endswith(" UTC")
    assert mine.items[0]["action_label"] == "Referred"


def test_filters_search_and_pages(session, paid_user):
    for number in range(25):
        audit.record_event(
            session,
            action=audit.REFER if number % 2 else audit.REVOKE,
            actor=paid_user,
            target=f"Lead {number:02d}",
            detail="100% sure" if number == 7 else "",
        )
    session.commit()

    everything = audit.list_audit(session=session, user=paid_user)
    second = audit.list_audit(session=session, user=paid_user, page=2)
    revokes = audit.list_audit(session=session, user=paid_user, action=audit.REVOKE)
    found = audit.list_audit(session=session, user=paid_user, search="lead 1")
    percent = audit.list_audit(session=session, user=paid_user, search="100%")
    both = audit.list_audit(
        session=session, user=paid_user, action=audit.REFER, search="Lead 1"
    )

    assert (everything.total, everything.pages, len(second.items)) == (25, 2, 5)
    assert everything.items[0]["target"] == "Lead 24"
    assert revokes.total == 13
    assert {item["action"] for item in revokes.items} == {audit.REVOKE}
    assert found.total == 10
    assert [item["target"] for item in percent.items] == ["Lead 07"]
    assert both.total == 5


@pytest.mark.parametrize(
    "action", ["delete_everything", "REFER", None, 3, "refer\x00", ["refer"]]
)
def test_an_unknown_action_filter_is_refused(session, paid_user, action):
    with pytest.raises(InvalidInput):
        audit.list_audit(session=session, user=paid_user, action=action)


def test_the_trail_is_append_only(session, paid_user):
    audit.record_event(session, action=audit.REFER, actor=paid_user, target="Lead A")
    session.commit()
    line = _lines(session)[0]

    line.target = "Nothing happened"
    with pytest.raises(audit.AuditTrailIsAppendOnly):
        session.commit()
    session.rollback()
    session.delete(_lines(session)[0])
    with pytest.raises(audit.AuditTrailIsAppendOnly):
        session.commit()
    session.rollback()
    for statement in (
        sa.update(AuditEvent).values(target="Nothing happened"),
        sa.delete(AuditEvent),
    ):
        with pytest.raises(audit.AuditTrailIsAppendOnly):
            session.execute(statement)
        session.rollback()

    assert [(line.id, line.target) for line in _lines(session)] == [(1, "Lead A")]
    assert not hasattr(audit, "delete_event") and not hasattr(audit, "update_event")
