"""The migrations build exactly the schema the models describe."""

import os

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from chub_ui import db


def test_migrations_match_the_models(tmp_path):
    url = os.environ.get("CHUB_TEST_DATABASE_URL") or f"sqlite:///{tmp_path}/m.db"
    engine = db.get_engine(url)
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))

    db.migrate(url)

    with engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection), SQLModel.metadata
        )
        tables = set(sa.inspect(connection).get_table_names())
    assert differences == []
    assert set(SQLModel.metadata.tables) <= tables
