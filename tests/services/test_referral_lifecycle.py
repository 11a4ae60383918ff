"""A referral after it is sent: states, batches, decline, revoke, expiry, resend."""

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

from chub_ui.models import (
    KIND_CONTACT,
    KIND_LEAD,
    AuditEvent,
    Invitation,
    Notification,
    OutboxMessage,
    Record,
    Referral,
    ReferralEvent,
    utcnow,
)
from chub_ui.services import (
    audit,
    auth,
    invitations,
    library,
    mail,
    plans,
    referral_lifecycle,
    referrals,
    saving,
)
from chub_ui.services.errors import (
    InvalidInput,
    InvitationUnusable,
    NotAllowed,
    NotSignedIn,
    PlanRequired,
)
from chub_ui.settings import settings
from tests.conftest import TEST_PASSWORD
from tests.services.rows import add_record, add_row, refer_new_document

lifecycle = referral_lifecycle
BAD_IDS = [None, "", "abc", "1; DROP TABLE referral", -1, 0, 2**70, 1.5, True, [1]]
# What the referrer may do with one of their referrals, by its id.
REFERRER_ACTIONS = (
    lifecycle.revoke_referral,
    lifecycle.resend_invitation,
    lifecycle.invitation_link_for,
    lifecycle.referral_timeline,
)


