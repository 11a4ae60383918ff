"""The CSV import page."""

import logging

import reflex as rx

from chub_ui.components.layout import app_page, error_callout, field_label
from chub_ui.settings import settings
from chub_ui.state.importing import UPLOAD_ID, ImportState

logger = logging.getLogger(__name__)


def import_page() -> rx.Component:
    """Pick a CSV file and import its rows as leads or contacts."""
    limit_mb = settings.import_max_bytes // (1024 * 1024)
    return app_page(
        rx.heading("Import from CSV or vCard", size="6"),
        rx.text(
            "CSV exports of Odoo, Krayin, Salesforce and most CRMs work: the "
            "columns are recognised by their names. vCard files (2.1, 3.0 and "
            "4.0) from phones and address books work too; photos are skipped. "
            "Either every row is imported, or nothing is and the rows that "
            "failed are named.",
            color_scheme="gray",
        ),
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
            ),
            align="center",
        ),
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
        rx.hstack(
            rx.foreach(rx.selected_files(UPLOAD_ID), lambda name: rx.badge(name)),
        ),
        rx.button(
            "Import",
            on_click=[
                ImportState.start_import,
                ImportState.handle_import(
                    rx.upload_files(
                        upload_id=UPLOAD_ID, on_upload_progress=ImportState.track_upload
                    )
                ),
            ],
            loading=ImportState.is_importing,
            id="import-submit",
        ),
        rx.cond(
            ImportState.is_importing,
            rx.progress(value=ImportState.upload_percent, width="100%"),
        ),
        error_callout(ImportState.import_error),
        rx.cond(
            ImportState.import_result != "",
            rx.callout(
                ImportState.import_result,
                icon="check",
                color_scheme="green",
                width="100%",
                id="import-result",
            ),
        ),
        rx.foreach(ImportState.import_notes, lambda note: rx.text(note, size="2")),
    )
