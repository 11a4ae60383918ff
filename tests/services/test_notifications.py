"""Notifications, the unread count, and team messages to the rest of an account."""

from datetime import timedelta

import pytest
from sqlmodel import func, select

from chub_ui.models import PLAN_FREE, Notification, TeamMessage, User, utcnow
from chub_ui.services import auth, notifications, plans
from chub_ui.services.errors import InvalidInput, NotAllowed, PlanRequired


def _count(session, table) -> int:
    return session.exec(select(func.count()).select_from(table)).one()


def _add_teammate(session, colleague, email, name) -> auth.CurrentUser:
    """A second user of the colleague's account, as a team invitation adds one."""
    user = User(
        email=email,
        full_name=name,
        password_hash="not-a-usable-hash",
        account_id=colleague.account_id,
    )
    session.add(user)
    session.commit()
    return auth.current_user_for(session, user.id)


def _notify_many(session, user, count) -> None:
    start = utcnow() - timedelta(hours=count)
    for number in range(count):
        session.add(
            Notification(
                user_id=user.id,
                kind="referral",
                text=f"Notice {number:02d}",
                link=f"/referrals/{number}",
                created_at=start + timedelta(hours=number),
            )
        )
    session.commit()


@pytest.fixture
def team(session, paid_user) -> list[auth.CurrentUser]:
    """The paid account's owner and two teammates."""
    return [
        paid_user,
        _add_teammate(session, paid_user, "tom@example.com", "Tom Teammate"),
        _add_teammate(session, paid_user, "tina@example.com", ""),
    ]


def test_notify_adds_without_committing_and_cuts_long_text(session, paid_user):
    notifications.notify(
        session=session,
        user_id=paid_user.id,
        kind="shared",
        text="x" * 5000,
        link="/library",
    )
    added = session.exec(select(Notification)).one()

    assert len(added.text) == 2300
    assert added.text.endswith("…")
    assert added.link == "/library"
    session.rollback()
    assert _count(session, Notification) == 0


def test_notify_refuses_an_unknown_kind(session, paid_user):
    with pytest.raises(ValueError, match="unknown notification kind"):
        notifications.notify(
            session=session, user_id=paid_user.id, kind="spam", text="Buy now"
        )

    assert _count(session, Notification) == 0


def test_unread_count_list_and_mark_read(session, paid_user, free_user):
    _notify_many(session, paid_user, 3)
    _notify_many(session, free_user, 2)

    assert notifications.unread_count(session=session, user=paid_user) == 3
    page = notifications.list_notifications(session=session, user=paid_user)
    assert [item["text"] for item in page.items] == [
        "Notice 02",
        "Notice 01",
        "Notice 00",
    ]
    newest = page.items[0]
    assert newest["kind"] == "referral"
    assert newest["link"] == "/referrals/2"
    assert newest["is_unread"] is True
    assert newest["created"].endswith(" UTC") and len(newest["created"]) == 20

    notifications.mark_read(
        session=session, user=paid_user, notification_id=newest["id"]
    )
    notifications.mark_read(
        session=session, user=paid_user, notification_id=newest["id"]
    )

    assert notifications.unread_count(session=session, user=paid_user) == 2
    unread = notifications.list_notifications(
        session=session, user=paid_user, show="unread"
    )
    assert [item["text"] for item in unread.items] == ["Notice 01", "Notice 00"]
    every = notifications.list_notifications(session=session, user=paid_user)
    assert [item["is_unread"] for item in every.items] == [False, True, True]
    assert notifications.unread_count(session=session, user=free_user) == 2


def test_notifications_are_paged_twenty_at_a_time(session, paid_user):
    _notify_many(session, paid_user, 25)

    first = notifications.list_notifications(session=session, user=paid_user)
    second = notifications.list_notifications(session=session, user=paid_user, page=2)

    assert (first.total, first.pages, len(first.items)) == (25, 2, 20)
    assert [item["text"] for item in second.items][-1] == "Notice 00"
    assert len(second.items) == 5


def test_an_unknown_filter_is_refused(session, paid_user):
    with pytest.raises(InvalidInput):
        notifications.list_notifications(session=session, user=paid_user, show="x")


def test_another_users_notification_cannot_be_marked_read(
    session, paid_user, free_user
):
    _notify_many(session, free_user, 1)
    theirs = session.exec(select(Notification)).one()

    for notification_id in (theirs.id, 9999, "x", 10**20):
        with pytest.raises(NotAllowed):
            notifications.mark_read(
                session=session, user=paid_user, notification_id=notification_id
            )

    assert notifications.unread_count(session=session, user=free_user) == 1


def test_mark_all_read_touches_only_the_users_own(session, paid_user, free_user):
    _notify_many(session, paid_user, 3)
    _notify_many(session, free_user, 2)

    assert notifications.mark_all_read(session=session, user=paid_user) == 3
    assert notifications.mark_all_read(session=session, user=paid_user) == 0

    assert notifications.unread_count(session=session, user=paid_user) == 0
    assert notifications.unread_count(session=session, user=free_user) == 2


