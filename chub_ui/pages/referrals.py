"""The Referral module: the list of referred records and one referral."""

import logging

import reflex as rx

from chub_ui import routes, styles
from chub_ui.components.layout import app_page, error_callout, field_list
from chub_ui.components.tables import searchable_table
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
        searchable_table(
            ReferralsState,
            element_id="referral",
            headers=("Name", "Company", "Type", "Referred by", "When"),
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


def referral_detail_page() -> rx.Component:
    """Every field of a referred record, the referrer and their message."""
    detail = ReferralsState.detail
    return app_page(
        rx.link("← Referral", href=routes.REFERRALS, size="2"),
        error_callout(ReferralsState.detail_error),
        rx.cond(
            ReferralsState.detail_error == "",
            rx.cond(
                ReferralsState.detail.contains("name"),
                rx.vstack(
                    rx.hstack(
                        rx.heading(detail["name"], size="6", id="detail-name"),
                        rx.badge(detail["kind"], size="2"),
                        align="center",
                    ),
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
                                detail["message"] != "",
                                rx.blockquote(detail["message"], id="detail-message"),
                                rx.text("No message.", size="2", color_scheme="gray"),
                            ),
                        ),
                        width="100%",
                    ),
                    rx.card(field_list(detail["fields"]), width="100%"),
                    width="100%",
                    spacing="4",
                ),
                rx.spinner(),
            ),
        ),
    )
