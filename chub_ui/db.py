"""Database engine set-up: SQLite pragmas, migrations and a session factory."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlmodel import Session, create_engine

from chub_ui.settings import PROJECT_ROOT, settings

logger = logging.getLogger(__name__)

_engines: dict[str, sa.Engine] = {}


@sa.event.listens_for(sa.Engine, "connect")
def _tune_sqlite(dbapi_connection, connection_record) -> None:
    # Every engine, Reflex's own included: readers must not block the writer,
    # and a second writer waits instead of failing at once.
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # SQLite's own lower() knows only ASCII; searches must fold "Ö" and "É" too.
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


def _unicode_lower(value):
    return value.lower() if isinstance(value, str) else value


def get_engine(url: str | None = None) -> sa.Engine:
    """The shared engine for a database URL (the configured one by default)."""
    url = url or settings.database_url
    if url not in _engines:
        _engines[url] = create_engine(url, pool_pre_ping=True)
    return _engines[url]


@contextmanager
def open_session(url: str | None = None) -> Iterator[Session]:
    """A session for code outside Reflex handlers: tasks, scripts and seeding."""
    with Session(get_engine(url)) as session:
        yield session


def alembic_config(url: str | None = None) -> Config:
    """The project's Alembic configuration, pointed at a database URL."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option(
        "sqlalchemy.url", (url or settings.database_url).replace("%", "%%")
    )
    return config


def migrate(url: str | None = None) -> None:
    """Bring the database schema up to the newest migration."""
    url = url or settings.database_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "head")
    logger.info("database schema is up to date")
