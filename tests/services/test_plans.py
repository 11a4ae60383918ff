"""The plans on the upgrade page, changing plan, and an account's team."""

import logging

import pytest
from sqlmodel import func, select

from chub_ui.models import (
    KIND_LEAD,
    PLAN_FREE,
    PLAN_PAID,
    Account,
    Record,
    TeamMessage,
    User,
)
from chub_ui.services import auth, notifications, plans, records
from chub_ui.services.errors import InvalidInput, PlanRequired


def _count(session, table) -> int:
    return session.exec(select(func.count()).select_from(table)).one()


def _plan_of(session, user) -> str:
    session.expire_all()
    return session.get(Account, user.account_id).plan


def _add_teammate(session, colleague, email, name) -> auth.CurrentUser:
    user = User(
        email=email,
        full_name=name,
        password_hash="not-a-usable-hash",
        account_id=colleague.account_id,
    )
    session.add(user)
    session.commit()
    return auth.current_user_for(session, user.id)


def test_the_upgrade_page_compares_free_and_paid():
    by_plan = {plan["plan"]: plan for plan in plans.PLANS}

    assert [plan["plan"] for plan in plans.PLANS] == ["free", "paid"]
    assert by_plan["free"]["price_text"] == "Free"
    assert by_plan["paid"]["price_text"] == "Paid — no payment provider yet"
    assert by_plan["paid"]["missing"] == []
    assert "Team members and team messages" in by_plan["free"]["missing"]
    assert "Team members and team messages" in by_plan["paid"]["features"]
    for plan in plans.PLANS:
        assert set(plan) == {"plan", "name", "price_text", "features", "missing"}
        assert plan["name"] and plan["features"]


def test_upgrading_unlocks_the_crm_at_once(session, free_user, caplog):
    caplog.set_level(logging.INFO, logger="chub_ui.services.plans")

    assert plans.change_plan(session=session, user=free_user, plan=" PAID ") == "paid"

    assert _plan_of(session, free_user) == PLAN_PAID
    upgraded = auth.current_user_for(session, free_user.id)
    page = records.list_records(session=session, user=upgraded, kind=KIND_LEAD)
    assert page.total == 0
    assert f"account {free_user.account_id} plan changed from free to paid" in (
        caplog.text
    )


def test_downgrading_keeps_every_row_and_locks_paid_features(session, paid_user):
    session.add(
        Record(
            account_id=paid_user.account_id,
            created_by_id=paid_user.id,
            kind=KIND_LEAD,
            name="Wilson Fisk",
        )
    )
    session.commit()
    notifications.send_team_message(session=session, user=paid_user, body="Hello")

    assert plans.change_plan(session=session, user=paid_user, plan="free") == "free"

    downgraded = auth.current_user_for(session, paid_user.id)
    assert _count(session, Record) == 1
    assert _count(session, TeamMessage) == 1
    with pytest.raises(PlanRequired):
        records.list_records(session=session, user=downgraded, kind=KIND_LEAD)
    with pytest.raises(PlanRequired):
        notifications.send_team_message(session=session, user=downgraded, body="Hi")
    assert _count(session, TeamMessage) == 1

    plans.change_plan(session=session, user=downgraded, plan="paid")
    upgraded = auth.current_user_for(session, paid_user.id)
    page = records.list_records(session=session, user=upgraded, kind=KIND_LEAD)
    assert [item["name"] for item in page.items] == ["Wilson Fisk"]


@pytest.mark.parametrize("plan", ["gold", "", None, 1])
def test_an_unknown_plan_is_refused_and_nothing_changes(session, paid_user, plan):
    with pytest.raises(InvalidInput, match="free or the paid plan"):
        plans.change_plan(session=session, user=paid_user, plan=plan)

    assert _plan_of(session, paid_user) == PLAN_PAID


def test_any_user_of_the_account_may_change_its_plan(session, paid_user, make_user):
    teammate = _add_teammate(session, paid_user, "tom@example.com", "Tom Teammate")
    neighbour = make_user("neighbour@example.com")

    plans.change_plan(session=session, user=teammate, plan=PLAN_FREE)

    assert _plan_of(session, paid_user) == PLAN_FREE
    assert _plan_of(session, neighbour) == PLAN_PAID


def test_require_paid_account_reads_the_plan_from_the_database(session, paid_user):
    assert plans.require_paid_account(session=session, user=paid_user) == paid_user

    plans.change_plan(session=session, user=paid_user, plan=PLAN_FREE)

    with pytest.raises(PlanRequired, match="needs the paid plan"):
        plans.require_paid_account(session=session, user=paid_user)
    with pytest.raises(PlanRequired) as refused:
        plans.require_paid_account(
            session=session, user=paid_user, message="Custom reason"
        )
    assert refused.value.message == "Custom reason"


def test_team_members_are_the_accounts_users_in_join_order(
    session, paid_user, make_user
):
    _add_teammate(session, paid_user, "tom@example.com", "Tom Teammate")
    _add_teammate(session, paid_user, "tina@example.com", "")
    make_user("outsider@example.com", name="Otto Outsider")

    members = plans.team_members(session=session, user=paid_user)

    assert [(member["name"], member["email"]) for member in members] == [
        ("Olivia Owner", "owner@example.com"),
        ("Tom Teammate", "tom@example.com"),
        ("tina@example.com", "tina@example.com"),
    ]
    assert len(members[0]["joined"]) == len("2025-01-31")
    assert set(members[0]) == {"name", "email", "joined"}
