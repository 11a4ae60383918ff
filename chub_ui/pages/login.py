"""The sign-in page."""

import logging

import reflex as rx

from chub_ui import styles
from chub_ui.components.layout import error_callout, field_label
from chub_ui.state.auth import AuthState

logger = logging.getLogger(__name__)


def login_page() -> rx.Component:
    """E-mail and password, with one answer for every failure."""
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.hstack(rx.icon("handshake", size=28), rx.heading("Sign in")),
                    rx.text(
                        "Partner Network: leads, contacts and documents your "
                        "partners refer to you.",
                        color_scheme="gray",
                        size="2",
                    ),
                    error_callout(AuthState.login_error),
                    field_label("E-mail", "login-email"),
                    rx.input(
                        name="email",
                        type="email",
                        id="login-email",
                        required=True,
                        auto_complete="username",
                        width="100%",
                        max_length=320,
                    ),
                    field_label("Password", "login-password"),
                    rx.input(
                        name="password",
                        type="password",
                        id="login-password",
                        required=True,
                        auto_complete="current-password",
                        width="100%",
                        max_length=128,
                    ),
                    rx.button(
                        "Sign in",
                        type="submit",
                        width="100%",
                        loading=AuthState.is_submitting,
                        id="login-submit",
                    ),
                    rx.text(
                        "No account yet? Accounts are created from the invitation "
                        "link in the e-mail a partner sent you.",
                        size="1",
                        color_scheme="gray",
                    ),
                    spacing="3",
                ),
                on_submit=AuthState.submit_login,
                reset_on_submit=False,
            ),
            style=styles.card_style,
        ),
        style=styles.centered_page_style,
    )
