"""The referrer's Sent referrals list and the timeline of one referral."""

import logging

import reflex as rx

from chub_ui import routes, styles
from chub_ui.components.layout import (
    BELL_REFRESH_MS,
    app_page,
    error_callout,
    field_label,
)
from chub_ui.components.tables import filter_select, searchable_table
from chub_ui.services.referral_lifecycle import STATES
from chub_ui.state.sent import EVERY_STATE, SentState, SentTimelineState

logger = logging.getLogger(__name__)

# The colour of each state's badge: open ones cool, ended ones warm.
STATE_COLORS = {
    "invited": "gray",
    "accepted": "blue",
    "viewed": "cyan",
    "saved": "green",
    "declined": "orange",
    "revoked": "red",
    "expired": "amber",
}


def state_badge(state) -> rx.Component:
    """The state of a referral as a coloured badge."""
    return rx.badge(
        state,
        color_scheme=rx.match(state, *STATE_COLORS.items(), "gray"),
        variant="soft",
        class_name="state-badge",
    )


def mail_status(status, error) -> rx.Component:
    """The invitation e-mail's state, with the reason when it failed."""
    return rx.cond(
        error != "",
        rx.text(status, ": ", error, color=rx.color("red", 11), size="2"),
        rx.text(status, size="2"),
    )


def _row(item) -> rx.Component:
    href = "/sent/" + item["id"].to_string()
    return rx.table.row(
        rx.table.cell(rx.link(item["item_label"], href=href)),
        rx.table.cell(rx.badge(item["item_kind"], variant="outline")),
        rx.table.cell(item["recipient_email"]),
        rx.table.cell(state_badge(item["state"])),
        rx.table.cell(mail_status(item["mail_status"], item["mail_error"])),
        rx.table.cell(item["sent_at"]),
        rx.table.cell(rx.cond(item["expires_at"] != "", item["expires_at"], "Never")),
        on_click=rx.redirect(href),
        style=styles.clickable_row_style,
        class_name="sent-row",
    )


def _state_filter() -> rx.Component:
    return filter_select(
        element_id="sent-state-filter",
        label="State",
        value=SentState.state_filter,
        on_change=SentState.set_state_filter,
        options=(
            (EVERY_STATE, "Every state"),
            *[(state, state.capitalize()) for state in STATES],
        ),
    )


def sent_page() -> rx.Component:
    """Every referral the account sent, with its state and its e-mail."""
    return app_page(
        rx.heading("Sent referrals", size="6"),
        rx.text(
            "What you and your team referred, to whom, and what became of it.",
            color_scheme="gray",
        ),
        error_callout(SentState.list_error),
        searchable_table(
            SentState,
            element_id="sent",
            headers=("Item", "Type", "Recipient", "State", "E-mail", "Sent", "Expires"),
            row=_row,
            empty=(
                "send",
                "Nothing sent yet",
                "Refer a lead or a contact from its page, or share a document from "
                "your Library; it appears here with everything that happens to it.",
            ),
            no_match="No sent referral matches the search and state.",
            placeholder="Search by item or recipient",
            filters=(_state_filter(),),
            is_filtered=(SentState.search != "")
            | (SentState.state_filter != EVERY_STATE),
        ),
    )


def _summary_line(label: str, value) -> rx.Component:
    return rx.data_list.item(rx.data_list.label(label), rx.data_list.value(value))


def _summary() -> rx.Component:
    timeline = SentTimelineState.timeline
    return rx.card(
        rx.data_list.root(
            _summary_line(
                "Item",
                rx.cond(
                    timeline["item_link"] != "",
                    rx.link(timeline["item_label"], href=timeline["item_link"].to(str)),
                    rx.text(timeline["item_label"]),
                ),
            ),
            _summary_line("Type", timeline["item_kind"]),
            _summary_line("Recipient", timeline["recipient_email"]),
            _summary_line("State", state_badge(timeline["state"])),
            _summary_line(
                "E-mail", mail_status(timeline["mail_status"], timeline["mail_error"])
            ),
            _summary_line("Sent", timeline["sent_at"]),
            _summary_line(
                "Expires",
                rx.cond(timeline["expires_at"] != "", timeline["expires_at"], "Never"),
            ),
            _summary_line(
                "Message",
                rx.cond(
                    timeline["message"] != "",
                    rx.text(timeline["message"], white_space="pre-wrap"),
                    rx.text("No message.", color_scheme="gray"),
                ),
            ),
            rx.cond(
                timeline["decline_reason"] != "",
                _summary_line(
                    "Decline reason",
                    rx.text(
                        timeline["decline_reason"],
                        white_space="pre-wrap",
                        id="sent-decline-reason",
                    ),
                ),
            ),
            size="2",
        ),
        width="100%",
        id="sent-summary",
    )


