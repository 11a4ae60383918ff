"""The dialog that refers a record or shares a document by e-mail."""

import logging

import reflex as rx

from chub_ui.components.layout import error_callout, field_label

logger = logging.getLogger(__name__)


def invite_dialog(
    *,
    prefix: str,
    title: rx.Component,
    item_word: str,
    address_label: str,
    error,
    on_submit,
    is_open,
    on_open_change,
    trigger: rx.Component | None = None,
) -> rx.Component:
    """An address and a message, sent as an invitation to one item.

    Args:
        prefix: the start of the element ids: `<prefix>-to-email`,
            `<prefix>-message` and `<prefix>-submit`.
        title: the dialog's title.
        item_word: what the link opens, such as "record" or "document".
        address_label: the caption of the address field.
        error: the state var holding the refusal to show.
        on_submit: the handler receiving the form's to_email and message.
        is_open: the state var that opens the dialog.
        on_open_change: the handler that opens or closes it.
        trigger: the button that opens it, if the page has one.
    """
    email_id, message_id = f"{prefix}-to-email", f"{prefix}-message"
    return rx.dialog.root(
        *([rx.dialog.trigger(trigger)] if trigger is not None else []),
        rx.dialog.content(
            rx.dialog.title(title),
            rx.dialog.description(
                "The recipient gets an invitation e-mail with a link to this "
                f"{item_word}.",
                size="2",
                margin_bottom="0.75rem",
            ),
            rx.form(
                rx.vstack(
                    error_callout(error),
                    field_label(address_label, email_id),
                    rx.input(
                        name="to_email", type="email", required=True,
                        placeholder="partner@example.com", id=email_id,
                        width="100%", max_length=320,
                    ),
                    field_label("Message", message_id),
                    rx.text_area(
                        name="message", id=message_id, width="100%",
                        max_length=2000, rows="4",
                    ),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Close", variant="soft", type="button")
                        ),
                        rx.button(
                            "Send invitation", type="submit", id=f"{prefix}-submit"
                        ),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=on_submit,
                reset_on_submit=False,
            ),
        ),
        open=is_open,
        on_open_change=on_open_change,
    )  # fmt: skip