def test_a_team_message_reaches_every_other_member_and_no_one_else(
    session, team, make_user
):
    owner, tom, tina = team
    outsider = make_user("outsider@example.com", name="Otto Outsider")

    sent = notifications.send_team_message(
        session=session, user=owner, body="  Kick-off at nine.\n\tBring coffee.  "
    )

    assert sent == 2
    message = session.exec(select(TeamMessage)).one()
    assert message.body == "Kick-off at nine.\n\tBring coffee."
    assert (message.account_id, message.author_id) == (owner.account_id, owner.id)
    rows = session.exec(select(Notification).order_by(Notification.user_id)).all()
    assert [(row.user_id, row.kind, row.actor_id) for row in rows] == [
        (tom.id, "team_message", owner.id),
        (tina.id, "team_message", owner.id),
    ]
    assert {row.text for row in rows} == {
        "Olivia Owner: Kick-off at nine.\n\tBring coffee."
    }
    assert notifications.unread_count(session=session, user=owner) == 0
    assert notifications.unread_count(session=session, user=outsider) == 0
    assert notifications.unread_count(session=session, user=tina) == 1


def test_a_teammate_without_a_name_is_shown_by_address(session, team):
    owner, _, tina = team

    notifications.send_team_message(session=session, user=tina, body="Hi")

    texts = sorted(row.text for row in session.exec(select(Notification)).all())
    assert texts == ["tina@example.com: Hi", "tina@example.com: Hi"]
    assert notifications.unread_count(session=session, user=owner) == 1


def test_a_team_of_one_sends_to_nobody(session, paid_user):
    assert (
        notifications.send_team_message(session=session, user=paid_user, body="?") == 0
    )
    assert _count(session, TeamMessage) == 1
    assert _count(session, Notification) == 0


def test_a_free_account_cannot_send_a_team_message(session, free_user):
    _add_teammate(session, free_user, "mate@example.com", "Mate")

    with pytest.raises(PlanRequired, match="Team messages need the paid plan"):
        notifications.send_team_message(session=session, user=free_user, body="Hi")

    assert _count(session, TeamMessage) == 0
    assert _count(session, Notification) == 0


def test_a_stale_paid_user_cannot_send_after_a_downgrade(session, team):
    owner, tom, _ = team
    plans.change_plan(session=session, user=tom, plan=PLAN_FREE)

    with pytest.raises(PlanRequired):
        notifications.send_team_message(session=session, user=owner, body="Hi")

    assert _count(session, TeamMessage) == 0
    assert _count(session, Notification) == 0


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   \n\t ",
        None,
        "x" * 2001,
        "ring \x07",
        "esc \x1b[31m",
        "nul \x00",
        "\x7f",
        "lone \ud800",
        42,
    ],
)
def test_bad_team_messages_are_refused_and_nothing_is_written(session, team, body):
    owner = team[0]

    with pytest.raises(InvalidInput):
        notifications.send_team_message(session=session, user=owner, body=body)

    assert _count(session, TeamMessage) == 0
    assert _count(session, Notification) == 0


def test_the_longest_team_message_fits_in_its_notifications(session, team):
    owner = team[0]
    body = "y" * 2000

    assert notifications.send_team_message(session=session, user=owner, body=body) == 2

    note = session.exec(select(Notification)).first()
    assert note.text == f"Olivia Owner: {body}"
    assert session.exec(select(TeamMessage)).one().body == body


def test_team_messages_list_the_accounts_history_newest_first(session, team, make_user):
    owner, tom, _ = team
    outsider = make_user("outsider@example.com")
    notifications.send_team_message(session=session, user=owner, body="First")
    notifications.send_team_message(session=session, user=tom, body="Second")
    notifications.send_team_message(session=session, user=outsider, body="Elsewhere")

    listed = notifications.team_messages(session=session, user=owner)

    assert [(item["author"], item["body"]) for item in listed] == [
        ("Tom Teammate", "Second"),
        ("Olivia Owner", "First"),
    ]
    assert [item["is_mine"] for item in listed] == [False, True]
    assert listed[0]["when"].endswith(" UTC")
    latest = notifications.team_messages(session=session, user=tom, limit=1)
    assert [item["body"] for item in latest] == ["Second"]


def test_a_downgraded_account_still_reads_its_team_history(session, team):
    owner = team[0]
    notifications.send_team_message(session=session, user=owner, body="Before")
    plans.change_plan(session=session, user=owner, plan=PLAN_FREE)
    downgraded = auth.current_user_for(session, owner.id)

    listed = notifications.team_messages(session=session, user=downgraded)

    assert [item["body"] for item in listed] == ["Before"]
