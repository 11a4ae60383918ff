"""The start page, which only forwards to the start page of the user's plan."""

import logging

import reflex as rx

from chub_ui.components.layout import loading

logger = logging.getLogger(__name__)


def home_page() -> rx.Component:
    """Only forwards to the start page of the user's plan."""
    return loading()
