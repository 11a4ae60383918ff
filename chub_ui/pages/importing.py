"""The import page: upload, preview and map a CSV or vCard file, then import it."""

import logging

import reflex as rx

from chub_ui.components.layout import app_page, error_callout, field_label
from chub_ui.services.importing import FIELD_CHOICES
from chub_ui.settings import settings
from chub_ui.state.importing import UPLOAD_ID, ImportState

logger = logging.getLogger(__name__)

DUPLICATE_OPTIONS = (
    ("skip", "Skip them"),
    ("merge", "Merge them: fill empty fields, add e-mails, phones and labels"),
    ("create", "Import them as new records"),
)
_SELECT_STYLE = {"padding": "4px", "border_radius": "6px", "max_width": "14rem"}


def _kind_and_file() -> rx.Component:
    """Step one: leads or contacts, and the file."""
    limit_mb = settings.import_max_bytes // (1024 * 1024)
    return rx.vstack(
        rx.hstack(
            field_label("Import rows as", "import-kind"),
            rx.select.root(
                rx.select.trigger(id="import-kind"),
                rx.select.content(
                    rx.select.item("Contacts", value="contact"),
                    rx.select.item("Leads", value="lead"),
                ),
                value=ImportState.import_kind,
                on_change=ImportState.set_import_kind,
                disabled=ImportState.is_importing,
            ),
            align="center",
        ),
        rx.box(
            rx.upload.root(
                rx.vstack(
                    rx.icon("file-spreadsheet", size=32),
                    rx.text("Drop a CSV or vCard file here, or click to choose one."),
                    rx.text(f"Up to {limit_mb} MB.", size="1", color_scheme="gray"),
                    align="center",
                ),
                id=UPLOAD_ID,
                accept={
                    "text/csv": [".csv"],
                    "text/plain": [".csv", ".txt"],
                    "text/vcard": [".vcf", ".vcard"],
                    "text/x-vcard": [".vcf", ".vcard"],
                },
                max_files=1,
                border="2px dashed var(--accent-a7)",
                padding="2rem",
                border_radius="12px",
                width="100%",
            ),
            id="import-file",
            width="100%",
        ),
        rx.hstack(
            rx.foreach(rx.selected_files(UPLOAD_ID), lambda name: rx.badge(name)),
        ),
        rx.button(
            "Preview",
            on_click=[
                ImportState.start_upload,
                ImportState.handle_upload(
                    rx.upload_files(
                        upload_id=UPLOAD_ID, on_upload_progress=ImportState.track_upload
                    )
                ),
            ],
            loading=ImportState.is_uploading,
            disabled=ImportState.is_importing,
            id="import-submit",
        ),
        rx.cond(
            ImportState.is_uploading,
            rx.progress(value=ImportState.upload_percent, width="100%"),
        ),
        width="100%",
    )


def _mapping_select(column: rx.Var) -> rx.Component:
    """The field one CSV column goes to."""
    return rx.el.select(
        *[rx.el.option(label, value=target) for target, label in FIELD_CHOICES],
        value=column["target"],
        on_change=lambda target: ImportState.set_column_target(column["index"], target),
        disabled=ImportState.is_importing,
        id="map-" + column["index"],
        aria_label="Field for column " + column["title"],
        style=_SELECT_STYLE,
    )


def _column_head(column: rx.Var) -> rx.Component:
    return rx.table.column_header_cell(
        rx.vstack(
            rx.text(column["title"], weight="bold"),
            rx.cond(ImportState.mapping_fixed, rx.fragment(), _mapping_select(column)),
            spacing="1",
        )
    )


def _sample_table() -> rx.Component:
    """The first rows under their columns, with the mapping above them."""
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(rx.foreach(ImportState.columns, _column_head)),
            ),
            rx.table.body(
                rx.foreach(
                    ImportState.sample_rows,
                    lambda row: rx.table.row(
                        rx.foreach(row, lambda cell: rx.table.cell(cell))
                    ),
                )
            ),
            size="1",
            id="import-sample",
        ),
        overflow_x="auto",
        width="100%",
    )


def _problem_list() -> rx.Component:
    """The rows that cannot be imported, and why."""
    return rx.cond(
        ImportState.problem_count > 0,
        # callout.root, not rx.callout: rx.callout wraps its children in a <p>,
        # and a <div> or <p> inside a <p> breaks hydration.
        rx.callout.root(
            rx.callout.icon(rx.icon("triangle-alert")),
            rx.vstack(
                rx.text(ImportState.problems_heading, weight="bold"),
                rx.foreach(
                    ImportState.problems,
                    lambda item: rx.text(item["where"], ": ", item["reason"], size="2"),
                ),
                rx.cond(
                    ImportState.problem_count > ImportState.problems.length(),
                    rx.text("… and more.", size="2"),
                ),
                spacing="1",
            ),
            color_scheme="orange",
            width="100%",
            id="import-problems",
        ),
    )


