"""Notifications for what is referred or shared: at once, or once the link is used."""

import pytest
from sqlmodel import func, select

from chub_ui.models import (
    KIND_CONTACT,
    KIND_LEAD,
    PLAN_FREE,
    Invitation,
    Notification,
    OutboxMessage,
    Record,
    Referral,
)
from chub_ui.services import auth, invitations, notifications, referrals
from chub_ui.services.errors import InvalidInput, NotAllowed, PlanRequired
from tests.conftest import TEST_PASSWORD
from tests.services.rows import add_document, add_record


def _count(session, table) -> int:
    return session.exec(select(func.count()).select_from(table)).one()


def _counts(session) -> tuple[int, int, int, int]:
    return tuple(
        _count(session, table)
        for table in (Referral, Invitation, OutboxMessage, Notification)
    )


def _add_record(session, user, name, *, kind=KIND_LEAD) -> Record:
    return add_record(session, user, name=name, kind=kind)


def _token_of(session, referral_id: int) -> str:
    """The link's token, read back from the e-mail that carried it."""
    invitation = session.exec(
        select(Invitation).where(Invitation.referral_id == referral_id)
    ).one()
    body = session.exec(
        select(OutboxMessage.body_text).where(
            OutboxMessage.invitation_id == invitation.id
        )
    ).one()
    return body.split("/invite/", 1)[1].split()[0]


def _notices(session, user_id: int) -> list[tuple[str, str, str, int | None]]:
    rows = session.exec(
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(Notification.id)
    ).all()
    return [(row.kind, row.text, row.link, row.actor_id) for row in rows]


@pytest.mark.parametrize(
    ("kind", "article"), [(KIND_LEAD, "a lead"), (KIND_CONTACT, "a contact")]
)
def test_an_existing_user_is_notified_at_once(
    session, paid_user, free_user, kind, article
):
    record = _add_record(session, paid_user, "Wilson Fisk", kind=kind)

    outcome = referrals.refer_record(
        session=session, user=paid_user, record_id=record.id, to_email=free_user.email
    )

    assert outcome.recipient_has_account is True
    assert _notices(session, free_user.id) == [
        (
            notifications.KIND_REFERRAL,
            f"Olivia Owner referred {article} to you: Wilson Fisk",
            f"/referrals/{outcome.referral_id}",
            paid_user.id,
        )
    ]
    assert _notices(session, paid_user.id) == []
    assert notifications.unread_count(session=session, user=free_user) == 1
    page = notifications.list_notifications(session=session, user=free_user)
    assert page.items[0]["link"] == f"/referrals/{outcome.referral_id}"


def test_a_referrer_without_a_name_is_named_by_address(session, make_user, free_user):
    nameless = make_user("nameless@example.com", name="")
    record = _add_record(session, nameless, "Karen Page")

    referrals.refer_record(
        session=session, user=nameless, record_id=record.id, to_email=free_user.email
    )

    [(_, text, _, _)] = _notices(session, free_user.id)
    assert text == "nameless@example.com referred a lead to you: Karen Page"


def test_a_document_shared_with_an_existing_user_notifies_them(
    session, free_user, make_user
):
    colleague = make_user("colleague@example.com", plan=PLAN_FREE, name="Cole")
    document = add_document(session, free_user, "pricing.pdf")

    referrals.refer_document(
        session=session,
        user=free_user,
        document_id=document.id,
        to_email=" Colleague@Example.com ",
    )

    assert _notices(session, colleague.id) == [
        (
            notifications.KIND_SHARED,
            "Pat Partner shared a document with you: pricing.pdf",
            "/library",
            free_user.id,
        )
    ]


def test_a_new_address_is_notified_only_once_it_registers(session, paid_user):
    lead = _add_record(session, paid_user, "CyberGuard Pro deal")
    contact = _add_record(session, paid_user, "Matt Murdock", kind=KIND_CONTACT)
    first = referrals.refer_record(
        session=session, user=paid_user, record_id=lead.id, to_email="new@example.com"
    )
    second = referrals.refer_record(
        session=session,
        user=paid_user,
        record_id=contact.id,
        to_email="new@example.com",
    )
    assert _count(session, Notification) == 0

    session_token, landing = invitations.register_from_invitation(
        session=session,
        token=_token_of(session, first.referral_id),
        password=TEST_PASSWORD,
        full_name="Nina New",
    )

    nina = auth.user_for_token(session, session_token)
    assert landing == f"/referrals/{first.referral_id}"
    assert _notices(session, nina.id) == [
        (
            notifications.KIND_REFERRAL,
            "Olivia Owner referred a lead to you: CyberGuard Pro deal",
            f"/referrals/{first.referral_id}",
            paid_user.id,
        ),
        (
            notifications.KIND_REFERRAL,
            "Olivia Owner referred a contact to you: Matt Murdock",
            f"/referrals/{second.referral_id}",
            paid_user.id,
        ),
    ]
    assert _count(session, Notification) == 2

    # The second referral's own link grants nothing new, so it tells nothing new.
    landing = invitations.accept_invitation(
        session=session, token=_token_of(session, second.referral_id), user=nina
    )

    assert landing == f"/referrals/{second.referral_id}"
    assert _count(session, Notification) == 2


