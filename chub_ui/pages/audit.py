"""The audit page: who did what in the account, read-only, for its owner."""

import logging

import reflex as rx

from chub_ui.components.layout import app_page
from chub_ui.components.tables import filter_select, searchable_table
from chub_ui.services.audit import ACTION_LABELS
from chub_ui.state.audit import EVERY_ACTION, AuditState

logger = logging.getLogger(__name__)


def _row(item) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(item["at"], white_space="nowrap")),
        rx.table.cell(rx.badge(item["action_label"], variant="soft")),
        rx.table.cell(item["actor"]),
        rx.table.cell(item["target"]),
        rx.table.cell(rx.text(item["detail"], white_space="pre-wrap")),
        class_name="audit-row",
    )


def _action_filter() -> rx.Component:
    return filter_select(
        element_id="audit-action",
        label="Action",
        value=AuditState.action,
        on_change=AuditState.set_action,
        options=((EVERY_ACTION, "Every action"), *ACTION_LABELS.items()),
    )


def audit_page() -> rx.Component:
    """The account's audit trail; its owner reads it, nobody edits it."""
    return app_page(
        rx.heading("Audit", size="6"),
        rx.text(
            "Sign-in failures, referrals, downloads, plan and team changes in your "
            "account, newest first. Lines are never changed or removed.",
            color_scheme="gray",
        ),
        rx.cond(
            AuditState.audit_error != "",
            rx.callout(
                AuditState.audit_error,
                icon="lock",
                color_scheme="amber",
                width="100%",
                id="audit-refused",
            ),
        ),
        rx.cond(
            AuditState.audit_error == "",
            rx.vstack(
                searchable_table(
                    AuditState,
                    element_id="audit",
                    headers=("When", "Action", "By", "About", "Detail"),
                    row=_row,
                    empty=(
                        "shield-check",
                        "Nothing recorded",
                        "Sensitive actions in your account are recorded here as "
                        "they happen.",
                    ),
                    no_match="No audit line matches the search and action.",
                    placeholder="Search by person, item or detail",
                    filters=(_action_filter(),),
                    is_filtered=(AuditState.search != "")
                    | (AuditState.action != EVERY_ACTION),
                ),
                width="100%",
            ),
        ),
    )
