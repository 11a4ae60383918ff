"""The Important / Unimportant toggle shown on lists and detail pages."""

import logging

import reflex as rx

from chub_ui.models import TAG_IMPORTANT, TAG_UNIMPORTANT

logger = logging.getLogger(__name__)


def _toggle_button(state, item_type, item_id, current, value, icon, label, color):
    is_on = current == value
    return rx.tooltip(
        rx.icon_button(
            rx.icon(icon, size=14),
            size="1",
            variant=rx.cond(is_on, "solid", "ghost"),
            color_scheme=rx.cond(is_on, color, "gray"),
            aria_label=label,
            aria_pressed=rx.cond(is_on, "true", "false"),
            on_click=state.set_item_tag(
                item_type, item_id, rx.cond(is_on, "", value)
            ).stop_propagation,
            class_name=f"tag-{value}",
        ),
        content=rx.cond(is_on, f"Marked {label.lower()}: click to clear", label),
    )


def tag_toggle(state, item_type: str, item_id, current) -> rx.Component:
    """Two buttons: Important and Unimportant; pressing the lit one clears it."""
    return rx.hstack(
        _toggle_button(
            state, item_type, item_id, current, TAG_IMPORTANT, "star",
            "Important", "amber",
        ),
        _toggle_button(
            state, item_type, item_id, current, TAG_UNIMPORTANT, "circle-minus",
            "Unimportant", "gray",
        ),
        spacing="1",
        class_name="tag-toggle",
    )  # fmt: skip
