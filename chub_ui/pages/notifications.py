"""The Notifications page: the list, read marks and team messages."""

import logging

import reflex as rx

from chub_ui import routes
from chub_ui.components.layout import app_page, empty_state, error_callout, pager
from chub_ui.state.notifications import NotificationsState

logger = logging.getLogger(__name__)


def _notification(item) -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.cond(
                item["is_unread"],
                rx.badge("New", color_scheme="indigo"),
                rx.badge("Read", color_scheme="gray", variant="soft"),
            ),
            rx.vstack(
                rx.cond(
                    item["link"] != "",
                    rx.link(
                        item["text"],
                        href=item["link"],
                        on_click=NotificationsState.mark_read(item["id"]),
                    ),
                    rx.text(item["text"], white_space="pre-wrap"),
                ),
                rx.text(item["created"], size="1", color_scheme="gray"),
                spacing="1",
                flex="1",
            ),
            rx.cond(
                item["is_unread"],
                rx.button(
                    "Mark read",
                    size="1",
                    variant="soft",
                    on_click=NotificationsState.mark_read(item["id"]),
                ),
            ),
            align="center",
            width="100%",
        ),
        width="100%",
        class_name="notification",
    )


def _team_composer() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Team messages", size="4"),
            rx.cond(
                NotificationsState.is_paid,
                rx.form(
                    rx.vstack(
                        error_callout(NotificationsState.team_error),
                        rx.cond(
                            NotificationsState.team_success != "",
                            rx.text(
                                NotificationsState.team_success,
                                color_scheme="green",
                                id="team-success",
                            ),
                        ),
                        rx.text_area(
                            name="body",
                            id="team-body",
                            placeholder="Write to everyone in your team",
                            max_length=2000,
                            width="100%",
                            aria_label="Team message",
                        ),
                        rx.button("Send to the team", type="submit", id="team-send"),
                        width="100%",
                    ),
                    on_submit=NotificationsState.send_team_message,
                    reset_on_submit=False,
                    width="100%",
                ),
                rx.callout.root(
                    rx.callout.icon(rx.icon("lock")),
                    rx.callout.text(
                        "Team messages belong to the paid plan, where you can add "
                        "users to your account. ",
                        rx.link("Compare the plans", href=routes.UPGRADE),
                    ),
                    color_scheme="gray",
                    id="team-locked",
                ),
            ),
            rx.foreach(
                NotificationsState.team,
                lambda message: rx.box(
                    rx.text(
                        rx.text.strong(message["author"]),
                        " · ",
                        message["when"],
                        size="1",
                        color_scheme="gray",
                    ),
                    rx.text(message["body"], white_space="pre-wrap", size="2"),
                    width="100%",
                ),
            ),
            width="100%",
        ),
        width="100%",
    )


def notifications_page() -> rx.Component:
    """Read and unread notifications, and the team's messages."""
    return app_page(
        rx.hstack(
            rx.heading("Notifications", size="6"),
            rx.spacer(),
            rx.segmented_control.root(
                rx.segmented_control.item("All", value="all"),
                rx.segmented_control.item("Unread", value="unread"),
                value=NotificationsState.show,
                on_change=NotificationsState.set_show,
            ),
            rx.button(
                "Mark all read",
                variant="soft",
                on_click=NotificationsState.mark_all_read,
                disabled=NotificationsState.unread == 0,
            ),
            width="100%",
            align="center",
        ),
        rx.cond(
            NotificationsState.total > 0,
            rx.vstack(
                rx.foreach(NotificationsState.items, _notification),
                pager(NotificationsState),
                width="100%",
                id="notification-list",
            ),
            empty_state(
                "bell",
                "No notifications",
                "You will be told here when something is referred or shared with "
                "you, when a partner saves your referral, and when your team writes.",
            ),
        ),
        _team_composer(),
    )
