"""Team invitations: a paid account adds users by e-mail, and they join it."""

import logging
import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from chub_ui.models import (
    KIND_LEAD,
    PLAN_FREE,
    PLAN_PAID,
    Account,
    Invitation,
    Notification,
    OutboxMessage,
    Record,
    Referral,
    User,
    UserSession,
    utcnow,
)
from chub_ui.services import (
    auth,
    invitations,
    mail,
    notifications,
    plans,
    records,
    referrals,
)
from chub_ui.services.errors import InvalidInput, InvitationUnusable, PlanRequired
from tests.conftest import TEST_PASSWORD


def _count(session, table) -> int:
    return session.exec(select(func.count()).select_from(table)).one()


def _counts(session) -> tuple[int, int, int]:
    return tuple(_count(session, table) for table in (Invitation, OutboxMessage, User))


def _latest_token(session) -> str:
    body = session.exec(
        select(OutboxMessage.body_text).order_by(OutboxMessage.id.desc())
    ).first()
    return body.split("/invite/", 1)[1].split()[0]


def _invite(session, user, email="new@example.com") -> str:
    """Invite an address to the user's team; returns the link's token."""
    plans.invite_team_member(session=session, user=user, email=email)
    return _latest_token(session)


def _register(session, token, name="Nina New") -> tuple[auth.CurrentUser, str]:
    session_token, landing = invitations.register_from_invitation(
        session=session, token=token, password=TEST_PASSWORD, full_name=name
    )
    return auth.user_for_token(session, session_token), landing


def _expire(session, invitation_id: int) -> None:
    invitation = session.get(Invitation, invitation_id)
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    session.add(invitation)
    session.commit()


def test_an_invitation_is_written_with_its_email_in_one_go(session, paid_user):
    sent = plans.invite_team_member(
        session=session, user=paid_user, email="  New@Example.COM "
    )

    invitation = session.exec(select(Invitation)).one()
    outbox = session.exec(select(OutboxMessage)).one()
    token = _latest_token(session)
    assert sent["email"] == "new@example.com"
    assert set(sent) == {"email", "mail_status"}
    assert invitation.email == "new@example.com"
    assert invitation.account_id == paid_user.account_id
    assert invitation.referral_id is None
    assert invitation.inviter_id == paid_user.id
    assert invitation.accepted_at is None
    assert (invitation.expires_at - invitation.created_at).days == 14
    assert invitation.token_hash == auth.hash_token(token)
    assert token not in invitation.token_hash
    assert outbox.invitation_id == invitation.id
    assert outbox.to_address == "new@example.com"
    assert outbox.subject == (
        "Olivia Owner invited you to join Olivia Owner on Partner Network"
    )
    assert f"{referrals.invitation_link(token)}\n" in outbox.body_text
    assert referrals.invitation_link(token) in outbox.body_html


def test_without_smtp_the_link_is_logged_and_the_mail_kept(
    session, paid_user, monkeypatch, caplog
):
    monkeypatch.setattr(mail.settings, "smtp_url", "")
    caplog.set_level(logging.INFO, logger="chub_ui.services.plans")

    sent = plans.invite_team_member(
        session=session, user=paid_user, email="new@example.com"
    )

    assert sent["mail_status"] == "not sent: no SMTP server configured"
    assert session.exec(select(OutboxMessage)).one().status == mail.STATUS_UNSENT
    assert (
        f"team invitation link: {referrals.invitation_link(_latest_token(session))}"
        in (caplog.text)
    )


def test_with_smtp_the_link_stays_out_of_the_log(
    session, paid_user, monkeypatch, caplog
):
    monkeypatch.setattr(mail.settings, "smtp_url", "smtp://localhost:2525")
    caplog.set_level(logging.DEBUG, logger="chub_ui.services")

    sent = plans.invite_team_member(
        session=session, user=paid_user, email="new@example.com"
    )

    assert sent["mail_status"] == "queued"
    assert _latest_token(session) not in caplog.text
    assert "new@example.com" not in caplog.text
    assert "team invitation 1 for account" in caplog.text


def test_the_link_shows_the_team_and_registers_into_the_same_account(
    session, paid_user
):
    token = _invite(session, paid_user)

    view = invitations.inspect_invitation(session=session, token=token, user=None)
    nina, landing = _register(session, token)

    assert view.view == invitations.VIEW_REGISTER
    assert view.item_kind == "team"
    assert view.item_label == "Olivia Owner"
    assert view.inviter_name == "Olivia Owner"
    assert view.email == "new@example.com"
    assert landing == "/notifications"
    assert nina.email == "new@example.com"
    assert nina.full_name == "Nina New"
    assert nina.account_id == paid_user.account_id
    assert nina.plan == PLAN_PAID
    assert _count(session, Account) == 1
    assert _count(session, UserSession) == 1
    invitation = session.exec(select(Invitation)).one()
    assert invitation.accepted_at is not None
    assert invitation.accepted_by_id == nina.id
    members = plans.team_members(session=session, user=paid_user)
    assert [member["email"] for member in members] == [
        "owner@example.com",
        "new@example.com",
    ]
    assert plans.team_members(session=session, user=nina) == members
    # The new member signs in with the password chosen on the invitation page.
    assert auth.login(session=session, email="new@example.com", password=TEST_PASSWORD)


