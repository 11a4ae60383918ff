"""The CRM's lead and contact lists and the record page with Refer."""

import logging

import reflex as rx

from chub_ui import routes, styles
from chub_ui.components.invite_dialog import invite_dialog
from chub_ui.components.layout import (
    app_page,
    error_callout,
    field_list,
)
from chub_ui.components.tables import searchable_table
from chub_ui.components.tags import tag_toggle
from chub_ui.models import ITEM_RECORD
from chub_ui.state.records import RecordsState

logger = logging.getLogger(__name__)


def _row(item) -> rx.Component:
    href = "/records/" + item["id"].to_string()
    return rx.table.row(
        rx.table.cell(rx.link(item["name"], href=href)),
        rx.table.cell(item["company"]),
        rx.table.cell(item["email"]),
        rx.table.cell(item["phone"]),
        rx.table.cell(item["city"]),
        rx.table.cell(tag_toggle(RecordsState, ITEM_RECORD, item["id"], item["tag"])),
        on_click=rx.redirect(href),
        style=styles.clickable_row_style,
    )


def _records_page(title: str, empty_text: str) -> rx.Component:
    return app_page(
        rx.hstack(
            rx.heading(title, size="6"),
            rx.spacer(),
            rx.button(
                rx.icon("download", size=16),
                "Export CSV",
                variant="soft",
                on_click=RecordsState.export("csv"),
                id="export-csv",
            ),
            rx.button(
                rx.icon("contact", size=16),
                "Export vCard",
                variant="soft",
                on_click=RecordsState.export("vcf"),
                id="export-vcf",
            ),
            rx.link(
                rx.button(rx.icon("upload", size=16), "Import"), href=routes.IMPORT
            ),
            width="100%",
        ),
        error_callout(RecordsState.tag_error),
        searchable_table(
            RecordsState,
            element_id="record",
            headers=("Name", "Company", "E-mail", "Phone", "City", "Tag"),
            row=_row,
            empty=("inbox", f"No {title.lower()} yet", empty_text),
            no_match="Nothing matches the search.",
        ),
    )


def leads_page() -> rx.Component:
    """The account's leads."""
    return _records_page("Leads", "Import a CSV file of leads to get started.")


def contacts_page() -> rx.Component:
    """The account's contacts."""
    return _records_page("Contacts", "Import a CSV file of contacts to get started.")


def _refer_dialog() -> rx.Component:
    return invite_dialog(
        prefix="refer",
        title=rx.fragment("Refer ", RecordsState.record["name"]),
        item_word="record",
        address_label="Refer to",
        error=RecordsState.refer_error,
        on_submit=RecordsState.submit_referral,
        is_open=RecordsState.refer_open,
        on_open_change=RecordsState.set_refer_open,
        trigger=rx.button(rx.icon("send", size=16), "Refer", id="refer-open"),
    )


def _history() -> rx.Component:
    return rx.cond(
        RecordsState.history.length() > 0,
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(name)
                        for name in ("To", "When", "Invitation", "E-mail")
                    ]
                )
            ),
            rx.table.body(
                rx.foreach(
                    RecordsState.history,
                    lambda item: rx.table.row(
                        rx.table.cell(item["recipient_email"]),
                        rx.table.cell(item["sent_at"]),
                        rx.table.cell(rx.badge(item["state"])),
                        rx.table.cell(item["mail_status"]),
                    ),
                )
            ),
            width="100%",
            id="referral-history",
        ),
        rx.text("Not referred to anyone yet.", color_scheme="gray", size="2"),
    )


def record_page() -> rx.Component:
    """One lead or contact: its fields, Refer, and its referring history."""
    return app_page(
        rx.link(
            rx.cond(RecordsState.record["kind"] == "Lead", "← Leads", "← Contacts"),
            href=rx.cond(
                RecordsState.record["kind"] == "Lead", routes.LEADS, routes.CONTACTS
            ),
            size="2",
        ),
        error_callout(RecordsState.record_error),
        error_callout(RecordsState.tag_error),
        rx.cond(
            RecordsState.record.contains("name"),
            rx.vstack(
                rx.hstack(
                    rx.heading(RecordsState.record["name"], size="6", id="record-name"),
                    rx.badge(RecordsState.record["kind"], size="2"),
                    tag_toggle(
                        RecordsState,
                        ITEM_RECORD,
                        RecordsState.record["id"],
                        RecordsState.record["tag"],
                    ),
                    rx.spacer(),
                    _refer_dialog(),
                    width="100%",
                    align="center",
                ),
                rx.cond(
                    RecordsState.refer_success != "",
                    rx.callout(
                        RecordsState.refer_success,
                        icon="check",
                        color_scheme="green",
                        width="100%",
                        id="refer-success",
                    ),
                ),
                rx.card(field_list(RecordsState.record["fields"]), width="100%"),
                rx.heading("Referring history", size="4"),
                _history(),
                width="100%",
                spacing="4",
            ),
            rx.cond(RecordsState.record_error == "", rx.spinner()),
        ),
    )
