"""The Refer dialog for leads and contacts, and what referring did."""

import logging

import reflex as rx

from chub_ui.components.layout import error_callout, field_label

logger = logging.getLogger(__name__)

CONSENT_TEXT = "I confirm that I may share this person's details with these recipients."


def _consent(state) -> rx.Component:
    return rx.cond(
        state.refer_needs_consent,
        rx.el.label(
            rx.hstack(
                # A native box, so the form sends it like any other field.
                rx.el.input(
                    type="checkbox",
                    name="consent",
                    id="refer-consent",
                    required=True,
                    style={"margin_top": "0.2rem"},
                ),
                rx.text(CONSENT_TEXT, size="2"),
                align="start",
                spacing="2",
            ),
            html_for="refer-consent",
        ),
    )


def refer_dialog(state, *, trigger: rx.Component | None = None) -> rx.Component:
    """Addresses, a message, an optional end date and, for people, consent.

    Args:
        state: a state with the ReferringMixin vars and events.
        trigger: the button that opens the dialog for the page's record; the
            list opens it with its own "Refer selected" button instead.
    """
    return rx.dialog.root(
        *([rx.dialog.trigger(trigger)] if trigger is not None else []),
        rx.dialog.content(
            rx.dialog.title(state.refer_title),
            rx.dialog.description(
                "Each recipient gets an invitation e-mail with a link to what "
                "you refer.",
                size="2",
                margin_bottom="0.75rem",
            ),
            rx.form(
                rx.vstack(
                    error_callout(state.refer_error),
                    field_label("Refer to (e-mail addresses)", "refer-to-email"),
                    rx.text_area(
                        name="to_email", id="refer-to-email", required=True,
                        placeholder="ann@example.com, bob@example.com",
                        rows="2", width="100%", max_length=7000,
                    ),
                    rx.text(
                        "Separate several addresses with commas, spaces or new "
                        "lines (at most 20).",
                        size="1", color_scheme="gray",
                    ),
                    field_label("Message", "refer-message"),
                    rx.text_area(
                        name="message", id="refer-message", width="100%",
                        max_length=2000, rows="4",
                    ),
                    field_label("Access ends after (optional)", "refer-expires-on"),
                    rx.input(type="date", name="expires_on", id="refer-expires-on"),
                    _consent(state),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Close", variant="soft", type="button")
                        ),
                        rx.button("Send invitations", type="submit", id="refer-submit"),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=state.submit_referral,
                reset_on_submit=False,
            ),
        ),
        open=state.refer_open,
        on_open_change=state.set_refer_open,
    )  # fmt: skip


def _lines(lines) -> rx.Component:
    return rx.el.ul(
        rx.foreach(lines, lambda line: rx.el.li(rx.text(line, size="2"))),
        style={"margin": "0", "padding_left": "1.25rem"},
    )


def refer_outcome(state) -> rx.Component:
    """What was sent, in green, and what was skipped and why, in amber."""
    return rx.fragment(
        rx.cond(
            state.refer_sent.length() > 0,
            rx.callout.root(
                rx.callout.icon(rx.icon("check")),
                rx.vstack(
                    rx.text(state.refer_success, weight="medium", size="2"),
                    _lines(state.refer_sent),
                    spacing="1",
                ),
                color_scheme="green",
                width="100%",
                id="refer-success",
            ),
        ),
        rx.cond(
            state.refer_skipped.length() > 0,
            rx.callout.root(
                rx.callout.icon(rx.icon("info")),
                rx.vstack(
                    rx.cond(
                        state.refer_sent.length() > 0,
                        rx.text("Skipped:", weight="medium", size="2"),
                        rx.text(state.refer_success, weight="medium", size="2"),
                    ),
                    _lines(state.refer_skipped),
                    spacing="1",
                ),
                color_scheme="amber",
                width="100%",
                id="refer-skipped",
            ),
        ),
    )
