"""The demo mailbox: invitations kept in the outbox when no SMTP is set."""

import logging

import reflex as rx

from chub_ui import routes, styles
from chub_ui.components.layout import empty_state, error_callout
from chub_ui.state.demo import DemoMailboxState

logger = logging.getLogger(__name__)


def _message(item) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text.strong(item["subject"]),
                rx.spacer(),
                rx.badge(item["status"]),
                width="100%",
            ),
            rx.text("To ", item["to"], " · ", item["created_at"], size="2"),
            rx.cond(
                item["note"] != "",
                rx.text(item["note"], size="1", color_scheme="gray"),
            ),
            rx.box(rx.text(item["body"]), style=styles.mail_body_style),
            rx.cond(
                item["link_path"] != "",
                rx.link(
                    rx.button("Open the invitation link", variant="soft"),
                    href=item["link_path"],
                ),
            ),
            width="100%",
        ),
        width="100%",
        class_name="mailbox-message",
    )


def mailbox_page() -> rx.Component:
    """The newest outbox messages, to click through a product demo."""
    return rx.vstack(
        rx.hstack(
            rx.heading("Demo mailbox", size="6"),
            rx.spacer(),
            rx.link("Back to the app", href=routes.HOME),
            width="100%",
            align="center",
        ),
        rx.text(
            "No SMTP server is configured, so e-mails stay here instead of being "
            "sent. Open an invitation link to continue as its recipient (use a "
            "private window, or sign out first).",
            color_scheme="gray",
        ),
        error_callout(DemoMailboxState.mailbox_error),
        rx.cond(
            DemoMailboxState.messages.length() > 0,
            rx.vstack(rx.foreach(DemoMailboxState.messages, _message), width="100%"),
            rx.cond(
                DemoMailboxState.mailbox_error == "",
                empty_state(
                    "mail", "The mailbox is empty", "Refer a lead or a contact first."
                ),
            ),
        ),
        style=styles.main_style,
        margin="0 auto",
        spacing="4",
    )
