"""Save As of a referred lead or contact: duplicates, one copy, the referrer told."""

import threading

import pytest
from sqlmodel import Session, func, select

from chub_ui.models import (
    KIND_CONTACT,
    KIND_LEAD,
    PLAN_FREE,
    Document,
    Notification,
    Record,
    Referral,
)
from chub_ui.services import auth, plans, saving
from chub_ui.services.errors import InvalidInput, NotAllowed, PlanRequired
from tests.services.rows import add_record, add_referral, record_snapshot


def _count(session, table) -> int:
    return session.exec(select(func.count()).select_from(table)).one()


@pytest.fixture
def recipient(make_user) -> auth.CurrentUser:
    return make_user("rita@example.com", name="Rita Recipient")


@pytest.fixture
def original(session, paid_user) -> Record:
    return add_record(
        session,
        paid_user,
        kind=KIND_LEAD,
        name="Wilson Fisk",
        company="Fisk Industries",
        job_title="Kingpin",
        email="contact@wilson.com",
        other_emails="w.fisk@fisk.example.com, boss@fisk.example.com",
        phone="+1 (212) 555-0147",
        other_phones="+1 212 555 0199",
        website="https://fisk.example.com",
        street="1 Fisk Tower",
        city="New York",
        region="NY",
        postal_code="10001",
        country="USA",
        description="Owns half of Hell's Kitchen.",
        source="Trade fair",
        extra_json='{"organization_id": "1"}',
    )


@pytest.fixture
def referral(session, paid_user, recipient, original) -> Referral:
    return add_referral(session, paid_user, recipient, record=original)


def test_save_as_copies_every_field_and_notifies_the_referrer(
    session, paid_user, recipient, original, referral
):
    before = record_snapshot(session, original.id)

    outcome = saving.save_as_own(
        session=session, user=recipient, referral_id=referral.id, kind=KIND_CONTACT
    )

    assert outcome["status"] == "created"
    copy = session.get(Record, outcome["record_id"])
    for field in saving.COPIED_FIELDS:
        assert getattr(copy, field) == before[field], field
    assert copy.kind == KIND_CONTACT
    assert copy.account_id == recipient.account_id
    assert copy.created_by_id == recipient.id
    assert copy.copied_from_referral_id == referral.id
    assert copy.source == "Saved from a referral by Olivia Owner"
    note = session.exec(select(Notification)).one()
    assert note.user_id == paid_user.id
    assert note.kind == "saved"
    assert note.text == "Rita Recipient saved Wilson Fisk as their own contact"
    assert note.link == f"/records/{original.id}"
    assert note.actor_id == recipient.id
    assert record_snapshot(session, original.id) == before
    assert _count(session, Record) == 2


def test_saving_the_same_referral_again_answers_with_the_first_copy(
    session, recipient, referral
):
    first = saving.save_as_own(
        session=session, user=recipient, referral_id=referral.id, kind=KIND_LEAD
    )

    second = saving.save_as_own(
        session=session,
        user=recipient,
        referral_id=referral.id,
        kind=KIND_CONTACT,
        create_anyway=True,
    )

    assert second == {"status": "exists", "record_id": first["record_id"]}
    assert _count(session, Record) == 2
    assert _count(session, Notification) == 1


