"""Passwords, sign-in and sessions."""

from datetime import timedelta

import pytest
from sqlmodel import select

from chub_ui.models import PLAN_FREE, User, UserSession, utcnow
from chub_ui.services import auth
from chub_ui.services.errors import InvalidInput, LoginFailed, NotSignedIn
from tests.conftest import TEST_PASSWORD


def test_password_is_stored_as_argon2id(session, paid_user):
    row = session.get(User, paid_user.id)

    assert row.password_hash.startswith("$argon2id$")
    assert TEST_PASSWORD not in row.password_hash


@pytest.mark.parametrize("password", ["short", "x" * 129, ""])
def test_password_outside_8_to_128_characters_is_refused(session, password):
    with pytest.raises(InvalidInput):
        auth.create_user(
            session=session, email="a@example.com", password=password, plan=PLAN_FREE
        )

    assert session.exec(select(User)).all() == []


def test_password_of_128_characters_is_accepted(session):
    user = auth.create_user(
        session=session, email="a@example.com", password="p" * 128, plan=PLAN_FREE
    )
    session.commit()

    assert auth.login(session=session, email="a@example.com", password="p" * 128)
    assert user.id


def test_login_gives_a_fresh_token_each_time_and_stores_only_its_hash(
    session, paid_user
):
    first = auth.login(session=session, email=paid_user.email, password=TEST_PASSWORD)
    second = auth.login(session=session, email=paid_user.email, password=TEST_PASSWORD)

    assert first != second
    stored = [row.token_hash for row in session.exec(select(UserSession)).all()]
    assert first not in stored
    assert auth.hash_token(first) in stored
    assert auth.user_for_token(session, first).id == paid_user.id


def test_login_compares_address_trimmed_and_case_folded(session, paid_user):
    token = auth.login(
        session=session, email="\u00a0 OWNER@Example.com \u2003", password=TEST_PASSWORD
    )

    assert auth.user_for_token(session, token).email == paid_user.email


def test_login_errors_do_not_say_whether_the_address_exists(session, paid_user):
    with pytest.raises(LoginFailed) as wrong_password:
        auth.login(session=session, email=paid_user.email, password="wrong password")
    with pytest.raises(LoginFailed) as unknown:
        auth.login(session=session, email="nobody@example.com", password="whatever1")
    with pytest.raises(LoginFailed) as malformed:
        auth.login(session=session, email="not an address", password="whatever1")

    assert wrong_password.value.message == unknown.value.message
    assert unknown.value.message == malformed.value.message


def test_logout_ends_the_session(session, paid_user):
    token = auth.login(session=session, email=paid_user.email, password=TEST_PASSWORD)

    auth.logout(session=session, token=token)

    with pytest.raises(NotSignedIn):
        auth.user_for_token(session, token)


def test_expired_session_is_refused(session, paid_user):
    token = auth.login(session=session, email=paid_user.email, password=TEST_PASSWORD)
    row = session.exec(select(UserSession)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()

    with pytest.raises(NotSignedIn):
        auth.user_for_token(session, token)


def test_session_survives_a_new_database_connection(engine, session, paid_user):
    token = auth.login(session=session, email=paid_user.email, password=TEST_PASSWORD)
    engine.dispose()

    from sqlmodel import Session

    with Session(engine) as fresh:
        assert auth.user_for_token(fresh, token).id == paid_user.id


@pytest.mark.parametrize("token", ["", None, "forged-token"])
def test_missing_or_forged_token_is_not_signed_in(session, token):
    with pytest.raises(NotSignedIn):
        auth.user_for_token(session, token)


def test_duplicate_address_is_refused(session, paid_user):
    with pytest.raises(InvalidInput, match="already exists"):
        auth.create_user(
            session=session,
            email=" Owner@EXAMPLE.com",
            password=TEST_PASSWORD,
            plan=PLAN_FREE,
        )
