"""State handlers run against each test's database, as a browser would call them."""

import pytest
import reflex as rx
from reflex.istate.data import ReflexURL, RouterData
from reflex.state import State
from sqlmodel import Session

import chub_ui.chub_ui  # noqa: F401  (registers every state on the app)
from chub_ui.models import KIND_LEAD
from chub_ui.services import auth, referrals
from chub_ui.settings import settings
from tests.conftest import TEST_PASSWORD
from tests.services.rows import add_record


@pytest.fixture(autouse=True)
def handlers_use_test_database(monkeypatch, engine, tmp_path):
    """Point the handlers' rx.session() and storage at this test's own."""
    monkeypatch.setattr(rx, "session", lambda: Session(engine))
    monkeypatch.setattr(settings, "storage_dir", tmp_path / "storage")


def state_at(state_class, path: str, token: str = ""):
    """A fresh state of the class, as for a browser at the path with the token."""
    root = State(_reflex_internal_init=True)
    root.router = RouterData(url=ReflexURL(f"http://localhost:3000{path}"))
    state = root.get_substate(state_class.get_full_name().split("."))
    state.session_token = token
    return state


def token_for(session, email: str) -> str:
    """A session token for the user, as after signing in."""
    return auth.login(session=session, email=email, password=TEST_PASSWORD)


@pytest.fixture
def referral_id(session, paid_user, free_user) -> int:
    """A lead of the paid account, with an e-mail, referred to the free partner."""
    record = add_record(
        session,
        paid_user,
        kind=KIND_LEAD,
        name="Karen Page",
        company="Nelson & Murdock",
        email="karen@nelson.example",
    )
    return referrals.refer_record(
        session=session, user=paid_user, record_id=record.id, to_email=free_user.email
    ).referral_id
