"""Steps the browser tests share: signing in, reading mail, referring."""

import re
import time

from playwright.sync_api import Page
from sqlmodel import select

from chub_ui import db
from chub_ui.models import KIND_LEAD, Record, User
from chub_ui.services import auth, referrals
from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import OWNER_EMAIL

LINK = re.compile(r"https?://[^\s\"<>]+/invite/[A-Za-z0-9_\-]+")


def sign_in(page: Page, email: str, path: str = "/") -> None:
    """Open a page, get sent to the login form, and sign in there."""
    page.goto(path)
    page.wait_for_url(re.compile(r"/login"))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.click("#login-submit")


def invitation_link(smtp, address: str, count: int = 1, timeout: float = 30) -> str:
    """The link of the newest invitation the SMTP server received for address."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        received = smtp.messages_to(address)
        if len(received) >= count:
            mail = received[-1]
            text_link = LINK.search(mail.text).group(0)
            assert text_link in mail.html
            return text_link
        time.sleep(0.2)
    raise AssertionError(f"no invitation reached {address} within {timeout}s")


def refer_by_service(
    to_email: str, name: str, *, owner_email: str = OWNER_EMAIL, **fields
) -> int:
    """Refer a new lead of the owner to an address; return the referral id."""
    with db.open_session() as session:
        owner = session.exec(select(User).where(User.email == owner_email)).one()
        record = Record(
            account_id=owner.account_id,
            created_by_id=owner.id,
            kind=KIND_LEAD,
            name=name,
            company=fields.pop("company", "Globex"),
            **fields,
        )
        session.add(record)
        session.commit()
        outcome = referrals.refer_record(
            session=session,
            user=auth.current_user_for(session, owner.id),
            record_id=record.id,
            to_email=to_email,
            message="For you",
        )
        return outcome.referral_id


def create_account(email: str, *, plan: str, name: str = "") -> int:
    """A user with an account of their own; returns the user id."""
    with db.open_session() as session:
        user = auth.create_user(
            session=session,
            email=email,
            password=TEST_PASSWORD,
            full_name=name,
            plan=plan,
        )
        session.commit()
        return user.id
