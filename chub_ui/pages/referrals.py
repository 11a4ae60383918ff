"""The Referral module: the list of referred records and one referral."""

import logging

import reflex as rx

from chub_ui import routes, styles
from chub_ui.components.layout import (
    BELL_REFRESH_MS,
    app_page,
    error_callout,
    field_label,
    field_list,
)
from chub_ui.components.tables import searchable_table
from chub_ui.components.tags import tag_toggle
from chub_ui.models import ITEM_RECORD
from chub_ui.services.referral_lifecycle import MAX_DECLINE_REASON
from chub_ui.state.referrals import ReferralsState

logger = logging.getLogger(__name__)


def _row(item) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(item["name"], href="/referrals/" + item["id"].to_string())
        ),
        rx.table.cell(item["company"]),
        rx.table.cell(rx.badge(item["kind"], variant="soft")),
        rx.table.cell(item["referrer"]),
        rx.table.cell(item["referred_at"]),
        rx.table.cell(
            tag_toggle(ReferralsState, ITEM_RECORD, item["record_id"], item["tag"])
        ),
        on_click=rx.redirect("/referrals/" + item["id"].to_string()),
        style=styles.clickable_row_style,
    )


def referrals_page() -> rx.Component:
    """Leads and contacts referred to the signed-in user."""
    return app_page(
        rx.heading("Referral", size="6"),
        rx.text(
            "Leads and contacts your partners referred to you, newest first.",
            color_scheme="gray",
        ),
        error_callout(ReferralsState.tag_error),
        searchable_table(
            ReferralsState,
            element_id="referral",
            headers=("Name", "Company", "Type", "Referred by", "When", "Tag"),
            row=_row,
            empty=(
                "inbox",
                "Nothing referred to you yet",
                "When a partner refers a lead or a contact to your e-mail address, "
                "it appears here.",
            ),
            no_match="No referral matches the search.",
        ),
    )


def _duplicate(item) -> rx.Component:
    return rx.hstack(
        rx.link(item["name"], href=item["link"], weight="medium"),
        rx.text(item["company"], color_scheme="gray", size="2"),
        rx.badge(item["reason"], color_scheme="amber"),
        align="center",
        class_name="duplicate",
    )


def _save_as() -> rx.Component:
    """Save As for the paid plan; on the free plan, why it is locked."""
    result = ReferralsState.save_result
    return rx.card(
        rx.vstack(
            rx.cond(
                ReferralsState.is_paid,
                rx.hstack(
                    rx.text("Save a copy in your CRM as", size="2"),
                    rx.button(
                        "My lead",
                        size="2",
                        variant="soft",
                        on_click=ReferralsState.save_as("lead", False),
                        id="save-as-lead",
                    ),
                    rx.button(
                        "My contact",
                        size="2",
                        variant="soft",
                        on_click=ReferralsState.save_as("contact", False),
                        id="save-as-contact",
                    ),
                    align="center",
                ),
                rx.hstack(
                    rx.icon("lock", size=16),
                    rx.text(
                        "Save As copies this into your own leads or contacts on "
                        "the paid plan. ",
                        rx.link("Compare the plans", href=routes.UPGRADE),
                        size="2",
                    ),
                    align="center",
                    id="save-as-locked",
                ),
            ),
            error_callout(ReferralsState.save_error),
            rx.match(
                result["status"],
                (
                    "duplicates",
                    rx.vstack(
                        rx.text(
                            "You may have this already. Open the existing record, "
                            "or create a copy anyway:",
                            size="2",
                        ),
                        rx.foreach(ReferralsState.duplicates, _duplicate),
                        rx.button(
                            "Create anyway",
                            size="2",
                            on_click=ReferralsState.save_as(
                                result["kind"].to(str), True
                            ),
                            id="save-as-anyway",
                        ),
                        id="save-as-duplicates",
                    ),
                ),
                (
                    "created",
                    rx.callout.root(
                        rx.callout.icon(rx.icon("check")),
                        rx.callout.text(
                            "Saved as your own ",
                            result["kind"],
                            ". ",
                            rx.link("Open it", href=result["link"].to(str)),
                        ),
                        color_scheme="green",
                        id="save-as-done",
                    ),
                ),
                (
                    "exists",
                    rx.callout.root(
                        rx.callout.icon(rx.icon("info")),
                        rx.callout.text(
                            "You saved this referral already. ",
                            rx.link("Open your copy", href=result["link"].to(str)),
                        ),
                        id="save-as-done",
                    ),
                ),
                rx.fragment(),
            ),
            width="100%",
        ),
        width="100%",
    )


