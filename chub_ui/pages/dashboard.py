"""The referrer's dashboard: totals, referrals per day, top partners and records."""

import logging

import reflex as rx

from chub_ui import routes
from chub_ui.components.layout import app_page, empty_state, error_callout
from chub_ui.components.tables import filter_select
from chub_ui.state.dashboard import PERIODS, DashboardState

logger = logging.getLogger(__name__)

# Each total's card: the key in the service's totals, its title, its icon.
TOTAL_CARDS = (
    ("sent", "Sent", "send"),
    ("accepted", "Accepted", "mail-check"),
    ("viewed", "Viewed", "eye"),
    ("saved", "Saved", "bookmark-check"),
    ("declined", "Declined", "circle-x"),
)
# The chart's lines: the key in each day of the series, its name, its colour.
CHART_LINES = (
    ("sent", "Sent", "var(--indigo-9)"),
    ("accepted", "Accepted", "var(--cyan-9)"),
    ("saved", "Saved", "var(--green-9)"),
)


def _total(key: str, title: str, icon: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.icon(icon, size=16), rx.text(title, size="2"), align="center"),
            rx.heading(DashboardState.totals[key], size="7"),
            spacing="1",
        ),
        flex="1",
        min_width="120px",
        id=f"dashboard-{key}",
    )


def _chart() -> rx.Component:
    return rx.card(
        rx.heading("Per day", size="4", margin_bottom="0.5rem"),
        rx.recharts.line_chart(
            *[
                rx.recharts.line(
                    data_key=key, name=name, stroke=colour, type_="monotone", dot=False
                )
                for key, name, colour in CHART_LINES
            ],
            rx.recharts.x_axis(data_key="day"),
            rx.recharts.y_axis(allow_decimals=False),
            rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
            rx.recharts.graphing_tooltip(),
            rx.recharts.legend(),
            data=DashboardState.series,
            width="100%",
            height=300,
        ),
        width="100%",
        id="dashboard-chart",
    )


def _top_table(element_id: str, headers: tuple[str, ...], rows, row) -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(*[rx.table.column_header_cell(title) for title in headers])
        ),
        rx.table.body(rx.foreach(rows, row)),
        width="100%",
        id=element_id,
    )


def _partner(partner) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(partner["name"], weight="medium"),
                rx.text(partner["email"], size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(partner["sent"]),
        rx.table.cell(partner["accepted"]),
        rx.table.cell(partner["saved"]),
    )


def _record(record) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(record["name"], href="/records/" + record["id"].to_string())
        ),
        rx.table.cell(record["kind"]),
        rx.table.cell(record["referrals"]),
    )


def _numbers() -> rx.Component:
    return rx.vstack(
        rx.hstack(*[_total(*card) for card in TOTAL_CARDS], wrap="wrap", width="100%"),
        _chart(),
        rx.grid(
            rx.card(
                rx.heading("Top partners", size="4", margin_bottom="0.5rem"),
                _top_table(
                    "dashboard-partners",
                    ("Partner", "Sent", "Accepted", "Saved"),
                    DashboardState.top_partners,
                    _partner,
                ),
            ),
            rx.card(
                rx.heading("Most referred records", size="4", margin_bottom="0.5rem"),
                _top_table(
                    "dashboard-records",
                    ("Record", "Type", "Referrals"),
                    DashboardState.top_records,
                    _record,
                ),
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        width="100%",
        spacing="4",
    )


def dashboard_page() -> rx.Component:
    """What the account's referrals became, per day and per partner."""
    return app_page(
        rx.hstack(
            rx.heading("Dashboard", size="6"),
            rx.spacer(),
            filter_select(
                element_id="dashboard-days",
                label="Period",
                value=DashboardState.days,
                on_change=DashboardState.set_days,
                options=tuple((days, f"Last {days} days") for days in PERIODS),
            ),
            width="100%",
            align="center",
        ),
        error_callout(DashboardState.dashboard_error),
        rx.cond(
            DashboardState.is_loading,
            rx.spinner(),
            rx.cond(
                DashboardState.has_referrals,
                _numbers(),
                rx.box(
                    empty_state(
                        "chart-line",
                        "Nothing sent in this period",
                        "Refer a lead or a contact from its page, or share a document "
                        "from your Library, and its progress appears here.",
                    ),
                    rx.link("See every sent referral", href=routes.SENT, size="2"),
                    width="100%",
                    id="dashboard-empty",
                ),
            ),
        ),
    )
