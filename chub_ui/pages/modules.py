"""Modules of the Partner's Network that are not built yet, and the start page."""

import logging

import reflex as rx

from chub_ui.components.layout import app_page, empty_state, loading

logger = logging.getLogger(__name__)


def tags_page() -> rx.Component:
    """Tags: not built yet, and it says so."""
    return app_page(
        rx.heading("Tags", size="6"),
        empty_state(
            "tag",
            "Tags are not available yet",
            "Marking leads, contacts and documents important or unimportant is "
            "coming in a later version.",
        ),
    )


def home_page() -> rx.Component:
    """Only forwards to the start page of the user's plan."""
    return loading()
