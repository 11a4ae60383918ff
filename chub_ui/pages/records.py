"""The CRM's lead and contact lists and the record page with Edit and Refer."""

import logging

import reflex as rx

from chub_ui import routes, styles
from chub_ui.components.layout import (
    app_page,
    error_callout,
    field_label,
    field_list,
)
from chub_ui.components.refer_dialog import refer_dialog, refer_outcome
from chub_ui.components.tables import filter_select, searchable_table
from chub_ui.components.tags import tag_toggle
from chub_ui.models import ITEM_RECORD
from chub_ui.services import records
from chub_ui.state.records import RecordsState

logger = logging.getLogger(__name__)

# The form's fields: name, caption, and whether it takes several lines.
FORM_LAYOUT = (
    ("name", "Name *", False),
    ("company", "Company", False),
    ("job_title", "Job title", False),
    ("email", "E-mail", False),
    ("phone", "Phone", False),
    ("website", "Website", False),
    ("other_emails", "Other e-mails (comma-separated)", False),
    ("other_phones", "Other phones (comma-separated)", False),
    ("street", "Street", False),
    ("city", "City", False),
    ("region", "State or region", False),
    ("postal_code", "Postal code", False),
    ("country", "Country", False),
    ("source", "Source", False),
    ("labels", "Labels (comma-separated)", False),
    ("description", "Description", True),
)
TAG_OPTIONS = (
    (records.ANY, "Any tag"),
    ("important", "Important"),
    ("unimportant", "Unimportant"),
    (records.TAG_NONE, "No tag"),
)
REFERRED_OPTIONS = (
    (records.ANY, "Referred or not"),
    (records.REFERRED_YES, "Referred"),
    (records.REFERRED_NO, "Never referred"),
)
STATE_COLORS = (
    ("invited", "blue"),
    ("pending", "blue"),
    ("accepted", "cyan"),
    ("viewed", "indigo"),
    ("saved", "green"),
    ("declined", "orange"),
    ("revoked", "red"),
    ("expired", "gray"),
)


def _form_field(name: str, caption: str, multiline: bool) -> rx.Component:
    element_id = f"record-{name}"
    control = rx.text_area if multiline else rx.input
    has_error = RecordsState.field_errors.contains(name)
    return rx.box(
        field_label(caption, element_id),
        control(
            name=name,
            id=element_id,
            default_value=RecordsState.form_values[name],
            max_length=records.column_length(name),
            width="100%",
            color_scheme=rx.cond(has_error, "red", "gray"),
            aria_invalid=rx.cond(has_error, "true", "false"),
            **({"rows": "4"} if multiline else {}),
        ),
        rx.cond(
            has_error,
            rx.text(
                RecordsState.field_errors[name],
                color_scheme="red",
                size="1",
                id=f"record-{name}-error",
            ),
        ),
        grid_column="1 / -1" if multiline else None,
    )