def test_a_new_member_gets_and_sends_team_messages(session, paid_user):
    nina, _ = _register(session, _invite(session, paid_user))

    assert (
        notifications.send_team_message(
            session=session, user=paid_user, body="Welcome aboard"
        )
        == 1
    )
    assert (
        notifications.send_team_message(session=session, user=nina, body="Thanks!") == 1
    )

    [(kind, text)] = session.exec(
        select(Notification.kind, Notification.text).where(
            Notification.user_id == nina.id
        )
    ).all()
    assert (kind, text) == (
        notifications.KIND_TEAM_MESSAGE,
        "Olivia Owner: Welcome aboard",
    )
    owner_texts = session.exec(
        select(Notification.text).where(Notification.user_id == paid_user.id)
    ).all()
    assert owner_texts == ["Nina New: Thanks!"]
    history = notifications.team_messages(session=session, user=nina)
    assert [message["body"] for message in history] == ["Thanks!", "Welcome aboard"]


def test_a_new_member_sees_the_teams_records(session, paid_user):
    session.add(
        Record(
            account_id=paid_user.account_id,
            created_by_id=paid_user.id,
            kind=KIND_LEAD,
            name="Wilson Fisk",
        )
    )
    session.commit()

    nina, _ = _register(session, _invite(session, paid_user))

    page = records.list_records(session=session, user=nina, kind=KIND_LEAD)
    assert [item["name"] for item in page.items] == ["Wilson Fisk"]


def test_registering_on_a_team_link_also_grants_waiting_referrals(
    session, paid_user, make_user
):
    partner = make_user("partner-co@example.com", name="Parker")
    record = Record(
        account_id=partner.account_id,
        created_by_id=partner.id,
        kind=KIND_LEAD,
        name="CyberGuard Pro deal",
    )
    session.add(record)
    session.commit()
    outcome = referrals.refer_record(
        session=session, user=partner, record_id=record.id, to_email="new@example.com"
    )
    token = _invite(session, paid_user)

    nina, landing = _register(session, token)

    assert landing == "/notifications"
    assert session.get(Referral, outcome.referral_id).recipient_id == nina.id
    notices = session.exec(
        select(Notification.kind, Notification.text, Notification.link).where(
            Notification.user_id == nina.id
        )
    ).all()
    assert notices == [
        (
            notifications.KIND_REFERRAL,
            "Parker referred a lead to you: CyberGuard Pro deal",
            f"/referrals/{outcome.referral_id}",
        )
    ]


def test_a_free_account_cannot_invite_however_it_is_called(session, free_user):
    before = _counts(session)

    with pytest.raises(PlanRequired, match="Upgrade your account") as refused:
        plans.invite_team_member(
            session=session, user=free_user, email="new@example.com"
        )

    assert "paid plan" in refused.value.message
    assert _counts(session) == before == (0, 0, 1)


def test_a_stale_paid_user_cannot_invite_after_a_downgrade(session, paid_user):
    teammate = User(
        email="tom@example.com",
        full_name="Tom",
        password_hash="not-a-usable-hash",
        account_id=paid_user.account_id,
    )
    session.add(teammate)
    session.commit()
    plans.change_plan(
        session=session,
        user=auth.current_user_for(session, teammate.id),
        plan=PLAN_FREE,
    )
    before = _counts(session)

    assert paid_user.plan == PLAN_PAID
    with pytest.raises(PlanRequired, match="Upgrade"):
        plans.invite_team_member(
            session=session, user=paid_user, email="new@example.com"
        )

    assert _counts(session) == before


def test_a_second_invitation_while_one_is_pending_is_refused(session, paid_user):
    plans.invite_team_member(session=session, user=paid_user, email="new@example.com")
    before = _counts(session)

    with pytest.raises(InvalidInput, match="still pending") as refused:
        plans.invite_team_member(
            session=session, user=paid_user, email=" NEW@example.com"
        )

    assert "no second invitation was sent" in refused.value.message
    assert _counts(session) == before == (1, 1, 1)


