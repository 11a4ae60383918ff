"""The two layouts: the Partner's Network for free accounts, the full CRM for paid."""

import logging

import reflex as rx

from chub_ui import routes, styles
from chub_ui.state.notifications import NotificationsState
from chub_ui.state.session import SessionState

# How often an open page asks for the unread count, in milliseconds.
BELL_REFRESH_MS = 3000

logger = logging.getLogger(__name__)

CRM_ONLY_LINKS = (
    ("Leads", routes.LEADS, "target"),
    ("Contacts", routes.CONTACTS, "contact"),
    ("Import", routes.IMPORT, "upload"),
    ("Team", routes.TEAM, "users"),
    ("Sent referrals", routes.SENT, "send"),
    ("Dashboard", routes.DASHBOARD, "chart-line"),
    ("Audit", routes.AUDIT, "shield-check"),
)
MODULE_LINKS = (
    ("Referral", routes.REFERRALS, "share-2"),
    ("Library", routes.LIBRARY, "library"),
    ("Tags", routes.TAGS, "tag"),
    ("Notifications", routes.NOTIFICATIONS, "bell"),
)


def nav_link(label: str, href: str, icon: str) -> rx.Component:
    """One entry of the side navigation, marked while its page is open."""
    path = SessionState.router.url.path
    is_here = (path == href) | path.startswith(href + "/")
    return rx.link(
        rx.hstack(rx.icon(icon, size=16), rx.text(label, size="2"), align="center"),
        href=href,
        on_click=SessionState.dismiss_notice,
        style=styles.nav_link_style,
        background=rx.cond(is_here, rx.color(styles.BRAND_COLOR, 4), "transparent"),
        font_weight=rx.cond(is_here, "600", "400"),
    )


def field_label(text: str, for_id: str) -> rx.Component:
    """The caption of a form field, tied to it for screen readers."""
    return rx.el.label(text, html_for=for_id, style=styles.field_label_style)


def brand() -> rx.Component:
    """The product's name, linking home."""
    return rx.link(
        rx.hstack(
            rx.icon("handshake", size=22, color=rx.color(styles.BRAND_COLOR, 9)),
            rx.heading(
                rx.cond(SessionState.is_paid, "Partner Network", "Partner's Network"),
                size="4",
            ),
            align="center",
        ),
        href=routes.HOME,
        underline="none",
        color="inherit",
    )


def bell() -> rx.Component:
    """The unread count, kept fresh over the websocket while the page is open."""
    return rx.link(
        rx.box(
            rx.icon("bell", size=20),
            rx.cond(
                NotificationsState.unread > 0,
                rx.badge(
                    NotificationsState.unread,
                    color_scheme="red",
                    variant="solid",
                    radius="full",
                    size="1",
                    position="absolute",
                    top="-8px",
                    right="-12px",
                    id="bell-count",
                ),
            ),
            # A timer whose every tick asks the server for the unread count.
            rx.moment(
                interval=BELL_REFRESH_MS,
                format="HH:mm:ss",
                on_change=NotificationsState.refresh_unread,
                display="none",
            ),
            position="relative",
        ),
        href=routes.NOTIFICATIONS,
        color="inherit",
        aria_label="Notifications",
        id="bell",
    )


def user_menu() -> rx.Component:
    """The signed-in user, their plan and the way out."""
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.icon("circle-user", size=16),
                rx.text(SessionState.user["display_name"], size="2"),
                variant="soft",
                width="100%",
                id="user-menu",
            )
        ),
        rx.menu.content(
            rx.menu.item(SessionState.user["email"], disabled=True),
            rx.menu.item(
                rx.cond(SessionState.is_paid, "Paid plan: full CRM", "Free plan"),
                disabled=True,
            ),
            rx.menu.item("Plans", on_click=rx.redirect(routes.UPGRADE)),
            rx.menu.item("Team", on_click=rx.redirect(routes.TEAM)),
            rx.menu.separator(),
            rx.menu.item("Sign out", on_click=SessionState.sign_out, color="red"),
        ),
    )