def record_form(*, on_submit, on_cancel, submit_label: str) -> rx.Component:
    """The fields of a lead or contact, for New and Edit, with their refusals."""
    return rx.form(
        rx.vstack(
            error_callout(RecordsState.form_error),
            rx.grid(
                *[_form_field(*field) for field in FORM_LAYOUT],
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            rx.hstack(
                rx.button("Cancel", variant="soft", type="button", on_click=on_cancel),
                rx.button(submit_label, type="submit", id="record-save"),
                justify="end",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        on_submit=on_submit,
        reset_on_submit=False,
        width="100%",
    )


def _new_record_dialog(word: str) -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(rx.icon("plus", size=16), f"New {word}", id="record-new")
        ),
        rx.dialog.content(
            rx.dialog.title(f"New {word}"),
            record_form(
                on_submit=RecordsState.submit_new_record,
                on_cancel=RecordsState.set_form_open(False),
                submit_label=f"Add {word}",
            ),
            max_width="720px",
        ),
        open=RecordsState.form_open,
        on_open_change=RecordsState.set_form_open,
    )


def _row(item) -> rx.Component:
    href = "/records/" + item["id"].to_string()
    return rx.table.row(
        rx.table.cell(
            rx.checkbox(
                checked=RecordsState.selected.contains(item["id"]),
                on_change=RecordsState.toggle_selected(item["id"]),
                id="select-" + item["id"].to_string(),
                aria_label=f"Select {item['name']}",
            ),
            # Ticking the box must not open the record like the rest of the row.
            on_click=rx.stop_propagation,
        ),
        rx.table.cell(rx.link(item["name"], href=href)),
        rx.table.cell(item["company"]),
        rx.table.cell(item["email"]),
        rx.table.cell(item["phone"]),
        rx.table.cell(item["city"]),
        rx.table.cell(tag_toggle(RecordsState, ITEM_RECORD, item["id"], item["tag"])),
        on_click=rx.redirect(href),
        style=styles.clickable_row_style,
    )


def _filters() -> tuple[rx.Component, ...]:
    return (
        filter_select(
            element_id="filter-tag",
            label="Tag",
            value=RecordsState.tag_filter,
            on_change=RecordsState.set_tag_filter,
            options=TAG_OPTIONS,
        ),
        filter_select(
            element_id="filter-source",
            label="Source",
            value=RecordsState.source_filter,
            on_change=RecordsState.set_source_filter,
            options=((records.ANY, "Any source"),),
            more_options=RecordsState.source_options,
        ),
        filter_select(
            element_id="filter-referred",
            label="Referred",
            value=RecordsState.referred_filter,
            on_change=RecordsState.set_referred_filter,
            options=REFERRED_OPTIONS,
        ),
        filter_select(
            element_id="sort-by",
            label="Sort by",
            value=RecordsState.sort_by,
            on_change=RecordsState.set_sort_by,
            options=tuple(records.SORT_OPTIONS.items()),
        ),
    )


def _selection_bar() -> rx.Component:
    count = RecordsState.selected.length()
    return rx.hstack(
        rx.text(count.to_string() + " selected", size="2", color_scheme="gray"),
        rx.button(
            rx.icon("send", size=16),
            "Refer selected",
            on_click=RecordsState.open_refer_selected,
            disabled=count == 0,
            id="refer-selected",
        ),
        rx.cond(
            count > 0,
            rx.button(
                "Clear selection",
                variant="ghost",
                on_click=RecordsState.clear_selection,
                id="selection-clear",
            ),
        ),
        align="center",
        spacing="3",
    )


def _records_page(title: str, word: str) -> rx.Component:
    return app_page(
        rx.hstack(
            rx.heading(title, size="6"),
            rx.spacer(),
            _new_record_dialog(word),
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
            wrap="wrap",
        ),
        error_callout(RecordsState.tag_error),
        error_callout(RecordsState.list_error),
        rx.cond(~RecordsState.refer_open, error_callout(RecordsState.refer_error)),
        refer_outcome(RecordsState),
        _selection_bar(),
        searchable_table(
            RecordsState,
            element_id="record",
            headers=(
                rx.checkbox(
                    checked=RecordsState.is_page_selected,
                    on_change=RecordsState.select_page,
                    id="select-page",
                    aria_label="Select every record on this page",
                ),
                "Name",
                "Company",
                "E-mail",
                "Phone",
                "City",
                "Tag",
            ),
            row=_row,
            empty=(
                "inbox",
                f"No {title.lower()} yet",
                f"Add one with New {word}, or import a CSV or vCard file.",
            ),
            no_match="Nothing matches the search and filters.",
            filters=_filters(),
            is_filtered=RecordsState.is_filtered,
        ),
        refer_dialog(RecordsState),
    )


def leads_page() -> rx.Component:
    """The account's leads."""
    return _records_page("Leads", "lead")


def contacts_page() -> rx.Component:
    """The account's contacts."""
    return _records_page("Contacts", "contact")


def _history_row(item) -> rx.Component:
    href = routes.SENT + "/" + item["id"].to_string()
    return rx.table.row(
        rx.table.cell(rx.link(item["recipient_email"], href=href)),
        rx.table.cell(item["sent_at"]),
        rx.table.cell(
            rx.badge(
                item["state"],
                color_scheme=rx.match(item["state"], *STATE_COLORS, "gray"),
            )
        ),
        rx.table.cell(item["mail_status"]),
        on_click=rx.redirect(href),
        style=styles.clickable_row_style,
    )


def _history() -> rx.Component:
    return rx.cond(
        RecordsState.history.length() > 0,
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    *[
                        rx.table.column_header_cell(name)
                        for name in ("To", "When", "State", "E-mail")
                    ]
                )
            ),
            rx.table.body(rx.foreach(RecordsState.history, _history_row)),
            width="100%",
            id="referral-history",
        ),
        rx.text("Not referred to anyone yet.", color_scheme="gray", size="2"),
    )