def test_another_account_may_invite_the_same_address(session, paid_user, make_user):
    other = make_user("boss@example.com", name="Barbara Boss")
    plans.invite_team_member(session=session, user=paid_user, email="new@example.com")

    plans.invite_team_member(session=session, user=other, email="new@example.com")

    assert _count(session, Invitation) == 2
    assert [
        row["email"]
        for row in plans.pending_team_invitations(session=session, user=other)
    ] == ["new@example.com"]


def test_after_expiry_a_new_invitation_replaces_the_old_one(session, paid_user):
    plans.invite_team_member(session=session, user=paid_user, email="new@example.com")
    first = session.exec(select(Invitation)).one()
    _expire(session, first.id)

    assert plans.pending_team_invitations(session=session, user=paid_user) == [
        {
            "email": "new@example.com",
            "sent": f"{first.created_at:%Y-%m-%d %H:%M} UTC",
            "state": "expired",
        }
    ]

    plans.invite_team_member(session=session, user=paid_user, email="new@example.com")

    listed = plans.pending_team_invitations(session=session, user=paid_user)
    assert [(row["email"], row["state"]) for row in listed] == [
        ("new@example.com", "pending")
    ]
    assert _count(session, Invitation) == 2


def test_pending_invitations_list_the_accounts_own_newest_first(
    session, paid_user, free_user, make_user
):
    other = make_user("boss@example.com")
    plans.invite_team_member(session=session, user=paid_user, email="a@example.com")
    plans.invite_team_member(session=session, user=paid_user, email="b@example.com")
    plans.invite_team_member(session=session, user=other, email="c@example.com")
    _register(session, _invite(session, paid_user, "d@example.com"))

    listed = plans.pending_team_invitations(session=session, user=paid_user)

    assert [row["email"] for row in listed] == ["b@example.com", "a@example.com"]
    assert {row["state"] for row in listed} == {"pending"}
    assert set(listed[0]) == {"email", "sent", "state"}
    assert plans.pending_team_invitations(session=session, user=free_user) == []


def test_an_address_with_an_account_is_refused(session, paid_user, free_user):
    before = _counts(session)

    with pytest.raises(InvalidInput) as refused:
        plans.invite_team_member(
            session=session, user=paid_user, email="Partner@Example.com"
        )

    assert refused.value.message == (
        "partner@example.com already has an account. Known limit: existing "
        "accounts cannot join another team yet."
    )
    assert _counts(session) == before


def test_a_teammate_is_refused_as_already_on_the_team(session, paid_user):
    _register(session, _invite(session, paid_user))
    before = _counts(session)

    with pytest.raises(InvalidInput, match="already on your team"):
        plans.invite_team_member(
            session=session, user=paid_user, email="new@example.com"
        )

    assert _counts(session) == before


def test_inviting_yourself_is_refused(session, paid_user):
    with pytest.raises(InvalidInput, match="your own address"):
        plans.invite_team_member(
            session=session, user=paid_user, email=" OWNER@example.com "
        )

    assert _counts(session) == (0, 0, 1)


@pytest.mark.parametrize(
    "email",
    [
        "new@example.com\r\nBcc: evil@example.com",
        "new@example.com\nBcc: evil@example.com",
        "Nina New <new@example.com>",
        '"Nina" new@example.com',
        "new@example.com, evil@example.com",
        "new@exa\u2028mple.com",
        "",
        None,
    ],
)
def test_unsafe_addresses_are_refused_and_nothing_is_written(session, paid_user, email):
    with pytest.raises(InvalidInput):
        plans.invite_team_member(session=session, user=paid_user, email=email)

    assert _counts(session) == (0, 0, 1)


