"""Shared fixtures: a temporary database per test and users to act as."""

import os

os.environ.setdefault("CHUB_ENV", "test")

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, SQLModel, create_engine

import chub_ui.db  # noqa: F401  (SQLite pragmas for every engine)
from chub_ui.models import PLAN_FREE, PLAN_PAID
from chub_ui.services import auth

# The real exports stay in ../shared beside the checkout; they are never copied.
REALDATA = Path(
    os.environ.get(
        "CHUB_REALDATA",
        Path(__file__).resolve().parents[2] / "shared" / "realdata",
    )
)

pytest_plugins = ["tests.smtp_server"]

TEST_PASSWORD = "correct horse battery"


@pytest.fixture
def engine(tmp_path: Path):
    """A fresh database with every table: SQLite, or PostgreSQL when configured.

    scripts/test-postgres.sh sets CHUB_TEST_DATABASE_URL to a throwaway server.
    """
    url = os.environ.get("CHUB_TEST_DATABASE_URL") or f"sqlite:///{tmp_path}/test.db"
    engine = create_engine(url)
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine) -> Iterator[Session]:
    """A session on the test database."""
    with Session(engine) as session:
        yield session


@pytest.fixture
def make_user(session: Session) -> Callable[..., auth.CurrentUser]:
    """Create a user and return them as the services see them."""

    def _make(email: str, *, plan: str = PLAN_PAID, name: str = "") -> auth.CurrentUser:
        user = auth.create_user(
            session=session,
            email=email,
            password=TEST_PASSWORD,
            full_name=name,
            plan=plan,
        )
        session.commit()
        return auth.current_user_for(session, user.id)

    return _make


@pytest.fixture
def paid_user(make_user) -> auth.CurrentUser:
    """A CRM user on the paid plan."""
    return make_user("owner@example.com", plan=PLAN_PAID, name="Olivia Owner")


@pytest.fixture
def free_user(make_user) -> auth.CurrentUser:
    """A partner on the free plan."""
    return make_user("partner@example.com", plan=PLAN_FREE, name="Pat Partner")