def test_a_referral_made_after_registering_is_notified_once(session, paid_user):
    lead = _add_record(session, paid_user, "CyberGuard Pro deal")
    contact = _add_record(session, paid_user, "Matt Murdock", kind=KIND_CONTACT)
    first = referrals.refer_record(
        session=session, user=paid_user, record_id=lead.id, to_email="new@example.com"
    )
    session_token, _ = invitations.register_from_invitation(
        session=session,
        token=_token_of(session, first.referral_id),
        password=TEST_PASSWORD,
    )
    nina = auth.user_for_token(session, session_token)

    second = referrals.refer_record(
        session=session,
        user=paid_user,
        record_id=contact.id,
        to_email="new@example.com",
    )
    invitations.accept_invitation(
        session=session, token=_token_of(session, second.referral_id), user=nina
    )

    links = [link for _, _, link, _ in _notices(session, nina.id)]
    assert links == [
        f"/referrals/{first.referral_id}",
        f"/referrals/{second.referral_id}",
    ]


def test_a_user_who_signed_up_elsewhere_is_notified_on_accepting(
    session, paid_user, make_user
):
    lead = _add_record(session, paid_user, "CyberGuard Pro deal")
    outcome = referrals.refer_record(
        session=session, user=paid_user, record_id=lead.id, to_email="new@example.com"
    )
    nina = make_user("new@example.com", plan=PLAN_FREE)
    assert _count(session, Notification) == 0

    invitations.accept_invitation(
        session=session, token=_token_of(session, outcome.referral_id), user=nina
    )

    assert _notices(session, nina.id) == [
        (
            notifications.KIND_REFERRAL,
            "Olivia Owner referred a lead to you: CyberGuard Pro deal",
            f"/referrals/{outcome.referral_id}",
            paid_user.id,
        )
    ]


def test_a_document_for_a_new_address_is_notified_after_registering(session, free_user):
    document = add_document(session, free_user, "pricing.pdf")
    outcome = referrals.refer_document(
        session=session,
        user=free_user,
        document_id=document.id,
        to_email="new@example.com",
    )

    session_token, landing = invitations.register_from_invitation(
        session=session,
        token=_token_of(session, outcome.referral_id),
        password=TEST_PASSWORD,
    )

    nina = auth.user_for_token(session, session_token)
    assert landing == "/library"
    assert _notices(session, nina.id) == [
        (
            notifications.KIND_SHARED,
            "Pat Partner shared a document with you: pricing.pdf",
            "/library",
            free_user.id,
        )
    ]


def test_refusals_notify_no_one(session, paid_user, free_user, make_user):
    record = _add_record(session, paid_user, "Wilson Fisk")
    referrals.refer_record(
        session=session, user=paid_user, record_id=record.id, to_email=free_user.email
    )
    before = _counts(session)
    assert before == (1, 1, 1, 1)
    outsider = make_user("outsider@example.com", name="Otto")

    with pytest.raises(InvalidInput, match="pending"):
        referrals.refer_record(
            session=session,
            user=paid_user,
            record_id=record.id,
            to_email=free_user.email,
        )
    with pytest.raises(InvalidInput, match="yourself"):
        referrals.refer_record(
            session=session,
            user=paid_user,
            record_id=record.id,
            to_email=paid_user.email,
        )
    with pytest.raises(InvalidInput):
        referrals.refer_record(
            session=session,
            user=paid_user,
            record_id=record.id,
            to_email=f"Pat <{free_user.email}>",
        )
    with pytest.raises(NotAllowed):
        referrals.refer_record(
            session=session,
            user=outsider,
            record_id=record.id,
            to_email=free_user.email,
        )
    with pytest.raises(PlanRequired):
        referrals.refer_record(
            session=session,
            user=free_user,
            record_id=record.id,
            to_email=outsider.email,
        )

    assert _counts(session) == before
    assert _notices(session, outsider.id) == []


def test_the_notification_is_part_of_the_referrals_transaction(
    session, paid_user, free_user, monkeypatch
):
    record = _add_record(session, paid_user, "Wilson Fisk")

    def broken_notify(**_):
        raise RuntimeError("database went away")

    monkeypatch.setattr(notifications, "notify", broken_notify)
    with pytest.raises(RuntimeError):
        referrals.refer_record(
            session=session,
            user=paid_user,
            record_id=record.id,
            to_email=free_user.email,
        )
    session.rollback()

    assert _counts(session) == (0, 0, 0, 0)
