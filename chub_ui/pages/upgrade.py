"""The upgrade page: the two plans side by side."""

import logging

import reflex as rx

from chub_ui.components.layout import app_page, error_callout
from chub_ui.state.plans import PlansState

logger = logging.getLogger(__name__)


def _plan_card(card) -> rx.Component:
    is_current = PlansState.user["plan"] == card["plan"]
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(card["name"], size="5"),
                rx.cond(is_current, rx.badge("Your plan", color_scheme="green")),
                align="center",
            ),
            rx.text(card["price_text"], color_scheme="gray"),
            rx.foreach(
                card["features"].to(list[str]),
                lambda text: rx.hstack(
                    rx.icon("check", size=16, color=rx.color("green", 9)),
                    rx.text(text, size="2"),
                ),
            ),
            rx.foreach(
                card["missing"].to(list[str]),
                lambda text: rx.hstack(
                    rx.icon("x", size=16, color=rx.color("gray", 8)),
                    rx.text(text, size="2", color_scheme="gray"),
                ),
            ),
            rx.spacer(),
            rx.button(
                rx.cond(
                    is_current,
                    "Current plan",
                    rx.cond(card["plan"] == "paid", "Upgrade", "Downgrade"),
                ),
                disabled=is_current,
                on_click=PlansState.choose_plan(card["plan"]),
                width="100%",
                id="choose-" + card["plan"].to(str),
            ),
            height="100%",
        ),
        flex="1",
        min_width="280px",
    )


def upgrade_page() -> rx.Component:
    """Compare free and paid; change the plan at once."""
    return app_page(
        rx.heading("Plans", size="6"),
        rx.text(
            "Upgrading gives the account the full CRM at once. Downgrading keeps "
            "every lead, contact and document, and locks the paid features until "
            "you upgrade again. No payment provider is connected yet.",
            color_scheme="gray",
        ),
        error_callout(PlansState.plan_error),
        rx.cond(
            PlansState.plan_success != "",
            rx.callout(
                PlansState.plan_success,
                icon="check",
                color_scheme="green",
                width="100%",
                id="plan-success",
            ),
        ),
        rx.flex(rx.foreach(PlansState.plan_cards, _plan_card), gap="4", wrap="wrap"),
    )