def sidebar() -> rx.Component:
    """Brand, navigation of the plan's modules, and the user menu."""
    return rx.vstack(
        rx.hstack(brand(), rx.spacer(), bell(), width="100%", align="center"),
        rx.divider(),
        rx.cond(
            SessionState.is_paid,
            rx.vstack(
                rx.text("CRM", size="1", color_scheme="gray", weight="bold"),
                *[nav_link(*link) for link in CRM_ONLY_LINKS],
                width="100%",
                spacing="1",
            ),
        ),
        rx.text("Partner's Network", size="1", color_scheme="gray", weight="bold"),
        *[nav_link(*link) for link in MODULE_LINKS],
        rx.spacer(),
        rx.cond(
            ~SessionState.is_paid,
            rx.link(
                rx.button(
                    rx.icon("sparkles", size=14),
                    "Upgrade to the full CRM",
                    variant="soft",
                    size="1",
                    width="100%",
                ),
                href=routes.UPGRADE,
                width="100%",
                id="upgrade-link",
            ),
        ),
        user_menu(),
        style=styles.sidebar_style,
        spacing="2",
        id="navigation",
    )


def notice_banner() -> rx.Component:
    """A message carried across a redirect, such as a paid-plan refusal."""
    return rx.cond(
        SessionState.notice != "",
        rx.hstack(
            rx.callout.root(
                rx.callout.icon(rx.icon("info")),
                rx.callout.text(SessionState.notice),
                color_scheme="amber",
                flex="1",
                id="notice",
            ),
            rx.icon_button(
                rx.icon("x", size=14),
                variant="ghost",
                size="1",
                aria_label="Dismiss",
                on_click=SessionState.dismiss_notice,
            ),
            width="100%",
            align="center",
        ),
    )


def loading() -> rx.Component:
    """Shown while the session is checked."""
    return rx.center(rx.spinner(size="3"), height="60vh", width="100%")


def app_page(*content: rx.Component) -> rx.Component:
    """A signed-in page in the layout of the user's plan."""
    return rx.cond(
        SessionState.is_signed_in,
        rx.hstack(
            sidebar(),
            rx.vstack(notice_banner(), *content, style=styles.main_style, spacing="4"),
            spacing="0",
            align="start",
            width="100%",
        ),
        loading(),
    )


def empty_state(icon: str, title: str, text: str) -> rx.Component:
    """An honest empty list or module, with what to do next."""
    return rx.center(
        rx.vstack(
            rx.icon(icon, size=40, color=rx.color("gray", 8)),
            rx.heading(title, size="4"),
            rx.text(text, color_scheme="gray", align="center", max_width="460px"),
            align="center",
            spacing="3",
        ),
        padding="3rem 1rem",
        width="100%",
        border="1px dashed var(--gray-a6)",
        border_radius="12px",
    )


def pager(state) -> rx.Component:
    """Previous and next buttons for a server-paged list."""
    return rx.hstack(
        rx.text(
            state.total.to_string()
            + " in all · page "
            + state.page.to_string()
            + " of "
            + state.pages.to_string(),
            size="2",
            color_scheme="gray",
        ),
        rx.spacer(),
        rx.button(
            "Previous",
            variant="soft",
            on_click=state.previous_page,
            disabled=state.page <= 1,
        ),
        rx.button(
            "Next",
            variant="soft",
            on_click=state.next_page,
            disabled=state.page >= state.pages,
        ),
        width="100%",
        align="center",
    )


def field_list(fields) -> rx.Component:
    """Label and value pairs of a record."""
    return rx.data_list.root(
        rx.foreach(
            fields.to(list[dict[str, str]]),
            lambda field: rx.data_list.item(
                rx.data_list.label(field["label"]),
                rx.data_list.value(rx.text(field["value"], white_space="pre-wrap")),
            ),
        ),
        size="2",
    )


def error_callout(message) -> rx.Component:
    """A red message when the var is not empty."""
    return rx.cond(
        message != "",
        rx.callout(message, icon="triangle-alert", color_scheme="red", width="100%"),
    )