def test_two_invitations_at_once_give_one(engine, session, paid_user):
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def invite() -> None:
        with Session(engine) as own:
            barrier.wait()
            try:
                plans.invite_team_member(
                    session=own, user=paid_user, email="new@example.com"
                )
                outcomes.append("ok")
            except InvalidInput as error:
                outcomes.append(error.message)

    threads = [threading.Thread(target=invite) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("ok") == 1
    assert len(outcomes) == 4
    with Session(engine) as check:
        assert _counts(check) == (1, 1, 1)


def test_registering_twice_at_once_on_one_team_link_gives_one_user(
    engine, session, paid_user
):
    token = _invite(session, paid_user)
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

    assert outcomes.count("ok") == 1
    assert len(outcomes) == 4
    with Session(engine) as check:
        users = check.exec(select(User).where(User.email == "new@example.com")).all()
        assert len(users) == 1
        assert users[0].account_id == paid_user.account_id
        assert _count(check, Account) == 1
        assert _count(check, UserSession) == 1
        assert check.exec(select(Invitation)).one().accepted_by_id == users[0].id


def test_a_used_team_link_is_refused_and_creates_nothing(session, paid_user):
    token = _invite(session, paid_user)
    _register(session, token)
    before = (_count(session, User), _count(session, Account))

    with pytest.raises(InvitationUnusable, match="already been used"):
        invitations.register_from_invitation(
            session=session, token=token, password="another password"
        )
    with pytest.raises(InvitationUnusable, match="already been used"):
        invitations.inspect_invitation(session=session, token=token, user=None)

    assert (_count(session, User), _count(session, Account)) == before == (2, 1)


def test_an_expired_team_link_is_refused_and_creates_nothing(session, paid_user):
    token = _invite(session, paid_user)
    _expire(session, session.exec(select(Invitation)).one().id)

    with pytest.raises(InvitationUnusable, match="expired"):
        invitations.inspect_invitation(session=session, token=token, user=None)
    with pytest.raises(InvitationUnusable, match="expired"):
        invitations.register_from_invitation(
            session=session, token=token, password=TEST_PASSWORD
        )

    assert _count(session, User) == 1
    assert session.exec(select(Invitation)).one().accepted_at is None


def test_a_bad_password_leaves_the_team_link_usable(session, paid_user):
    token = _invite(session, paid_user)

    with pytest.raises(InvalidInput, match="at least"):
        invitations.register_from_invitation(
            session=session, token=token, password="short"
        )

    assert _count(session, User) == 1
    assert session.exec(select(Invitation)).one().accepted_at is None
    nina, _ = _register(session, token)
    assert nina.account_id == paid_user.account_id


def test_a_team_link_is_on_hold_while_the_account_is_free(session, paid_user):
    token = _invite(session, paid_user)
    plans.change_plan(session=session, user=paid_user, plan=PLAN_FREE)

    with pytest.raises(InvitationUnusable, match="free plan"):
        invitations.inspect_invitation(session=session, token=token, user=None)
    with pytest.raises(InvitationUnusable, match="free plan"):
        invitations.register_from_invitation(
            session=session, token=token, password=TEST_PASSWORD
        )
    assert _count(session, User) == 1
    assert session.exec(select(Invitation)).one().accepted_at is None

    plans.change_plan(session=session, user=paid_user, plan=PLAN_PAID)
    nina, _ = _register(session, token)

    assert nina.account_id == paid_user.account_id


def test_an_existing_account_cannot_accept_a_team_link(session, paid_user, make_user):
    token = _invite(session, paid_user)
    # The address signed up on its own after the invitation was sent.
    nina = make_user("new@example.com", plan=PLAN_FREE, name="Nina")
    before = (_count(session, User), _count(session, Account))

    view = invitations.inspect_invitation(session=session, token=token, user=nina)
    with pytest.raises(InvalidInput, match="Known limit") as refused:
        invitations.accept_invitation(session=session, token=token, user=nina)
    with pytest.raises(InvalidInput, match="already exists"):
        invitations.register_from_invitation(
            session=session, token=token, password=TEST_PASSWORD
        )

    assert view.view == invitations.VIEW_READY
    assert "existing accounts cannot join another team yet" in refused.value.message
    session.expire_all()
    assert session.get(User, nina.id).account_id == nina.account_id
    assert session.exec(select(Invitation)).one().accepted_at is None
    assert (_count(session, User), _count(session, Account)) == before
    assert _count(session, Notification) == 0


def test_someone_else_signed_in_cannot_accept_a_team_link(
    session, paid_user, free_user
):
    token = _invite(session, paid_user)

    with pytest.raises(InvalidInput, match="someone else"):
        invitations.accept_invitation(session=session, token=token, user=free_user)

    assert session.exec(select(Invitation)).one().accepted_at is None


def test_the_team_invitation_email_escapes_every_value():
    subject, text, body_html = mail.team_invitation_message(
        inviter_name="Eve <script>alert(1)</script>\r\nBcc: x@evil.test",
        account_name="Tom & Jerry's <b>Team</b>",
        link="https://app.example.test/invite/abc?x=1&y=2",
    )

    assert "\n" not in subject and "\r" not in subject
    assert len(subject) <= mail.INVITATION_SUBJECT_LENGTH
    assert "<script>" not in body_html
    assert "&lt;script&gt;" in body_html
    assert "Tom &amp; Jerry&#x27;s &lt;b&gt;Team&lt;/b&gt;" in body_html
    assert 'href="https://app.example.test/invite/abc?x=1&amp;y=2"' in body_html
    assert "https://app.example.test/invite/abc?x=1&y=2" in text
    assert "Bcc: x@evil.test" not in text.splitlines()


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "/invite/abc", "https://x.test/a b", ""]
)
def test_the_team_invitation_email_refuses_a_bad_link(link):
    with pytest.raises(ValueError, match="http"):
        mail.team_invitation_message(
            inviter_name="Olivia", account_name="Team", link=link
        )
