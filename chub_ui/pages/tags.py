"""The Tags page: tagged leads, contacts and documents by tag and type."""

import logging

import reflex as rx

from chub_ui.components.layout import app_page, empty_state
from chub_ui.state.tags import TagsState

logger = logging.getLogger(__name__)


def _item(item) -> rx.Component:
    return rx.hstack(
        rx.link(item["name"], href=item["link"], weight="medium"),
        rx.text(item["detail"], size="2", color_scheme="gray"),
        align="center",
        class_name="tagged-item",
    )


def _group(group) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon(
                    rx.cond(group["value"] == "important", "star", "circle-minus"),
                    size=16,
                ),
                rx.heading(group["value_label"], " · ", group["type_label"], size="3"),
                rx.badge(group["count"], variant="soft"),
                align="center",
            ),
            rx.foreach(group["items"].to(list[dict[str, str]]), _item),
            width="100%",
        ),
        width="100%",
        class_name="tag-group",
    )


def tags_page() -> rx.Component:
    """Everything the user tagged, grouped, with counts and links."""
    return app_page(
        rx.heading("Tags", size="6"),
        rx.text(
            "Your tags are private: nobody else sees them, and tagging a referred "
            "item never changes it for the person who referred it.",
            color_scheme="gray",
        ),
        rx.cond(
            TagsState.tagged_count > 0,
            rx.vstack(rx.foreach(TagsState.groups, _group), width="100%"),
            empty_state(
                "tag",
                "Nothing tagged yet",
                "Mark leads, contacts and documents Important or Unimportant with "
                "the star and minus buttons in the lists and on detail pages.",
            ),
        ),
    )
