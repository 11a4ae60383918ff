"""Reflex configuration, taken from the CHUB_* settings."""

import reflex as rx
from reflex_base.plugins.sitemap import SitemapPlugin

from chub_ui.settings import settings

config = rx.Config(
    app_name="chub_ui",
    db_url=settings.database_url,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    cors_allowed_origins=settings.cors_origins,
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="indigo", radius="medium")
        )
    ],
    disable_plugins=[SitemapPlugin],
)
