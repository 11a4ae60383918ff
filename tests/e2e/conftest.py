"""One running app (AppHarness) and one Chromium for the whole browser test run."""

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from reflex.testing import AppHarness

from chub_ui import db
from chub_ui.models import PLAN_FREE, PLAN_PAID
from chub_ui.services import auth
from chub_ui.settings import PROJECT_ROOT, settings
from tests.conftest import TEST_PASSWORD
from tests.smtp_server import SmtpTestServer

logger = logging.getLogger(__name__)

CHROMIUM = os.environ.get("CHUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
OWNER_EMAIL = "olivia.owner@example.com"
PARTNER_EMAIL = "existing.partner@example.com"


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpTestServer]:
    """A real SMTP server on loopback that the app delivers to."""
    server = SmtpTestServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def harness(tmp_path_factory, smtp) -> Iterator[AppHarness]:
    """The real app from the project folder, on a fresh database."""
    database = tmp_path_factory.mktemp("e2e") / "e2e.db"
    # The settings object was read at import; point it at this run's parts.
    settings.database_url = f"sqlite:///{database}"
    settings.smtp_url = smtp.url
    settings.demo_mode = False
    settings.outbox_poll_seconds = 1
    settings.cors_origins = ["*"]
    db.migrate(settings.database_url)
    with db.open_session() as session:
        auth.create_user(
            session=session,
            email=OWNER_EMAIL,
            password=TEST_PASSWORD,
            full_name="Olivia Owner",
            plan=PLAN_PAID,
        )
        auth.create_user(
            session=session,
            email=PARTNER_EMAIL,
            password=TEST_PASSWORD,
            full_name="Erik Existing",
            plan=PLAN_FREE,
        )
        session.commit()

    with AppHarness.create(root=PROJECT_ROOT, app_name="chub_ui") as running:
        settings.base_url = running.frontend_url.rstrip("/")
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium; a missing browser fails the run instead of skipping."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make chromium`.")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser, harness):
    """Open a page in a fresh browser context (no cookies), closed afterwards."""
    contexts = []

    def _open() -> Page:
        context = browser.new_context(
            base_url=harness.frontend_url, viewport={"width": 1280, "height": 800}
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where browser tests leave their screenshots for a person to look at."""
    folder = ARTIFACTS / "screenshots"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