def _decline_dialog() -> rx.Component:
    """Decline, with an optional reason the referrer reads."""
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("circle-x", size=16),
                "Decline",
                variant="soft",
                color_scheme="orange",
                id="referral-decline",
            )
        ),
        rx.dialog.content(
            rx.dialog.title("Decline this referral?"),
            rx.dialog.description(
                "The referrer is told, and the referral leaves your list.",
                size="2",
                margin_bottom="0.75rem",
            ),
            rx.form(
                rx.vstack(
                    error_callout(ReferralsState.decline_error),
                    field_label("Reason (optional)", "decline-reason"),
                    rx.text_area(
                        name="reason",
                        id="decline-reason",
                        max_length=MAX_DECLINE_REASON,
                        rows="4",
                        width="100%",
                    ),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Keep it", variant="soft", type="button")
                        ),
                        rx.button(
                            "Decline",
                            type="submit",
                            color_scheme="orange",
                            id="decline-confirm",
                        ),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                ),
                on_submit=ReferralsState.decline_referral,
                reset_on_submit=False,
            ),
        ),
        open=ReferralsState.decline_open,
        on_open_change=ReferralsState.set_decline_open,
    )


def _gone() -> rx.Component:
    """Why the referral is no longer shown: revoked, expired or declined."""
    return rx.callout.root(
        rx.callout.icon(rx.icon("ban")),
        rx.callout.text(
            ReferralsState.gone_message,
            " ",
            rx.link("Back to your referrals", href=routes.REFERRALS),
        ),
        color_scheme="amber",
        width="100%",
        id="referral-gone",
    )


def referral_detail_page() -> rx.Component:
    """Every field of a referred record, the referrer and their message."""
    detail = ReferralsState.detail
    return app_page(
        rx.link("← Referral", href=routes.REFERRALS, size="2"),
        error_callout(ReferralsState.detail_error),
        rx.cond(ReferralsState.gone_message != "", _gone()),
        rx.cond(
            (ReferralsState.detail_error == "") & (ReferralsState.gone_message == ""),
            rx.cond(
                ReferralsState.detail.contains("name"),
                rx.vstack(
                    rx.hstack(
                        rx.heading(detail["name"], size="6", id="detail-name"),
                        rx.badge(detail["kind"], size="2"),
                        rx.spacer(),
                        tag_toggle(
                            ReferralsState,
                            ITEM_RECORD,
                            detail["record_id"],
                            detail["tag"],
                        ),
                        rx.cond(detail["can_decline"], _decline_dialog()),
                        align="center",
                        width="100%",
                    ),
                    error_callout(ReferralsState.tag_error),
                    rx.card(
                        rx.vstack(
                            rx.text(
                                "Referred by ",
                                rx.text.strong(detail["referrer_name"]),
                                " (",
                                detail["referrer_email"],
                                ") on ",
                                detail["referred_at"],
                                size="2",
                            ),
                            rx.cond(
                                detail["expires_at"] != "",
                                rx.text(
                                    "You can open it until ",
                                    detail["expires_at"],
                                    ".",
                                    size="2",
                                    color_scheme="gray",
                                    id="detail-expires",
                                ),
                            ),
                            rx.cond(
                                detail["message"] != "",
                                rx.blockquote(detail["message"], id="detail-message"),
                                rx.text("No message.", size="2", color_scheme="gray"),
                            ),
                        ),
                        width="100%",
                    ),
                    _save_as(),
                    rx.card(field_list(detail["fields"]), width="100%"),
                    width="100%",
                    spacing="4",
                ),
                rx.spinner(),
            ),
        ),
        # A timer whose every tick asks whether the referral may still be seen,
        # so a revoked one vanishes from a page that is open.
        rx.moment(
            interval=BELL_REFRESH_MS,
            format="HH:mm:ss",
            on_change=ReferralsState.check_access,
            display="none",
        ),
    )
