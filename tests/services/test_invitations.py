"""Invitation links: single use, bound to one address, expiring."""

import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from chub_ui.models import (
    KIND_LEAD,
    PLAN_FREE,
    Invitation,
    OutboxMessage,
    Record,
    Referral,
    User,
    UserSession,
    utcnow,
)
from chub_ui.services import auth, invitations, referrals
from chub_ui.services.errors import InvalidInput, InvitationUnusable
from tests.conftest import TEST_PASSWORD


@pytest.fixture
def referred(session, paid_user) -> tuple[str, int]:
    """A lead referred to new@example.com; returns the link's token and id."""
    record = Record(
        account_id=paid_user.account_id,
        created_by_id=paid_user.id,
        kind=KIND_LEAD,
        name="CyberGuard Pro deal",
        company="Krayin",
    )
    session.add(record)
    session.commit()
    outcome = referrals.refer_record(
        session=session,
        user=paid_user,
        record_id=record.id,
        to_email="new@example.com",
        message="Worth a call",
    )
    body = session.exec(select(OutboxMessage)).one().body_text
    return body.split("/invite/", 1)[1].split()[0], outcome.referral_id


def test_new_address_is_offered_registration(session, referred):
    token, _ = referred

    view = invitations.inspect_invitation(session=session, token=token, user=None)

    assert view.view == invitations.VIEW_REGISTER
    assert view.email == "new@example.com"
    assert view.item_label == "CyberGuard Pro deal"
    assert view.inviter_name == "Olivia Owner"


def test_registration_creates_free_account_grant_and_session(session, referred):
    token, referral_id = referred

    session_token, landing = invitations.register_from_invitation(
        session=session, token=token, password=TEST_PASSWORD, full_name="Nina New"
    )

    user = auth.user_for_token(session, session_token)
    assert user.email == "new@example.com"
    assert user.plan == PLAN_FREE
    assert landing == f"/referrals/{referral_id}"
    assert session.get(Referral, referral_id).recipient_id == user.id
    detail = referrals.referral_detail(
        session=session, user=user, referral_id=referral_id
    )
    assert detail["message"] == "Worth a call"


def test_used_link_is_refused_and_creates_nothing(session, referred):
    token, _ = referred
    invitations.register_from_invitation(
        session=session, token=token, password=TEST_PASSWORD
    )

    with pytest.raises(InvitationUnusable, match="already been used"):
        invitations.register_from_invitation(
            session=session, token=token, password="another password"
        )
    with pytest.raises(InvitationUnusable, match="already been used"):
        invitations.inspect_invitation(session=session, token=token, user=None)

    assert len(session.exec(select(User)).all()) == 2


def test_expired_link_is_refused_and_creates_nothing(session, referred):
    token, _ = referred
    invitation = session.exec(select(Invitation)).one()
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    session.add(invitation)
    session.commit()

    with pytest.raises(InvitationUnusable, match="expired"):
        invitations.register_from_invitation(
            session=session, token=token, password=TEST_PASSWORD
        )

    assert len(session.exec(select(User)).all()) == 1
    assert session.exec(select(Invitation)).one().accepted_at is None


@pytest.mark.parametrize("token", ["", None, "   ", "forged", "x" * 5000])
def test_forged_or_empty_link_is_refused(session, referred, token):
    with pytest.raises(InvitationUnusable, match="not valid"):
        invitations.inspect_invitation(session=session, token=token, user=None)
    with pytest.raises(InvitationUnusable):
        invitations.register_from_invitation(
            session=session, token=token, password=TEST_PASSWORD
        )

    assert len(session.exec(select(User)).all()) == 1


def test_bad_password_at_registration_leaves_the_link_usable(session, referred):
    token, _ = referred

    with pytest.raises(InvalidInput):
        invitations.register_from_invitation(
            session=session, token=token, password="short"
        )

    assert session.exec(select(Invitation)).one().accepted_at is None
    view = invitations.inspect_invitation(session=session, token=token, user=None)
    assert view.view == invitations.VIEW_REGISTER


def test_existing_user_signs_in_and_accepts(session, referred, make_user):
    token, referral_id = referred
    existing = make_user("new@example.com", plan=PLAN_FREE)

    view = invitations.inspect_invitation(session=session, token=token, user=None)
    landing = invitations.accept_invitation(session=session, token=token, user=existing)

    assert view.view == invitations.VIEW_LOGIN
    assert landing == f"/referrals/{referral_id}"
    assert session.get(Referral, referral_id).recipient_id == existing.id


def test_signed_in_as_another_address_changes_nothing(session, referred, make_user):
    token, referral_id = referred
    other = make_user("other@example.com", plan=PLAN_FREE)

    view = invitations.inspect_invitation(session=session, token=token, user=other)
    with pytest.raises(InvalidInput, match="someone else"):
        invitations.accept_invitation(session=session, token=token, user=other)

    assert view.view == invitations.VIEW_OTHER_USER
    assert session.exec(select(Invitation)).one().accepted_at is None
    assert session.get(Referral, referral_id).recipient_id is None


def test_signed_in_as_the_invited_address_is_ready(session, referred, make_user):
    token, _ = referred
    invited = make_user("NEW@example.com", plan=PLAN_FREE)

    view = invitations.inspect_invitation(session=session, token=token, user=invited)

    assert view.view == invitations.VIEW_READY


def test_accepting_twice_at_once_gives_one_account_and_one_grant(engine, referred):
    token, referral_id = referred
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def register() -> None:
        with Session(engine) as own:
            barrier.wait()
            try:
                invitations.register_from_invitation(
                    session=own, token=token, password=TEST_PASSWORD
                )
                outcomes.append("ok")
            except (InvitationUnusable, InvalidInput) as error:
                outcomes.append(error.message)

    threads = [threading.Thread(target=register) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with Session(engine) as check:
        users = check.exec(select(User).where(User.email == "new@example.com")).all()
        assert len(users) == 1
        assert check.get(Referral, referral_id).recipient_id == users[0].id
        assert len(check.exec(select(UserSession)).all()) == 1
    assert outcomes.count("ok") == 1
    assert len(outcomes) == 4