def test_two_saves_at_once_make_one_copy_and_raise_nothing(
    engine, session, paid_user, recipient, original, referral
):
    before = record_snapshot(session, original.id)
    original_id, referral_id = original.id, referral.id
    session.close()
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def save() -> None:
        with Session(engine) as own_session:
            barrier.wait()
            try:
                outcomes.append(
                    saving.save_as_own(
                        session=own_session,
                        user=recipient,
                        referral_id=referral_id,
                        kind=KIND_LEAD,
                    )
                )
            except Exception as error:  # the test reports any error, not just one kind
                errors.append(error)

    threads = [threading.Thread(target=save) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(outcome["status"] for outcome in outcomes) == ["created", "exists"]
    assert outcomes[0]["record_id"] == outcomes[1]["record_id"]
    with Session(engine) as check:
        copies = check.exec(
            select(Record).where(Record.copied_from_referral_id == referral_id)
        ).all()
        assert len(copies) == 1
        assert _count(check, Notification) == 1
        assert _count(check, Record) == 2
        assert check.get(Record, original_id).model_dump() == before


@pytest.mark.parametrize("create_anyway", [True, False])
def test_a_save_that_loses_the_race_answers_with_the_rivals_copy(
    engine, session, recipient, referral, monkeypatch, create_anyway
):
    referral_id = referral.id
    look_up_copy = saving._existing_copy
    rival_outcomes, looked_up = [], []

    def rival_saves_first(db, user, wanted_id):
        # The first look-up finds nothing, as if the rival committed just after it.
        if not looked_up:
            looked_up.append(wanted_id)
            with Session(engine) as rival:
                rival_outcomes.append(
                    saving.save_as_own(
                        session=rival, user=user, referral_id=wanted_id, kind=KIND_LEAD
                    )
                )
            return None
        return look_up_copy(db, user, wanted_id)

    monkeypatch.setattr(saving, "_existing_copy", rival_saves_first)

    outcome = saving.save_as_own(
        session=session,
        user=recipient,
        referral_id=referral_id,
        kind=KIND_CONTACT,
        create_anyway=create_anyway,
    )

    assert rival_outcomes[0]["status"] == "created"
    assert outcome == {"status": "exists", "record_id": rival_outcomes[0]["record_id"]}
    assert _count(session, Record) == 2
    assert _count(session, Notification) == 1
    assert session.get(Record, outcome["record_id"]).kind == KIND_LEAD


@pytest.mark.parametrize("call", ["save", "find"])
def test_a_free_account_is_refused_however_it_is_called(
    session, make_user, paid_user, original, call
):
    partner = make_user("free@example.com", plan=PLAN_FREE, name="Free Partner")
    referral = add_referral(session, paid_user, partner, record=original)
    records_before = _count(session, Record)

    with pytest.raises(PlanRequired, match="paid plan: upgrade"):
        if call == "save":
            saving.save_as_own(
                session=session,
                user=partner,
                referral_id=referral.id,
                kind=KIND_LEAD,
                create_anyway=True,
            )
        else:
            saving.find_duplicates(
                session=session, user=partner, referral_id=referral.id
            )

    assert _count(session, Record) == records_before
    assert _count(session, Notification) == 0


def test_the_plan_is_checked_before_anything_else(session, make_user, original):
    partner = make_user("free@example.com", plan=PLAN_FREE)

    with pytest.raises(PlanRequired):
        saving.save_as_own(
            session=session, user=partner, referral_id=999, kind="spreadsheet"
        )

    assert _count(session, Record) == 1


def test_a_stale_paid_user_is_refused_after_the_account_was_downgraded(
    session, recipient, referral
):
    plans.change_plan(session=session, user=recipient, plan=PLAN_FREE)

    with pytest.raises(PlanRequired):
        saving.save_as_own(
            session=session, user=recipient, referral_id=referral.id, kind=KIND_LEAD
        )

    assert _count(session, Record) == 1
    assert _count(session, Notification) == 0


def test_an_unknown_kind_is_refused(session, recipient, referral):
    with pytest.raises(InvalidInput, match="lead or as a contact"):
        saving.save_as_own(
            session=session, user=recipient, referral_id=referral.id, kind="deal"
        )

    assert _count(session, Record) == 1
    assert _count(session, Notification) == 0


def test_someone_elses_missing_or_document_referral_is_refused(
    session, make_user, paid_user, recipient, referral
):
    stranger = make_user("stranger@example.com", name="Sam Stranger")
    document = Document(
        owner_id=paid_user.id,
        account_id=paid_user.account_id,
        name="brochure.pdf",
        stored_name="a" * 32,
        content_type="application/pdf",
        type_label="PDF",
        sha256="0" * 64,
    )
    session.add(document)
    session.commit()
    shared = add_referral(session, paid_user, recipient, document=document)
    attempts = [
        (stranger, referral.id),
        (paid_user, referral.id),
        (recipient, 9999),
        (recipient, "not a number"),
        (recipient, 10**20),
        (recipient, shared.id),
    ]

    for user, referral_id in attempts:
        with pytest.raises(NotAllowed):
            saving.save_as_own(
                session=session,
                user=user,
                referral_id=referral_id,
                kind=KIND_LEAD,
                create_anyway=True,
            )
        with pytest.raises(NotAllowed):
            saving.find_duplicates(session=session, user=user, referral_id=referral_id)

    assert _count(session, Record) == 1
    assert _count(session, Notification) == 0


def test_duplicates_by_email_phone_and_name_and_company(
    session, make_user, recipient, referral
):
    by_email = add_record(
        session, recipient, name="Someone", email="  CONTACT@Wilson.com "
    )
    by_other_email = add_record(
        session, recipient, name="Alias", other_emails="x@y.com; boss@FISK.example.com"
    )
    by_phone = add_record(session, recipient, name="Phone", phone="212.555.0147")
    by_other_phone = add_record(
        session, recipient, name="Other phone", other_phones="0044, 0212 555 0199"
    )
    by_name = add_record(
        session, recipient, name="  wilson   FISK ", company="fisk  industries"
    )
    add_record(session, recipient, name="Wilson Fisk", company="Other Corp")
    add_record(session, recipient, name="Short", phone="0147")
    outsider = make_user("outsider@example.com")
    add_record(session, outsider, name="Wilson Fisk", email="contact@wilson.com")

    found = saving.find_duplicates(
        session=session, user=recipient, referral_id=referral.id
    )

    assert [(item["id"], item["reason"]) for item in found] == [
        (by_email.id, "same e-mail"),
        (by_other_email.id, "same e-mail"),
        (by_phone.id, "same phone"),
        (by_other_phone.id, "same phone"),
        (by_name.id, "same name and company"),
    ]
    assert found[0] == {
        "id": by_email.id,
        "name": "Someone",
        "company": "",
        "email": "  CONTACT@Wilson.com ",
        "reason": "same e-mail",
        "link": f"/records/{by_email.id}",
    }


def test_a_record_matching_several_ways_is_listed_once(session, recipient, referral):
    twin = add_record(
        session,
        recipient,
        name="Wilson Fisk",
        company="Fisk Industries",
        email="contact@wilson.com",
        phone="2125550147",
    )

    found = saving.find_duplicates(
        session=session, user=recipient, referral_id=referral.id
    )

    assert [(item["id"], item["reason"]) for item in found] == [
        (twin.id, "same e-mail")
    ]


def test_duplicates_stop_the_save_until_create_anyway(
    session, paid_user, recipient, original, referral
):
    twin = add_record(session, recipient, name="W. Fisk", email="contact@wilson.com")
    before = record_snapshot(session, original.id)

    stopped = saving.save_as_own(
        session=session, user=recipient, referral_id=referral.id, kind=KIND_LEAD
    )

    assert stopped["status"] == "duplicates"
    assert [item["id"] for item in stopped["duplicates"]] == [twin.id]
    assert _count(session, Record) == 2
    assert _count(session, Notification) == 0

    created = saving.save_as_own(
        session=session,
        user=recipient,
        referral_id=referral.id,
        kind=KIND_LEAD,
        create_anyway=True,
    )

    assert created["status"] == "created"
    assert _count(session, Record) == 3
    assert _count(session, Notification) == 1
    assert record_snapshot(session, original.id) == before


def test_no_duplicates_without_look_alikes(session, recipient, referral):
    add_record(session, recipient, name="Matt Murdock", email="matt@nelson.example")

    assert (
        saving.find_duplicates(session=session, user=recipient, referral_id=referral.id)
        == []
    )


def test_matching_keys_normalise_as_documented():
    assert saving.email_keys(" A@B.com ", "c@d.com,  E@F.com;g@h.com\ni@j.com") == {
        "a@b.com",
        "c@d.com",
        "e@f.com",
        "g@h.com",
        "i@j.com",
    }
    assert saving.phone_keys("+44 (0) 20 7946 0958", "12345, 555-123") == {
        "079460958",
        "555123",
    }
    assert saving.name_and_company_key(" Ada  Lovelace", "ACME\tLtd ") == (
        "ada lovelace",
        "acme ltd",
    )
    assert saving.name_and_company_key("Ada Lovelace", "  ") is None