def _event(event) -> rx.Component:
    return rx.hstack(
        rx.box(
            width="10px",
            height="10px",
            border_radius="50%",
            background=rx.color(styles.BRAND_COLOR, 9),
            margin_top="0.35rem",
            flex_shrink="0",
        ),
        rx.vstack(
            rx.text(rx.text.strong(event["label"]), size="2"),
            rx.text(
                event["at"],
                rx.cond(event["actor"] != "", " · " + event["actor"].to(str), ""),
                size="1",
                color_scheme="gray",
            ),
            rx.cond(
                event["detail"] != "",
                rx.text(event["detail"], size="2", white_space="pre-wrap"),
            ),
            spacing="1",
        ),
        border_left=f"2px solid {rx.color('gray', 6)}",
        padding_left="0.75rem",
        padding_bottom="0.75rem",
        align="start",
        width="100%",
        class_name="timeline-event",
    )


def _revoke_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                rx.icon("ban", size=16),
                "Revoke",
                color_scheme="red",
                variant="soft",
                id="sent-revoke",
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Revoke this referral?"),
            rx.alert_dialog.description(
                "The recipient loses access at once, also on a page they have open. "
                "This cannot be undone; you can refer the item again later.",
                size="2",
            ),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Keep it", variant="soft")),
                rx.alert_dialog.action(
                    rx.button(
                        "Revoke",
                        color_scheme="red",
                        on_click=SentTimelineState.revoke_referral,
                        id="sent-revoke-confirm",
                    )
                ),
                justify="end",
                width="100%",
                margin_top="1rem",
            ),
        ),
        open=SentTimelineState.revoke_open,
        on_open_change=SentTimelineState.set_revoke_open,
    )


def _actions() -> rx.Component:
    can_resend = SentTimelineState.timeline["can_resend"].to(bool)
    return rx.vstack(
        rx.hstack(
            rx.cond(
                can_resend,
                rx.fragment(
                    rx.button(
                        rx.icon("send", size=16),
                        "Resend invitation",
                        variant="soft",
                        on_click=SentTimelineState.resend_invitation,
                        id="sent-resend",
                    ),
                    rx.button(
                        rx.icon("link", size=16),
                        "Copy invitation link",
                        variant="soft",
                        on_click=SentTimelineState.copy_invitation_link,
                        id="sent-copy-link",
                    ),
                ),
            ),
            rx.cond(SentTimelineState.timeline["can_revoke"], _revoke_dialog()),
            wrap="wrap",
        ),
        error_callout(SentTimelineState.action_error),
        rx.cond(
            SentTimelineState.action_success != "",
            rx.callout(
                SentTimelineState.action_success,
                icon="check",
                color_scheme="green",
                width="100%",
                id="sent-success",
            ),
        ),
        rx.cond(
            SentTimelineState.invitation_link != "",
            rx.vstack(
                field_label("Invitation link", "sent-link"),
                rx.input(
                    value=SentTimelineState.invitation_link,
                    read_only=True,
                    width="100%",
                    id="sent-link",
                    on_focus=rx.call_script(
                        "document.getElementById('sent-link').select()"
                    ),
                ),
                width="100%",
            ),
        ),
        width="100%",
    )


def sent_detail_page() -> rx.Component:
    """One sent referral: its summary, its events, and what the referrer can do."""
    return app_page(
        rx.link("← Sent referrals", href=routes.SENT, size="2"),
        error_callout(SentTimelineState.timeline_error),
        rx.cond(
            SentTimelineState.timeline.contains("id"),
            rx.vstack(
                rx.heading(
                    "Referral of ", SentTimelineState.timeline["item_label"], size="6"
                ),
                _summary(),
                _actions(),
                rx.heading("Timeline", size="4"),
                rx.vstack(
                    rx.foreach(
                        SentTimelineState.timeline["events"].to(list[dict]), _event
                    ),
                    spacing="0",
                    width="100%",
                    id="sent-timeline",
                ),
                width="100%",
                spacing="4",
            ),
            rx.cond(SentTimelineState.timeline_error == "", rx.spinner()),
        ),
        # A timer whose every tick reads the timeline again, so the e-mail's
        # delivery and the recipient's actions appear without a reload.
        rx.moment(
            interval=BELL_REFRESH_MS,
            format="HH:mm:ss",
            on_change=SentTimelineState.refresh_timeline,
            display="none",
        ),
    )