def _count(session: Session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _written(session: Session) -> dict:
    """How many rows a referral writes, table by table."""
    return {
        model.__name__: _count(session, model)
        for model in (
            Referral,
            Invitation,
            OutboxMessage,
            ReferralEvent,
            AuditEvent,
            Notification,
        )
    }


def _token_of(outbox: OutboxMessage) -> str:
    return outbox.body_text.split("/invite/", 1)[1].split()[0]


def _events(session: Session, referral_id: int) -> list[str]:
    return list(
        session.exec(
            select(ReferralEvent.kind)
            .where(ReferralEvent.referral_id == referral_id)
            .order_by(ReferralEvent.id)
        )
    )


def _set(session: Session, referral_id: int, **fields) -> Referral:
    """Change a referral's timestamps directly, as time passing would."""
    session.execute(
        sa.update(Referral).where(Referral.id == referral_id).values(**fields)
    )
    session.commit()
    session.expire_all()
    return session.get(Referral, referral_id)


def _ago(**delta) -> datetime:
    return utcnow() - timedelta(**delta)


@pytest.fixture
def contact(session, paid_user) -> Record:
    """A person with an e-mail: sharing it needs the referrer's consent."""
    return add_record(
        session,
        paid_user,
        kind=KIND_CONTACT,
        name="Wilson Fisk",
        email="wilson@fisk.example.com",
    )


@pytest.fixture
def company_lead(session, paid_user) -> Record:
    """A lead with only a name and a company: no person's details."""
    return add_record(
        session, paid_user, kind=KIND_LEAD, name="Acme deal", company="Acme Ltd"
    )


@pytest.fixture
def phone_lead(session, paid_user) -> Record:
    return add_record(
        session, paid_user, kind=KIND_LEAD, name="Globex", phone="+44 20 7946 0000"
    )


@pytest.fixture
def recipient(make_user) -> auth.CurrentUser:
    """A partner on the paid plan, so Save As is open to them."""
    return make_user("rita@example.com", name="Rita Recipient")


@pytest.fixture
def rival(make_user) -> auth.CurrentUser:
    return make_user("rival@example.com", name="Rival")


@pytest.fixture
def teammate(session, paid_user) -> auth.CurrentUser:
    """A second user of paid_user's account, joined by team invitation."""
    plans.invite_team_member(session=session, user=paid_user, email="tom@example.com")
    outbox = session.exec(select(OutboxMessage)).one()
    token, _ = invitations.register_from_invitation(
        session=session, token=_token_of(outbox), password=TEST_PASSWORD
    )
    return auth.user_for_token(session, token)


@pytest.fixture
def storage(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "storage"
    monkeypatch.setattr(settings, "storage_dir", folder)
    return folder


def _refer(session, user, record, to, **extra) -> int:
    return referrals.refer_record(
        session=session, user=user, record_id=record.id, to_email=to, **extra
    ).referral_id


def _batch(session, user, records, addresses, **extra):
    return lifecycle.refer_records(
        session=session,
        user=user,
        record_ids=[record.id for record in records],
        addresses=addresses,
        **extra,
    )


def _assert_gone_for_recipient(session, recipient, referral_id, why: str) -> None:
    """The recipient no longer lists, opens or saves the referral, told why."""
    assert referrals.list_referred_to_me(session=session, user=recipient).total == 0
    with pytest.raises(NotAllowed, match=why):
        referrals.referral_detail(
            session=session, user=recipient, referral_id=referral_id
        )
    with pytest.raises(NotAllowed, match=why):
        saving.save_as_own(
            session=session, user=recipient, referral_id=referral_id, kind=KIND_LEAD
        )


def _assert_link_refused(session, token: str, why: str) -> None:
    """The invitation link neither opens nor registers anyone, told why."""
    with pytest.raises(InvitationUnusable, match=why):
        invitations.inspect_invitation(session=session, token=token, user=None)
    with pytest.raises(InvitationUnusable, match=why):
        invitations.register_from_invitation(
            session=session, token=token, password=TEST_PASSWORD
        )


def _deliver(engine, smtp_server) -> int:
    return mail.deliver_due(
        engine_or_session_factory=engine,
        smtp_url=smtp_server.url,
        mail_from="Partner Network <no-reply@example.test>",
    )


# States ----------------------------------------------------------------------

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
PAST = NOW - timedelta(days=1)
FUTURE = NOW + timedelta(days=1)


@pytest.mark.parametrize(
    ("stamps", "expected"),
    [
        ({}, "invited"),
        ({"expires_at": FUTURE}, "invited"),
        ({"accepted_at": PAST}, "accepted"),
        ({"accepted_at": PAST, "viewed_at": PAST}, "viewed"),
        ({"viewed_at": PAST, "expires_at": PAST}, "expired"),
        ({"expires_at": NOW}, "expired"),
        ({"saved_at": PAST, "expires_at": PAST}, "saved"),
        ({"saved_at": PAST, "declined_at": PAST}, "declined"),
        ({"declined_at": PAST, "revoked_at": PAST}, "revoked"),
        ({"revoked_at": PAST, "expires_at": PAST, "saved_at": PAST}, "revoked"),
    ],
)
def test_state_follows_the_documented_precedence(stamps, expected):
    referral = Referral(referrer_id=1, recipient_email="a@example.com", **stamps)

    assert lifecycle.referral_state(referral, NOW) == expected


def test_state_filter_in_sql_agrees_with_referral_state(session, paid_user, contact):
    """Every mix of timestamps lands in the one list its state names."""
    columns = ("accepted_at", "viewed_at", "saved_at", "declined_at", "revoked_at")
    made = []
    for flags in itertools.product((False, True), repeat=len(columns)):
        for expires_at in (None, _ago(hours=1), utcnow() + timedelta(days=3)):
            stamps = {
                name: _ago(hours=2)
                for name, on in zip(columns, flags, strict=True)
                if on
            }
            referral = add_row(
                session,
                Referral(
                    record_id=contact.id,
                    referrer_id=paid_user.id,
                    recipient_email=f"p{len(made)}@example.com",
                    expires_at=expires_at,
                    **stamps,
                ),
            )
            made.append(referral)

    expected = {state: set() for state in lifecycle.STATES}
    for referral in made:
        expected[lifecycle.referral_state(referral)].add(referral.id)
    for state in lifecycle.STATES:
        found = set()
        page_number = 1
        while True:
            page = lifecycle.list_sent_referrals(
                session=session, user=paid_user, state=state, page=page_number
            )
            found |= {item["id"] for item in page.items}
            assert all(item["state"] == state for item in page.items)
            if page_number >= page.pages:
                break
            page_number += 1
        assert found == expected[state], state
    assert all(expected.values())
    assert lifecycle.list_sent_referrals(session=session, user=paid_user).total == len(
        made
    )


def test_a_referral_goes_from_invited_to_saved_with_a_timeline(
    session, paid_user, contact
):
    referral_id = _refer(session, paid_user, contact, "nina@example.com")
    token = _token_of(session.exec(select(OutboxMessage)).one())
    assert lifecycle.referral_state(session.get(Referral, referral_id)) == "invited"

    invitations.register_from_invitation(
        session=session, token=token, password=TEST_PASSWORD, full_name="Nina"
    )
    nina = auth.current_user_for(
        session, session.get(Referral, referral_id).recipient_id
    )
    session.expire_all()
    assert lifecycle.referral_state(session.get(Referral, referral_id)) == "accepted"

    detail = referrals.referral_detail(
        session=session, user=nina, referral_id=referral_id
    )
    again = referrals.referral_detail(
        session=session, user=nina, referral_id=referral_id
    )
    assert (detail["state"], detail["can_decline"]) == ("viewed", True)
    assert again["state"] == "viewed"

    plans.change_plan(session=session, user=nina, plan="paid")
    nina = auth.current_user_for(session, nina.id)
    saved = saving.save_as_own(
        session=session, user=nina, referral_id=referral_id, kind=KIND_LEAD
    )
    assert saved["status"] == "created"
    session.expire_all()
    referral = session.get(Referral, referral_id)
    assert lifecycle.referral_state(referral) == "saved"
    assert referral.accepted_at <= referral.viewed_at <= referral.saved_at
    assert _events(session, referral_id) == ["invited", "accepted", "viewed", "saved"]
    detail = referrals.referral_detail(
        session=session, user=nina, referral_id=referral_id
    )
    assert (detail["state"], detail["can_decline"]) == ("saved", False)

    timeline = lifecycle.referral_timeline(
        session=session, user=paid_user, referral_id=referral_id
    )
    assert [event["kind"] for event in timeline["events"]] == [
        "invited",
        "accepted",
        "viewed",
        "saved",
    ]
    assert timeline["events"][0]["actor"] == "Olivia Owner"
    assert timeline["events"][2]["actor"] == "Nina"
    assert timeline["state"] == "saved"
    assert timeline["item_link"] == f"/records/{contact.id}"
    history = referrals.referral_history(
        session=session, user=paid_user, record_id=contact.id
    )
    assert history[0]["state"] == "saved"
    assert history[0]["referral_id"] == referral_id
    assert history[0]["link"] == f"/sent/{referral_id}"


def test_an_existing_partner_accepting_the_link_accepts_it(
    session, paid_user, contact, free_user
):
    referral_id = _refer(session, paid_user, contact, free_user.email)
    token = _token_of(session.exec(select(OutboxMessage)).one())

    invitations.accept_invitation(session=session, token=token, user=free_user)

    session.expire_all()
    assert lifecycle.referral_state(session.get(Referral, referral_id)) == "accepted"
    assert _events(session, referral_id) == ["invited", "accepted"]


# Referring a selection -------------------------------------------------------


def test_three_records_to_two_addresses_make_six_referrals(
    session, paid_user, contact, company_lead, phone_lead
):
    outcome = _batch(
        session,
        paid_user,
        [contact, company_lead, phone_lead],
        " Ann@Example.com;\nbob@example.com, ann@example.com ",
        message="Worth a call",
        consent=True,
    )

    assert len(outcome.sent) == 6 and outcome.skipped == []
    assert "Acme deal to bob@example.com: " in " | ".join(outcome.sent)
    written = _written(session)
    assert written["Referral"] == written["Invitation"] == 6
    assert written["OutboxMessage"] == written["ReferralEvent"] == 6
    assert written["AuditEvent"] == 6
    pairs = {
        (row.record_id, row.recipient_email)
        for row in session.exec(select(Referral)).all()
    }
    assert pairs == {
        (record.id, address)
        for record in (contact, company_lead, phone_lead)
        for address in ("ann@example.com", "bob@example.com")
    }
    tokens = {_token_of(row) for row in session.exec(select(OutboxMessage)).all()}
    assert len(tokens) == 6
    assert {row.message for row in session.exec(select(Referral))} == {"Worth a call"}


def test_open_pairs_are_skipped_and_reported(
    session, paid_user, company_lead, free_user
):
    other = add_record(session, paid_user, kind=KIND_LEAD, name="Initech")
    _refer(session, paid_user, company_lead, "ann@example.com")
    _refer(session, paid_user, company_lead, free_user.email)
    accepted = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()[1]
    invitations.accept_invitation(
        session=session, token=_token_of(accepted), user=free_user
    )

    outcome = _batch(
        session,
        paid_user,
        [company_lead, other],
        ["ann@example.com", free_user.email],
    )

    assert [line.split(":")[0] for line in outcome.sent] == [
        "Initech to ann@example.com",
        f"Initech to {free_user.email}",
    ]
    assert outcome.skipped[0].startswith("Acme deal to ann@example.com: an invitation")
    assert outcome.skipped[0].endswith("is still pending")
    assert outcome.skipped[1] == f"Acme deal to {free_user.email}: already has it"
    assert _count(session, Referral) == 4


@pytest.mark.parametrize(
    "addresses",
    [
        "ann@example.com, not an address",
        "ann@example.com\r\nBcc: all@example.com",
        ["ann@example.com", "Eve <eve@example.com>"],
        ["ann@example.com", None],
        "ann@example.com owner@example.com",
        "",
        " ,; ",
        [],
        None,
        42,
        " ".join(f"p{number}@example.com" for number in range(21)),
        "x" * 8000,
        "ann@example.com\ud800",
    ],
)
def test_one_bad_address_writes_nothing(session, paid_user, company_lead, addresses):
    before = _written(session)

    with pytest.raises(InvalidInput):
        _batch(session, paid_user, [company_lead], addresses)

    assert _written(session) == before


@pytest.mark.parametrize(
    "record_ids",
    [[], None, "", [None], ["abc"], [2**70], [-3], [True], {"id": 1}],
)
def test_bad_selections_write_nothing(session, paid_user, company_lead, record_ids):
    before = _written(session)

    with pytest.raises((InvalidInput, NotAllowed)):
        lifecycle.refer_records(
            session=session,
            user=paid_user,
            record_ids=record_ids,
            addresses="ann@example.com",
        )

    assert _written(session) == before


def test_too_many_records_or_another_accounts_record_write_nothing(
    session, paid_user, company_lead, rival
):
    theirs = add_record(session, rival, kind=KIND_LEAD, name="Rival deal")

    with pytest.raises(InvalidInput, match="at most 50"):
        lifecycle.refer_records(
            session=session,
            user=paid_user,
            record_ids=[company_lead.id] * 51,
            addresses="ann@example.com",
        )
    with pytest.raises(NotAllowed):
        _batch(session, paid_user, [company_lead, theirs], "ann@example.com")

    assert _count(session, Referral) == 0


def test_consent_is_needed_for_a_persons_details_only(
    session, paid_user, contact, company_lead, phone_lead
):
    def needs(*records) -> bool:
        return lifecycle.needs_consent(
            session=session, user=paid_user, record_ids=[r.id for r in records]
        )

    assert needs(contact) is True
    assert needs(phone_lead) is True
    assert needs(company_lead) is False
    assert needs(company_lead, contact) is True
    for consent in (False, "true", 1, None):
        with pytest.raises(InvalidInput, match="confirm"):
            _batch(
                session,
                paid_user,
                [company_lead, contact],
                "a@x.example.com",
                consent=consent,
            )
    assert _count(session, Referral) == 0

    assert len(_batch(session, paid_user, [company_lead], "a@x.example.com").sent) == 1
    assert (
        len(_batch(session, paid_user, [contact], "a@x.example.com", consent=True).sent)
        == 1
    )


@pytest.mark.parametrize(
    "expires_on",
    [
        "2001-01-01",
        "today",
        "2031-13-01",
        "2031-1-1",
        "20310131",
        "2031-01-31T00:00",
        "\u0662\u0660\u0663\u0661-\u0660\u0661-\u0663\u0661",
        "2031-02-30",
        20310131,
        ["2031-01-31"],
    ],
)
def test_bad_or_past_expiry_dates_are_refused(
    session, paid_user, company_lead, expires_on
):
    with pytest.raises(InvalidInput):
        _batch(
            session, paid_user, [company_lead], "ann@example.com", expires_on=expires_on
        )

    assert _count(session, Referral) == 0


def test_today_is_refused_and_tomorrow_ends_at_midnight_utc(
    session, paid_user, company_lead
):
    today = utcnow().date()
    tomorrow = today + timedelta(days=1)
    with pytest.raises(InvalidInput, match="after today"):
        _batch(
            session, paid_user, [company_lead], "a@example.com", expires_on=str(today)
        )

    _batch(
        session, paid_user, [company_lead], "a@example.com", expires_on=f" {tomorrow} "
    )

    expires_at = session.exec(select(Referral)).one().expires_at.astimezone(UTC)
    assert expires_at.date() == tomorrow
    assert (expires_at.hour, expires_at.minute) == (23, 59)
    sent = lifecycle.list_sent_referrals(session=session, user=paid_user).items[0]
    assert sent["expires_at"] == tomorrow.isoformat()


def test_free_plan_and_signed_out_cannot_refer_a_selection(
    session, paid_user, company_lead, free_user
):
    with pytest.raises(PlanRequired):
        lifecycle.refer_records(
            session=session,
            user=free_user,
            record_ids=[company_lead.id],
            addresses="a@example.com",
        )
    plans.change_plan(session=session, user=paid_user, plan="free")
    with pytest.raises(PlanRequired):
        _batch(session, paid_user, [company_lead], "a@example.com")
    with pytest.raises(NotSignedIn):
        _batch(session, None, [company_lead], "a@example.com")

    assert _count(session, Referral) == 0


# Expiry ----------------------------------------------------------------------


def test_an_expired_referral_is_gone_for_the_recipient(
    session, paid_user, contact, recipient
):
    referral_id = _refer(session, paid_user, contact, recipient.email)
    pending_id = _refer(session, paid_user, contact, "new@example.com")
    pending_token = _token_of(
        session.exec(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    )
    yesterday = _ago(days=1)
    for made in (referral_id, pending_id):
        _set(session, made, created_at=_ago(days=3), expires_at=yesterday)
    session.execute(sa.update(ReferralEvent).values(created_at=_ago(days=3)))
    session.commit()

    _assert_gone_for_recipient(
        session, recipient, referral_id, f"expired on {yesterday:%Y-%m-%d}"
    )
    _assert_link_refused(session, pending_token, "expired on")
    with pytest.raises(NotAllowed, match="expired on"):
        lifecycle.decline_referral(
            session=session, user=recipient, referral_id=referral_id, reason=""
        )
    assert _count(session, Record) == 1

    timeline = lifecycle.referral_timeline(
        session=session, user=paid_user, referral_id=referral_id
    )
    assert timeline["state"] == "expired"
    assert [event["kind"] for event in timeline["events"]] == ["invited", "expired"]
    assert timeline["events"][-1]["at"] == f"{yesterday:%Y-%m-%d %H:%M} UTC"
    assert timeline["can_resend"] is False
    # Expired, it no longer counts: referring it again is allowed.
    assert _refer(session, paid_user, contact, recipient.email) != referral_id


# Decline ---------------------------------------------------------------------


def test_decline_with_a_reason_tells_the_referrer(
    session, paid_user, contact, recipient
):
    referral_id = _refer(session, paid_user, contact, recipient.email)

    lifecycle.decline_referral(
        session=session,
        user=recipient,
        referral_id=str(referral_id),
        reason="  Not our market.\nThanks anyway ",
    )

    reason = "Not our market.\nThanks anyway"
    referral = session.get(Referral, referral_id)
    assert lifecycle.referral_state(referral) == "declined"
    assert referral.decline_reason == reason
    note = session.exec(
        select(Notification).where(Notification.user_id == paid_user.id)
    ).one()
    assert note.kind == "declined"
    assert note.text == f"Rita Recipient declined Wilson Fisk: {reason}"
    assert note.link == f"/sent/{referral_id}"
    timeline = lifecycle.referral_timeline(
        session=session, user=paid_user, referral_id=referral_id
    )
    assert timeline["events"][-1]["kind"] == "declined"
    assert timeline["events"][-1]["detail"] == reason
    assert timeline["decline_reason"] == reason
    sent = lifecycle.list_sent_referrals(
        session=session, user=paid_user, state="declined"
    )
    assert [(i["id"], i["decline_reason"]) for i in sent.items] == [
        (referral_id, reason)
    ]
    assert referrals.list_referred_to_me(session=session, user=recipient).total == 0
    with pytest.raises(NotAllowed, match="You declined this referral"):
        referrals.referral_detail(
            session=session, user=recipient, referral_id=referral_id
        )
    with pytest.raises(InvalidInput, match="already"):
        lifecycle.decline_referral(
            session=session, user=recipient, referral_id=referral_id, reason=""
        )
    # Declined, the pair is free again.
    assert _refer(session, paid_user, contact, recipient.email) != referral_id


def test_decline_without_a_reason_says_so(session, paid_user, contact, recipient):
    referral_id = _refer(session, paid_user, contact, recipient.email)

    lifecycle.decline_referral(
        session=session, user=recipient, referral_id=referral_id, reason=None
    )

    note = session.exec(
        select(Notification).where(Notification.user_id == paid_user.id)
    ).one()
    assert note.text.endswith(": no reason given")


@pytest.mark.parametrize(
    "reason",
    ["x" * 501, "nope\x00", "nope\x1b[31m", "line\u2028break", "bad\ud800", 42, ["a"]],
)
def test_bad_decline_reasons_change_nothing(
    session, paid_user, contact, recipient, reason
):
    referral_id = _refer(session, paid_user, contact, recipient.email)
    before = _written(session)

    with pytest.raises(InvalidInput):
        lifecycle.decline_referral(
            session=session, user=recipient, referral_id=referral_id, reason=reason
        )

    assert _written(session) == before
    assert session.get(Referral, referral_id).declined_at is None


def test_a_reason_of_500_characters_is_accepted(session, paid_user, contact, recipient):
    referral_id = _refer(session, paid_user, contact, recipient.email)

    lifecycle.decline_referral(
        session=session, user=recipient, referral_id=referral_id, reason="r" * 500
    )

    assert session.get(Referral, referral_id).decline_reason == "r" * 500


def test_a_saved_referral_cannot_be_declined(session, paid_user, contact, recipient):
    referral_id = _refer(session, paid_user, contact, recipient.email)
    saving.save_as_own(
        session=session, user=recipient, referral_id=referral_id, kind=KIND_LEAD
    )

    with pytest.raises(InvalidInput, match="saved"):
        lifecycle.decline_referral(
            session=session, user=recipient, referral_id=referral_id, reason=""
        )


def test_only_the_recipient_declines(session, paid_user, contact, recipient, rival):
    referral_id = _refer(session, paid_user, contact, recipient.email)

    for who in (paid_user, rival):
        with pytest.raises(NotAllowed):
            lifecycle.decline_referral(
                session=session, user=who, referral_id=referral_id, reason=""
            )
    with pytest.raises(NotSignedIn):
        lifecycle.decline_referral(
            session=session, user=None, referral_id=referral_id, reason=""
        )

    assert session.get(Referral, referral_id).declined_at is None


# Revoke ----------------------------------------------------------------------


def test_revoke_takes_a_record_away_at_once(session, paid_user, contact, recipient):
    referral_id = _refer(session, paid_user, contact, recipient.email)
    referrals.referral_detail(session=session, user=recipient, referral_id=referral_id)

    lifecycle.revoke_referral(session=session, user=paid_user, referral_id=referral_id)

    _assert_gone_for_recipient(
        session, recipient, referral_id, "This referral was revoked by Olivia Owner"
    )
    with pytest.raises(NotAllowed, match="revoked"):
        saving.find_duplicates(session=session, user=recipient, referral_id=referral_id)
    with pytest.raises(InvalidInput, match="revoked already"):
        lifecycle.revoke_referral(
            session=session, user=paid_user, referral_id=referral_id
        )
    assert _events(session, referral_id)[-1] == "revoked"
    for action in (lifecycle.resend_invitation, lifecycle.invitation_link_for):
        with pytest.raises(InvalidInput, match="revoked"):
            action(session=session, user=paid_user, referral_id=referral_id)
    # Revoked, it can be referred again, and the new one is the recipient's.
    again = _refer(session, paid_user, contact, recipient.email)
    assert (
        referrals.referral_detail(session=session, user=recipient, referral_id=again)[
            "name"
        ]
        == "Wilson Fisk"
    )


def test_revoke_closes_the_invitation_link(session, paid_user, contact):
    referral_id = _refer(session, paid_user, contact, "new@example.com")
    token = _token_of(session.exec(select(OutboxMessage)).one())

    lifecycle.revoke_referral(session=session, user=paid_user, referral_id=referral_id)

    _assert_link_refused(session, token, "revoked")
    assert auth.find_user_by_email(session, "new@example.com") is None


def test_revoke_takes_a_document_away(session, storage, paid_user, recipient):
    document_id, referral_id = refer_new_document(session, paid_user, recipient.email)
    assert library.list_library(session=session, user=recipient).total == 1
    library.document_for_download(
        session=session, user=recipient, document_id=document_id
    )

    lifecycle.revoke_referral(session=session, user=paid_user, referral_id=referral_id)

    assert library.list_library(session=session, user=recipient).total == 0
    with pytest.raises(NotAllowed):
        library.document_for_download(
            session=session, user=recipient, document_id=document_id
        )
    with pytest.raises(NotAllowed):
        library.download_link(session=session, user=recipient, document_id=document_id)
    assert library.list_library(session=session, user=paid_user).total == 1


def test_first_download_by_the_recipient_counts_as_viewed(
    session, storage, paid_user, recipient
):
    document_id, referral_id = refer_new_document(session, paid_user, recipient.email)

    library.record_download(session=session, user=paid_user, document_id=document_id)
    assert session.get(Referral, referral_id).viewed_at is None
    for _ in range(2):
        library.record_download(
            session=session, user=recipient, document_id=document_id
        )

    session.expire_all()
    assert lifecycle.referral_state(session.get(Referral, referral_id)) == "viewed"
    assert _events(session, referral_id) == ["invited", "viewed"]


def test_who_may_revoke(
    session, paid_user, teammate, contact, recipient, rival, storage
):
    record_referral = _refer(session, paid_user, contact, recipient.email)
    _, document_referral = refer_new_document(
        session, paid_user, rival.email, name="Own.pdf"
    )

    for who, referral_id in (
        (recipient, record_referral),
        (rival, record_referral),
        (rival, document_referral),
        (teammate, document_referral),
    ):
        with pytest.raises(NotAllowed, match="not sent by your account"):
            lifecycle.revoke_referral(
                session=session, user=who, referral_id=referral_id
            )
    assert session.get(Referral, record_referral).revoked_at is None
    assert session.get(Referral, document_referral).revoked_at is None

    # Records belong to the account, so a teammate may revoke its referrals.
    lifecycle.revoke_referral(
        session=session, user=teammate, referral_id=record_referral
    )
    assert session.get(Referral, record_referral).revoked_at is not None
    # Revoking is not a paid feature.
    plans.change_plan(session=session, user=paid_user, plan="free")
    owner = auth.current_user_for(session, paid_user.id)
    lifecycle.revoke_referral(
        session=session, user=owner, referral_id=document_referral
    )
    assert session.get(Referral, document_referral).revoked_at is not None


@pytest.mark.parametrize("referral_id", [*BAD_IDS, 999_999])
def test_bad_referral_ids_are_missing_referrals(
    session, paid_user, contact, recipient, referral_id
):
    _refer(session, paid_user, contact, recipient.email)
    before = _written(session)

    for action in REFERRER_ACTIONS:
        with pytest.raises(NotAllowed, match="does not exist"):
            action(session=session, user=paid_user, referral_id=referral_id)
    with pytest.raises(NotAllowed, match="does not exist"):
        lifecycle.decline_referral(
            session=session, user=recipient, referral_id=referral_id, reason=""
        )

    assert _written(session) == before


def test_another_accounts_referral_is_refused_everywhere(
    session, paid_user, contact, recipient, rival
):
    referral_id = _refer(session, paid_user, contact, recipient.email)
    before = _written(session)

    for action in REFERRER_ACTIONS:
        with pytest.raises(NotAllowed):
            action(session=session, user=rival, referral_id=referral_id)
        with pytest.raises(NotSignedIn):
            action(session=session, user=None, referral_id=referral_id)

    assert _written(session) == before
    assert lifecycle.list_sent_referrals(session=session, user=rival).total == 0
    assert lifecycle.dashboard(session=session, user=rival)["totals"]["sent"] == 0


# Resend and copy link --------------------------------------------------------


def test_resend_queues_the_same_link_and_renews_a_lapsed_invitation(
    session, paid_user, contact
):
    referral_id = _refer(session, paid_user, contact, "new@example.com")
    first = session.exec(select(OutboxMessage)).one()
    invitation = session.exec(select(Invitation)).one()
    invitation.expires_at = _ago(days=1)
    session.add(invitation)
    session.commit()

    status = lifecycle.resend_invitation(
        session=session, user=paid_user, referral_id=referral_id
    )

    rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert len(rows) == 2
    assert _token_of(rows[1]) == _token_of(rows[0]) == _token_of(first)
    assert rows[1].to_address == "new@example.com"
    assert status in referrals.MAIL_STATE_LABELS.values()
    session.refresh(invitation)
    assert invitation.expires_at > utcnow() + timedelta(days=13)
    assert _events(session, referral_id) == ["invited", "resent"]
    view = invitations.inspect_invitation(
        session=session, token=_token_of(rows[1]), user=None
    )
    assert view.email == "new@example.com"


def test_copied_link_is_the_e_mailed_one_and_accepting_it_works(
    session, paid_user, contact
):
    referral_id = _refer(session, paid_user, contact, "new@example.com")
    mailed = _token_of(session.exec(select(OutboxMessage)).one())

    link = lifecycle.invitation_link_for(
        session=session, user=paid_user, referral_id=referral_id
    )

    assert link == f"{settings.base_url}/invite/{mailed}"
    assert _events(session, referral_id) == ["invited", "link_copied"]
    token = link.rsplit("/", 1)[1]
    _, landing = invitations.register_from_invitation(
        session=session, token=token, password=TEST_PASSWORD
    )
    assert landing == f"/referrals/{referral_id}"
    session.expire_all()
    assert lifecycle.referral_state(session.get(Referral, referral_id)) == "accepted"


def test_an_invitation_without_a_nonce_gets_a_new_link(session, paid_user, contact):
    referral_id = _refer(session, paid_user, contact, "new@example.com")
    old_token = "an-old-random-token-from-before-derived-links"
    invitation = session.exec(select(Invitation)).one()
    invitation.link_nonce = ""
    invitation.token_hash = auth.hash_token(old_token)
    session.add(invitation)
    session.commit()

    link = lifecycle.invitation_link_for(
        session=session, user=paid_user, referral_id=referral_id
    )

    new_token = link.rsplit("/", 1)[1]
    session.refresh(invitation)
    assert invitation.link_nonce
    assert invitation.token_hash == auth.hash_token(new_token)
    with pytest.raises(InvitationUnusable, match="not valid"):
        invitations.inspect_invitation(session=session, token=old_token, user=None)
    assert invitations.inspect_invitation(
        session=session, token=new_token, user=None
    ).email == ("new@example.com")
    assert (
        lifecycle.invitation_link_for(
            session=session, user=paid_user, referral_id=referral_id
        )
        == link
    )


def test_the_link_token_is_an_hmac_of_the_nonce(session, paid_user, contact):
    _refer(session, paid_user, contact, "new@example.com")

    invitation = session.exec(select(Invitation)).one()
    token = _token_of(session.exec(select(OutboxMessage)).one())

    assert token == lifecycle.link_token(invitation.link_nonce)
    assert invitation.token_hash == auth.hash_token(token)
    assert token not in invitation.link_nonce and invitation.link_nonce not in token


def test_a_free_account_cannot_resend_a_record_referral(session, paid_user, contact):
    referral_id = _refer(session, paid_user, contact, "new@example.com")
    plans.change_plan(session=session, user=paid_user, plan="free")
    owner = auth.current_user_for(session, paid_user.id)

    with pytest.raises(PlanRequired):
        lifecycle.resend_invitation(
            session=session, user=owner, referral_id=referral_id
        )

    assert _count(session, OutboxMessage) == 1


# Mail delivery ---------------------------------------------------------------


def test_the_mail_worker_writes_sent_and_failed_steps(
    engine, session, paid_user, contact, smtp_server, monkeypatch
):
    monkeypatch.setattr(mail.settings, "smtp_url", smtp_server.url)
    referral_id = _refer(session, paid_user, contact, "new@example.com")
    smtp_server.refuse_next(1)

    assert _deliver(engine, smtp_server) == 0
    session.expire_all()
    timeline = lifecycle.referral_timeline(
        session=session, user=paid_user, referral_id=referral_id
    )
    assert timeline["mail_status"] == "queued"
    assert "451" in timeline["mail_error"]
    assert timeline["events"][-1]["kind"] == "mail_failed"
    assert "451" in timeline["events"][-1]["detail"]

    session.execute(sa.update(OutboxMessage).values(next_attempt_at=_ago(seconds=1)))
    session.commit()
    assert _deliver(engine, smtp_server) == 1
    session.expire_all()
    assert _events(session, referral_id) == ["invited", "mail_failed", "mail_sent"]
    item = lifecycle.list_sent_referrals(session=session, user=paid_user).items[0]
    assert (item["mail_status"], item["mail_error"]) == ("sent", "")
    assert smtp_server.messages_to("new@example.com")


def test_mail_for_a_team_invitation_writes_no_referral_step(
    engine, session, paid_user, smtp_server, monkeypatch
):
    monkeypatch.setattr(mail.settings, "smtp_url", smtp_server.url)
    plans.invite_team_member(session=session, user=paid_user, email="tom@example.com")

    sent = _deliver(engine, smtp_server)

    assert sent == 1
    assert _count(session, ReferralEvent) == 0


# Sent list -------------------------------------------------------------------


def test_sent_list_is_paged_searched_and_keeps_to_the_account(
    session, paid_user, teammate, rival, storage
):
    for number in range(23):
        record = add_record(
            session, paid_user, kind=KIND_LEAD, name=f"Deal {number:02d}"
        )
        _refer(session, teammate, record, f"p{number}@partner.example.com")
    refer_new_document(session, paid_user, rival.email, name="Price list.pdf")

    first = lifecycle.list_sent_referrals(session=session, user=paid_user)
    second = lifecycle.list_sent_referrals(session=session, user=paid_user, page="2")
    by_name = lifecycle.list_sent_referrals(
        session=session, user=paid_user, search="deal 07"
    )
    by_address = lifecycle.list_sent_referrals(
        session=session, user=paid_user, search="P12@PARTNER"
    )
    document = lifecycle.list_sent_referrals(
        session=session, user=paid_user, search="price"
    )
    wildcard = lifecycle.list_sent_referrals(
        session=session, user=paid_user, search="%"
    )
    teammates = lifecycle.list_sent_referrals(session=session, user=teammate)

    assert (first.total, first.pages, len(first.items), len(second.items)) == (
        24,
        2,
        20,
        4,
    )
    assert first.items[0]["item_kind"] == "Document"
    assert set(first.items[0]) >= {
        "id",
        "item_label",
        "item_kind",
        "recipient_email",
        "state",
        "mail_status",
        "mail_error",
        "sent_at",
        "expires_at",
        "decline_reason",
    }
    assert [item["item_label"] for item in by_name.items] == ["Deal 07"]
    assert [item["recipient_email"] for item in by_address.items] == [
        "p12@partner.example.com"
    ]
    assert [item["item_label"] for item in document.items] == ["Price list.pdf"]
    assert wildcard.total == 0
    # The teammate sees the account's records, but not the owner's document.
    assert teammates.total == 23
    assert lifecycle.list_sent_referrals(session=session, user=rival).total == 0


@pytest.mark.parametrize("state", ["pending", "INVITED", None, 3, "invited\x00"])
def test_an_unknown_state_filter_is_refused(session, paid_user, state):
    with pytest.raises(InvalidInput):
        lifecycle.list_sent_referrals(session=session, user=paid_user, state=state)


# Dashboard -------------------------------------------------------------------


def test_dashboard_counts_by_day_partner_and_record(
    session, paid_user, contact, company_lead, rival
):
    ids = [
        _refer(session, paid_user, contact, "ann@example.com"),
        _refer(session, paid_user, company_lead, "ann@example.com"),
        _refer(session, paid_user, contact, "bob@example.com"),
        _refer(session, paid_user, contact, "old@example.com"),
    ]
    now = utcnow()
    two_days_ago = now - timedelta(days=2)
    _set(session, ids[0], created_at=two_days_ago, accepted_at=now, saved_at=now)
    _set(session, ids[1], created_at=two_days_ago, accepted_at=two_days_ago)
    _set(session, ids[2], viewed_at=now, declined_at=now)
    _set(session, ids[3], created_at=now - timedelta(days=40))
    theirs = add_record(session, rival, kind=KIND_LEAD, name="Rival deal")
    _refer(session, rival, theirs, "ann@example.com")

    board = lifecycle.dashboard(session=session, user=paid_user, days=30)

    assert board["totals"] == {
        "sent": 3,
        "accepted": 2,
        "viewed": 1,
        "saved": 1,
        "declined": 1,
    }
    assert len(board["series"]) == 30
    assert board["series"][-1] == {
        "day": f"{now:%m-%d}",
        "sent": 1,
        "accepted": 1,
        "saved": 1,
    }
    assert board["series"][-3] == {
        "day": f"{two_days_ago:%m-%d}",
        "sent": 2,
        "accepted": 1,
        "saved": 0,
    }
    assert sum(day["sent"] for day in board["series"]) == board["totals"]["sent"]
    assert board["top_partners"][0] == {
        "email": "ann@example.com",
        "name": "",
        "sent": 2,
        "accepted": 2,
        "saved": 1,
    }
    assert [p["email"] for p in board["top_partners"]] == [
        "ann@example.com",
        "bob@example.com",
    ]
    assert board["top_records"][0]["id"] == contact.id
    assert board["top_records"][0]["referrals"] == 2
    assert board["top_records"][0]["kind"] == "Contact"
    assert (
        lifecycle.dashboard(session=session, user=paid_user, days=90)["totals"]["sent"]
        == 4
    )


@pytest.mark.parametrize(("days", "used"), [(1, 7), ("400", 365), (30, 30), ("7", 7)])
def test_dashboard_days_are_kept_between_7_and_365(session, paid_user, days, used):
    board = lifecycle.dashboard(session=session, user=paid_user, days=days)

    assert board["days"] == used
    assert len(board["series"]) == used
    assert board["series"][-1]["day"] == f"{utcnow():%m-%d}"


@pytest.mark.parametrize("days", [None, "ten", 1.5, True, "-5", "\u0663\u0660"])
def test_dashboard_refuses_days_that_are_not_a_number(session, paid_user, days):
    with pytest.raises(InvalidInput):
        lifecycle.dashboard(session=session, user=paid_user, days=days)


def test_audit_lines_of_the_lifecycle_name_the_item_owner_account(
    session, paid_user, contact, recipient
):
    referral_id = _refer(session, paid_user, contact, recipient.email)
    referrals.referral_detail(session=session, user=recipient, referral_id=referral_id)
    lifecycle.resend_invitation(
        session=session, user=paid_user, referral_id=referral_id
    )
    lifecycle.revoke_referral(session=session, user=paid_user, referral_id=referral_id)
    # A declined referral has no access left to revoke: a second one declines.
    declined_id = _refer(session, paid_user, contact, recipient.email)
    lifecycle.decline_referral(
        session=session, user=recipient, referral_id=declined_id, reason="No"
    )

    lines = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [line.action for line in lines] == [
        audit.REFER,
        audit.VIEW,
        audit.RESEND,
        audit.REVOKE,
        audit.REFER,
        audit.DECLINE,
    ]
    assert {line.account_id for line in lines} == {paid_user.account_id}
    assert lines[1].actor_id == recipient.id
    assert lines[0].target == f"Contact Wilson Fisk to {recipient.email}"


def test_unsent_mail_says_so_once_without_a_reason(
    session, paid_user, company_lead, monkeypatch
):
    monkeypatch.setattr(mail.settings, "smtp_url", "")
    referral_id = _refer(session, paid_user, company_lead, "a@example.com")

    sent = lifecycle.list_sent_referrals(session=session, user=paid_user).items[0]
    timeline = lifecycle.referral_timeline(
        session=session, user=paid_user, referral_id=referral_id
    )
    history = referrals.referral_history(
        session=session, user=paid_user, record_id=company_lead.id
    )

    for shown in (sent, timeline, history[0]):
        assert shown["mail_status"] == "not sent: no SMTP server configured"
        assert shown["mail_error"] == ""


def test_a_declined_or_expired_referral_cannot_be_revoked_over(
    session, paid_user, free_user, company_lead
):
    declined = _refer(session, paid_user, company_lead, free_user.email)
    lifecycle.decline_referral(
        session=session, user=free_user, referral_id=declined, reason="No"
    )
    expired = _refer(session, paid_user, company_lead, "late@example.com")
    _set(session, expired, expires_at=_ago(days=1))

    for referral_id, why in ((declined, "declined"), (expired, "expired")):
        with pytest.raises(InvalidInput, match=why):
            lifecycle.revoke_referral(
                session=session, user=paid_user, referral_id=referral_id
            )
        timeline = lifecycle.referral_timeline(
            session=session, user=paid_user, referral_id=referral_id
        )
        assert timeline["state"] == why
        assert timeline["can_revoke"] is False
        assert session.get(Referral, referral_id).revoked_at is None
