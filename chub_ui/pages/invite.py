"""The page an invitation link opens."""

import logging

import reflex as rx

from chub_ui import routes, styles
from chub_ui.components.layout import error_callout, field_label
from chub_ui.state.invitations import InvitationState

logger = logging.getLogger(__name__)


def _what_was_shared() -> rx.Component:
    return rx.cond(
        InvitationState.item_kind == "team",
        rx.text(
            InvitationState.inviter_name,
            " invited you to join the team of ",
            rx.text.strong(InvitationState.item_label),
            ".",
            size="2",
        ),
        rx.text(
            InvitationState.inviter_name,
            rx.match(
                InvitationState.item_kind,
                ("lead", " referred a lead to you: "),
                ("contact", " referred a contact to you: "),
                " shared a document with you: ",
            ),
            rx.text.strong(InvitationState.item_label),
            size="2",
        ),
    )


def _fixed_email() -> rx.Component:
    return rx.vstack(
        field_label("E-mail", "invite-email"),
        rx.input(
            value=InvitationState.invited_email,
            read_only=True,
            width="100%",
            name="invited_email",
            id="invite-email",
        ),
        width="100%",
        spacing="1",
    )


def _register_form() -> rx.Component:
    is_team = InvitationState.item_kind == "team"
    return rx.form(
        rx.vstack(
            rx.heading(
                rx.cond(is_team, "Join your team", "Join the Partner's Network"),
                size="5",
            ),
            _what_was_shared(),
            rx.text(
                rx.cond(
                    is_team,
                    "Create your account in the team's CRM.",
                    "Create your free account to see it.",
                ),
                " The e-mail is the address the invitation was sent to.",
                size="2",
                color_scheme="gray",
            ),
            error_callout(InvitationState.form_error),
            _fixed_email(),
            field_label("Your name", "register-name"),
            rx.input(
                name="full_name", id="register-name", width="100%", max_length=200
            ),
            field_label("Password (8 to 128 characters)", "register-password"),
            rx.input(
                name="password",
                type="password",
                id="register-password",
                required=True,
                min_length=8,
                max_length=128,
                width="100%",
                auto_complete="new-password",
            ),
            field_label("Password again", "register-password-again"),
            rx.input(
                name="password_again",
                type="password",
                id="register-password-again",
                required=True,
                min_length=8,
                max_length=128,
                width="100%",
                auto_complete="new-password",
            ),
            rx.button(
                rx.cond(is_team, "Create account", "Create free account"),
                type="submit",
                width="100%",
                loading=InvitationState.is_submitting,
                id="register-submit",
            ),
            spacing="3",
        ),
        on_submit=InvitationState.submit_registration,
        reset_on_submit=False,
    )


def _login_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.heading("Sign in to see it", size="5"),
            _what_was_shared(),
            error_callout(InvitationState.form_error),
            _fixed_email(),
            field_label("Password", "invite-login-password"),
            rx.input(
                name="password",
                type="password",
                id="invite-login-password",
                required=True,
                max_length=128,
                width="100%",
                auto_complete="current-password",
            ),
            rx.button(
                "Sign in",
                type="submit",
                width="100%",
                loading=InvitationState.is_submitting,
                id="invite-login-submit",
            ),
            spacing="3",
        ),
        on_submit=InvitationState.submit_login,
        reset_on_submit=False,
    )


def _other_user() -> rx.Component:
    return rx.vstack(
        rx.heading("This invitation is for someone else", size="5"),
        rx.text(
            "It was sent to ",
            rx.text.strong(InvitationState.invited_email),
            ", but you are signed in as ",
            rx.text.strong(InvitationState.user["email"]),
            ". Nothing was changed.",
            size="2",
        ),
        rx.hstack(
            rx.button("Sign out and use it", on_click=InvitationState.sign_out_here),
            rx.link(rx.button("Back to my account", variant="soft"), href=routes.HOME),
        ),
        spacing="3",
        id="invite-other-user",
    )


def _unusable() -> rx.Component:
    return rx.vstack(
        rx.heading("This link cannot be used", size="5"),
        rx.callout(
            InvitationState.unusable_message,
            icon="link-2-off",
            color_scheme="red",
            id="invite-unusable",
        ),
        rx.link("Go to sign in", href=routes.LOGIN),
        spacing="3",
    )


def invite_page() -> rx.Component:
    """Register, sign in, or be told why the link does not work."""
    return rx.center(
        rx.card(
            rx.match(
                InvitationState.view,
                ("register", _register_form()),
                ("login", _login_form()),
                ("other_user", _other_user()),
                ("unusable", _unusable()),
                rx.center(rx.spinner(size="3"), padding="2rem"),
            ),
            style=styles.card_style,
        ),
        style=styles.centered_page_style,
    )