def _delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(
            rx.button(
                rx.icon("trash-2", size=16),
                "Delete",
                color_scheme="red",
                variant="soft",
                id="record-delete",
            )
        ),
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete ", RecordsState.record["name"], "?"),
            rx.alert_dialog.description(
                "This cannot be undone. Referrals that are over go with it; "
                "open referrals must be revoked first.",
                size="2",
            ),
            rx.vstack(
                error_callout(RecordsState.delete_error),
                rx.hstack(
                    rx.alert_dialog.cancel(rx.button("Keep it", variant="soft")),
                    rx.button(
                        "Delete",
                        color_scheme="red",
                        on_click=RecordsState.confirm_delete,
                        id="record-delete-confirm",
                    ),
                    justify="end",
                    width="100%",
                ),
                margin_top="1rem",
                spacing="3",
            ),
        ),
        open=RecordsState.delete_open,
        on_open_change=RecordsState.set_delete_open,
    )


def _record_view() -> rx.Component:
    record = RecordsState.record
    return rx.vstack(
        rx.hstack(
            rx.heading(record["name"], size="6", id="record-name"),
            rx.badge(record["kind"], size="2"),
            tag_toggle(RecordsState, ITEM_RECORD, record["id"], record["tag"]),
            rx.spacer(),
            rx.button(
                rx.icon("pencil", size=16),
                "Edit",
                variant="soft",
                on_click=RecordsState.start_edit,
                id="record-edit",
            ),
            _delete_dialog(),
            refer_dialog(
                RecordsState,
                trigger=rx.button(rx.icon("send", size=16), "Refer", id="refer-open"),
            ),
            width="100%",
            align="center",
            wrap="wrap",
        ),
        error_callout(RecordsState.form_error),
        refer_outcome(RecordsState),
        rx.card(
            field_list(record["fields"]),
            rx.cond(
                record["labels"] != "",
                rx.text("Labels: ", record["labels"], size="2", margin_top="0.5rem"),
            ),
            width="100%",
        ),
        rx.heading("Referring history", size="4"),
        _history(),
        width="100%",
        spacing="4",
    )


def _record_editor() -> rx.Component:
    # The form replaces the page's heading, so "record-name" stays one element.
    return rx.vstack(
        rx.heading("Edit ", RecordsState.record["name"], size="6"),
        rx.card(
            record_form(
                on_submit=RecordsState.submit_edit,
                on_cancel=RecordsState.cancel_edit,
                submit_label="Save",
            ),
            width="100%",
        ),
        width="100%",
        spacing="4",
    )


def record_page() -> rx.Component:
    """One lead or contact: its fields, Edit, Delete, Refer and its history."""
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
            rx.cond(RecordsState.is_editing, _record_editor(), _record_view()),
            rx.cond(RecordsState.record_error == "", rx.spinner()),
        ),
    )
