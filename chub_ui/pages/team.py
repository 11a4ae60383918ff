"""The team page: who is in the account, and inviting more people."""

import logging

import reflex as rx

from chub_ui import routes
from chub_ui.components.layout import app_page, error_callout, field_label
from chub_ui.state.plans import PlansState

logger = logging.getLogger(__name__)


def _invite_form() -> rx.Component:
    return rx.cond(
        PlansState.is_paid,
        rx.form(
            rx.vstack(
                field_label("Invite by e-mail", "team-invite-email"),
                rx.hstack(
                    rx.input(
                        name="email",
                        type="email",
                        required=True,
                        id="team-invite-email",
                        max_length=320,
                        width="320px",
                    ),
                    rx.button("Send invitation", type="submit", id="team-invite"),
                ),
                error_callout(PlansState.team_error),
                rx.cond(
                    PlansState.team_success != "",
                    rx.text(
                        PlansState.team_success, color_scheme="green", id="team-sent"
                    ),
                ),
            ),
            on_submit=PlansState.invite_member,
            reset_on_submit=False,
        ),
        rx.callout.root(
            rx.callout.icon(rx.icon("lock")),
            rx.callout.text(
                "Adding users belongs to the paid plan. ",
                rx.link("Compare the plans", href=routes.UPGRADE),
            ),
            color_scheme="gray",
            id="team-invite-locked",
        ),
    )


def team_page() -> rx.Component:
    """Members of the account and invitations still open."""
    return app_page(
        rx.heading("Team", size="6"),
        rx.text(
            "Everyone in your account shares its leads and contacts and reads its "
            "team messages on the Notifications page.",
            color_scheme="gray",
        ),
        _invite_form(),
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell("Name"),
                    rx.table.column_header_cell("E-mail"),
                    rx.table.column_header_cell("Joined"),
                )
            ),
            rx.table.body(
                rx.foreach(
                    PlansState.members,
                    lambda member: rx.table.row(
                        rx.table.cell(member["name"]),
                        rx.table.cell(member["email"]),
                        rx.table.cell(member["joined"]),
                    ),
                )
            ),
            width="100%",
            id="team-members",
        ),
        rx.cond(
            PlansState.pending.length() > 0,
            rx.vstack(
                rx.heading("Invitations", size="4"),
                rx.foreach(
                    PlansState.pending,
                    lambda invite: rx.text(
                        invite["email"], " · invited ", invite["sent"], " · ",
                        invite["state"], size="2",
                    ),
                ),
                id="team-pending",
            ),
        ),
    )  # fmt: skip