def _duplicate_list() -> rx.Component:
    """Rows repeating existing records or earlier rows, and what to do."""
    return rx.cond(
        ImportState.duplicate_count > 0,
        rx.vstack(
            rx.text(ImportState.duplicates_heading, weight="bold"),
            rx.foreach(
                ImportState.duplicates,
                lambda item: rx.text(
                    item["where"],
                    " (",
                    item["name"],
                    ") repeats ",
                    rx.cond(
                        item["link"] != "",
                        rx.link(item["repeats"], href=item["link"]),
                        rx.text.span(item["repeats"]),
                    ),
                    ": ",
                    item["matched_on"],
                    size="2",
                ),
            ),
            rx.hstack(
                field_label("Duplicates", "import-duplicates"),
                rx.el.select(
                    *[
                        rx.el.option(label, value=value)
                        for value, label in DUPLICATE_OPTIONS
                    ],
                    value=ImportState.duplicate_choice,
                    on_change=ImportState.set_duplicate_choice,
                    disabled=ImportState.is_importing,
                    id="import-duplicates",
                    style=_SELECT_STYLE,
                ),
                align="center",
            ),
            width="100%",
            id="import-duplicate-list",
        ),
    )


def _import_buttons() -> rx.Component:
    """Import everything, or with problems: the good rows or nothing."""
    return rx.cond(
        ImportState.problem_count > 0,
        rx.hstack(
            rx.button(
                ImportState.import_good_label,
                on_click=ImportState.import_rows(True),
                loading=ImportState.is_importing,
                disabled=ImportState.good_rows == 0,
                id="import-good-rows",
            ),
            rx.button(
                "Import nothing",
                on_click=ImportState.import_nothing,
                disabled=ImportState.is_importing,
                variant="soft",
                color_scheme="gray",
                id="import-nothing",
            ),
        ),
        rx.hstack(
            rx.button(
                ImportState.import_all_label,
                on_click=ImportState.import_rows(False),
                loading=ImportState.is_importing,
                id="import-start",
            ),
            rx.button(
                "Cancel",
                on_click=ImportState.import_nothing,
                disabled=ImportState.is_importing,
                variant="soft",
                color_scheme="gray",
                id="import-cancel",
            ),
        ),
    )


def _preview() -> rx.Component:
    """Step two: what the file holds, its mapping, problems and duplicates."""
    return rx.cond(
        ImportState.has_preview,
        rx.card(
            rx.vstack(
                rx.heading("Preview", size="4"),
                rx.text(ImportState.summary, id="import-summary"),
                rx.cond(
                    ImportState.mapping_fixed,
                    rx.text(
                        "vCard fields go to the fields shown; other values are kept "
                        "as extra data.",
                        size="2",
                        color_scheme="gray",
                    ),
                    rx.text(
                        "Choose the field each column goes to. The guess from the "
                        "header is preselected.",
                        size="2",
                        color_scheme="gray",
                    ),
                ),
                _sample_table(),
                _problem_list(),
                _duplicate_list(),
                _import_buttons(),
                rx.cond(
                    ImportState.is_importing,
                    rx.vstack(
                        rx.progress(
                            value=ImportState.import_percent,
                            width="100%",
                            id="import-progress",
                        ),
                        rx.text(ImportState.progress_text, size="2"),
                        width="100%",
                    ),
                ),
                width="100%",
            ),
            width="100%",
        ),
    )


def import_page() -> rx.Component:
    """Pick a file, check its preview and mapping, and import it."""
    return app_page(
        rx.heading("Import from CSV or vCard", size="6"),
        rx.text(
            "CSV exports of Odoo, Krayin, Salesforce and most CRMs work: the "
            "columns are matched to fields by their names, and you can change the "
            "match. vCard files (2.1, 3.0 and 4.0) from phones and address books "
            "work too; photos are skipped. The preview shows the rows that cannot "
            "be imported and the ones you have already.",
            color_scheme="gray",
        ),
        _kind_and_file(),
        error_callout(ImportState.import_error),
        _preview(),
        rx.cond(
            ImportState.import_result != "",
            rx.callout.root(
                rx.callout.icon(rx.icon("check")),
                rx.callout.text(ImportState.import_result),
                color_scheme="green",
                width="100%",
                id="import-result",
            ),
        ),
        rx.foreach(ImportState.import_notes, lambda note: rx.text(note, size="2")),
    )
