"""The Library: documents referred to the user and their own, with uploads."""

import logging

import reflex as rx

from chub_ui import routes
from chub_ui.components.invite_dialog import invite_dialog
from chub_ui.components.layout import BELL_REFRESH_MS, app_page, error_callout
from chub_ui.components.tables import searchable_table
from chub_ui.components.tags import tag_toggle
from chub_ui.models import ITEM_DOCUMENT
from chub_ui.settings import settings
from chub_ui.state.library import UPLOAD_ID, LibraryState

logger = logging.getLogger(__name__)


def _row(item) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(item["name"], weight="medium")),
        rx.table.cell(rx.badge(item["type_label"], variant="soft")),
        rx.table.cell(item["size"]),
        rx.table.cell(
            rx.cond(
                item["is_own"],
                rx.text("You", color_scheme="gray"),
                rx.text(item["shared_by"]),
            )
        ),
        rx.table.cell(item["date"]),
        rx.table.cell(tag_toggle(LibraryState, ITEM_DOCUMENT, item["id"], item["tag"])),
        rx.table.cell(
            rx.hstack(
                rx.button(
                    rx.icon("download", size=14),
                    "Download",
                    size="1",
                    variant="soft",
                    on_click=LibraryState.download(item["id"]),
                ),
                rx.cond(
                    item["is_own"],
                    rx.button(
                        rx.icon("send", size=14),
                        "Share",
                        size="1",
                        variant="soft",
                        on_click=LibraryState.open_share(item),
                    ),
                ),
            )
        ),
        class_name="library-row",
    )


def _upload_row(row) -> rx.Component:
    return rx.hstack(
        rx.text(row["name"], size="2", width="22%", trim="both"),
        rx.progress(
            value=row["percent"],
            color_scheme=rx.match(
                row["status"], ("refused", "red"), ("stored", "green"), "indigo"
            ),
            width="22%",
        ),
        rx.text(row["received"], size="1", color_scheme="gray", width="9%"),
        rx.text(
            rx.match(
                row["status"],
                ("refused", row["message"]),
                ("stored", row["message"]),
                "Uploading…",
            ),
            size="2",
            color=rx.cond(row["status"] == "refused", rx.color("red", 11), "inherit"),
            flex="1",
        ),
        width="100%",
        align="center",
        class_name="upload-row",
    )


def _uploader() -> rx.Component:
    limit = settings.document_max_bytes // (1024 * 1024)
    return rx.card(
        rx.vstack(
            rx.upload.root(
                rx.vstack(
                    rx.icon("cloud-upload", size=28),
                    rx.text("Drop files here, or click to choose several."),
                    rx.text(
                        f"PDF, images, text, CSV and Office documents, up to "
                        f"{limit} MB each.",
                        size="1",
                        color_scheme="gray",
                    ),
                    align="center",
                ),
                id=UPLOAD_ID,
                multiple=True,
                border="2px dashed var(--accent-a7)",
                padding="1.25rem",
                border_radius="12px",
                width="100%",
            ),
            rx.hstack(
                rx.foreach(
                    rx.selected_files(UPLOAD_ID), lambda name: rx.badge(name)
                ),
                wrap="wrap",
            ),
            rx.button(
                rx.icon("upload", size=16),
                "Upload",
                on_click=[
                    LibraryState.start_upload,
                    LibraryState.receive_files(
                        rx.upload_files_chunk(
                            upload_id=UPLOAD_ID,
                            on_upload_progress=LibraryState.track_upload,
                        )
                    ),
                    rx.clear_selected_files(UPLOAD_ID),
                ],
                loading=LibraryState.is_uploading,
                id="library-upload",
            ),
            rx.cond(
                LibraryState.uploads.length() > 0,
                rx.vstack(
                    rx.text(
                        "Sent ", LibraryState.batch_percent, "% of the batch",
                        size="1", color_scheme="gray",
                    ),
                    rx.foreach(LibraryState.uploads, _upload_row),
                    width="100%",
                    id="upload-list",
                ),
            ),
            width="100%",
        ),
        width="100%",
    )  # fmt: skip


def _share_dialog() -> rx.Component:
    return invite_dialog(
        prefix="share",
        title=rx.fragment("Share ", LibraryState.share_document["name"]),
        item_word="document",
        address_label="Share with (e-mail)",
        error=LibraryState.share_error,
        on_submit=LibraryState.submit_share,
        is_open=LibraryState.share_open,
        on_open_change=LibraryState.set_share_open,
    )


def library_page() -> rx.Component:
    """Own and referred documents, uploads with progress, and sharing."""
    return app_page(
        rx.heading("Library", size="6"),
        rx.text(
            "Documents shared with you, and your own documents, which you can "
            "share with partners by e-mail. ",
            rx.link(
                "See what you shared and revoke it",
                href=routes.SENT,
                id="library-shared-by-you",
            ),
            ".",
            color_scheme="gray",
        ),
        _uploader(),
        error_callout(LibraryState.library_error),
        error_callout(LibraryState.tag_error),
        rx.cond(
            LibraryState.share_success != "",
            rx.callout(
                LibraryState.share_success,
                icon="check",
                color_scheme="green",
                width="100%",
                id="share-success",
            ),
        ),
        rx.hstack(
            rx.select(
                LibraryState.type_options,
                placeholder="Every type",
                value=LibraryState.type_filter,
                on_change=LibraryState.set_type_filter,
                id="library-type",
            ),
            rx.cond(
                LibraryState.type_filter != "",
                rx.button(
                    "Every type",
                    variant="ghost",
                    on_click=LibraryState.set_type_filter(""),
                ),
            ),
            align="center",
        ),
        searchable_table(
            LibraryState,
            element_id="library",
            headers=("Name", "Type", "Size", "Shared by", "Date", "Tag", ""),
            row=_row,
            empty=(
                "library",
                "Your library is empty",
                "Upload a document above, or ask a partner to share one with you.",
            ),
            no_match="No document matches the search and type.",
            placeholder="Search by name",
        ),
        _share_dialog(),
        # A timer whose every tick reads the list again, so a document whose
        # referral was revoked disappears from an open Library.
        rx.moment(
            interval=BELL_REFRESH_MS,
            format="HH:mm:ss",
            on_change=LibraryState.refresh_library,
            display="none",
        ),
    )
