"""Alembic environment: the project's tables and the configured database."""

import logging

from alembic import context
from sqlmodel import SQLModel

import chub_ui.models  # noqa: F401  (registers every table on the metadata)
from chub_ui.db import get_engine
from chub_ui.settings import settings

logger = logging.getLogger(__name__)

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    """Write the SQL of the migrations instead of running it."""
    url = config.get_main_option("sqlalchemy.url") or settings.database_url
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations against the database."""
    url = config.get_main_option("sqlalchemy.url") or settings.database_url
    with get_engine(url).connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
