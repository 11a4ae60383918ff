"""Referring records, the pending rule, and who may see what."""

import pytest
from sqlmodel import select

from chub_ui.models import (
    KIND_CONTACT,
    PLAN_FREE,
    Invitation,
    OutboxMessage,
    Record,
    Referral,
)
from chub_ui.services import mail, records, referrals
from chub_ui.services.errors import InvalidInput, NotAllowed, PlanRequired


@pytest.fixture
def record(session, paid_user) -> Record:
    row = Record(
        account_id=paid_user.account_id,
        created_by_id=paid_user.id,
        kind=KIND_CONTACT,
        name="Wilson Fisk",
        company="Fisk Industries",
        email="contact@wilson.com",
        phone="5454445454",
        extra_json='{"organization_id": "1"}',
    )
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


def _refer(session, user, record, to="partner@example.com", message="Hot lead"):
    return referrals.refer_record(
        session=session,
        user=user,
        record_id=record.id,
        to_email=to,
        message=message,
    )


def test_referral_writes_referral_invitation_and_outbox_together(
    session, paid_user, record
):
    outcome = _refer(session, paid_user, record, to="  Partner@Example.COM ")

    referral = session.get(Referral, outcome.referral_id)
    invitation = session.exec(select(Invitation)).one()
    outbox = session.exec(select(OutboxMessage)).one()
    assert referral.recipient_email == "partner@example.com"
    assert referral.recipient_id is None
    assert invitation.referral_id == referral.id
    assert invitation.email == "partner@example.com"
    assert (invitation.expires_at - invitation.created_at).days == 14
    assert outbox.invitation_id == invitation.id
    assert outbox.to_address == "partner@example.com"
    assert "/invite/" in outbox.body_text
    assert "/invite/" in outbox.body_html


def test_invitation_token_is_stored_only_as_a_hash(session, paid_user, record):
    _refer(session, paid_user, record)

    invitation = session.exec(select(Invitation)).one()
    outbox = session.exec(select(OutboxMessage)).one()
    token = outbox.body_text.split("/invite/", 1)[1].split()[0]
    assert invitation.token_hash != token
    assert token not in invitation.token_hash
    assert len(token) >= 40


def test_without_smtp_the_message_stays_in_the_outbox_as_not_sent(
    session, paid_user, record, monkeypatch
):
    monkeypatch.setattr(mail.settings, "smtp_url", "")

    outcome = _refer(session, paid_user, record)

    outbox = session.exec(select(OutboxMessage)).one()
    assert outbox.status == mail.STATUS_UNSENT
    assert outbox.last_error == "not sent: no SMTP server configured"
    assert "no SMTP server configured" in outcome.mail_status


def test_same_record_to_same_pending_address_sends_no_second_invitation(
    session, paid_user, record
):
    _refer(session, paid_user, record)

    with pytest.raises(InvalidInput, match="still pending"):
        _refer(session, paid_user, record, to="PARTNER@example.com\u00a0")

    assert len(session.exec(select(Referral)).all()) == 1
    assert len(session.exec(select(OutboxMessage)).all()) == 1


def test_referring_to_yourself_is_refused(session, paid_user, record):
    with pytest.raises(InvalidInput, match="yourself"):
        _refer(session, paid_user, record, to=" OWNER@example.com")

    assert session.exec(select(Referral)).all() == []


@pytest.mark.parametrize(
    "address",
    [
        "victim@example.com\r\nBcc: all@example.com",
        "Eve <eve@example.com>",
        "nodomain@",
        "",
    ],
)
def test_unsafe_address_is_refused_and_nothing_is_written(
    session, paid_user, record, address
):
    with pytest.raises(InvalidInput):
        _refer(session, paid_user, record, to=address)

    assert session.exec(select(Referral)).all() == []
    assert session.exec(select(OutboxMessage)).all() == []


def test_overlong_message_is_refused(session, paid_user, record):
    with pytest.raises(InvalidInput, match="at most"):
        _refer(session, paid_user, record, message="x" * 2001)

    assert session.exec(select(Referral)).all() == []


def test_another_account_cannot_refer_or_see_history_of_a_record(
    session, make_user, record
):
    intruder = make_user("intruder@example.com")

    with pytest.raises(NotAllowed):
        _refer(session, intruder, record)
    with pytest.raises(NotAllowed):
        referrals.referral_history(session=session, user=intruder, record_id=record.id)
    with pytest.raises(NotAllowed):
        records.get_own_record(session=session, user=intruder, record_id=record.id)

    assert session.exec(select(Referral)).all() == []


def test_free_account_cannot_refer(session, free_user, record):
    with pytest.raises(PlanRequired):
        _refer(session, free_user, record, to="x@example.com")


def test_existing_user_finds_the_referral_at_once(
    session, paid_user, record, free_user
):
    _refer(session, paid_user, record, to=free_user.email)

    page = referrals.list_referred_to_me(session=session, user=free_user)
    assert page.total == 1
    assert page.items[0]["name"] == "Wilson Fisk"
    assert page.items[0]["referrer"] == "Olivia Owner"
    assert page.items[0]["kind"] == "Contact"


def test_recipient_sees_every_field_and_the_message(
    session, paid_user, record, free_user
):
    outcome = _refer(session, paid_user, record, to=free_user.email)

    detail = referrals.referral_detail(
        session=session, user=free_user, referral_id=outcome.referral_id
    )

    assert detail["message"] == "Hot lead"
    assert detail["referrer_email"] == paid_user.email
    values = {field["label"]: field["value"] for field in detail["fields"]}
    assert values["E-mail"] == "contact@wilson.com"
    assert values["Phone"] == "5454445454"
    assert values["organization_id"] == "1"


def test_another_user_cannot_open_someone_elses_referral(
    session, paid_user, record, free_user, make_user
):
    outcome = _refer(session, paid_user, record, to=free_user.email)
    stranger = make_user("stranger@example.com", plan=PLAN_FREE)

    with pytest.raises(NotAllowed):
        referrals.referral_detail(
            session=session, user=stranger, referral_id=outcome.referral_id
        )
    assert referrals.list_referred_to_me(session=session, user=stranger).total == 0


def test_history_shows_to_whom_when_and_state(session, paid_user, record):
    _refer(session, paid_user, record, to="a@example.com")
    _refer(session, paid_user, record, to="b@example.com")

    history = referrals.referral_history(
        session=session, user=paid_user, record_id=record.id
    )

    assert [item["recipient_email"] for item in history] == [
        "b@example.com",
        "a@example.com",
    ]
    assert {item["state"] for item in history} == {"invited"}
    assert all(item["sent_at"].endswith("UTC") for item in history)


def test_referral_list_is_searched_sorted_newest_first_and_paged(
    session, paid_user, free_user
):
    for number in range(25):
        row = Record(
            account_id=paid_user.account_id,
            created_by_id=paid_user.id,
            kind=KIND_CONTACT,
            name=f"Person {number:02d}",
            company="Acme" if number % 2 else "Globex",
            email=f"p{number}@corp.example.com",
        )
        session.add(row)
        session.commit()
        _refer(session, paid_user, row, to=free_user.email)

    first = referrals.list_referred_to_me(session=session, user=free_user)
    second = referrals.list_referred_to_me(session=session, user=free_user, page=2)
    globex = referrals.list_referred_to_me(
        session=session, user=free_user, search="GLOB"
    )
    by_mail = referrals.list_referred_to_me(
        session=session, user=free_user, search="p7@corp"
    )
    wildcard = referrals.list_referred_to_me(
        session=session, user=free_user, search="%"
    )

    assert first.total == 25 and first.pages == 2
    assert first.items[0]["name"] == "Person 24"
    assert len(first.items) == 20 and len(second.items) == 5
    assert globex.total == 13
    assert [item["name"] for item in by_mail.items] == ["Person 07"]
    assert wildcard.total == 0
