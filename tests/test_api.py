"""The download route: the session cookie, the grant, and safe headers."""

from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from chub_ui import db
from chub_ui.api import api
from chub_ui.models import PLAN_FREE, Referral, User
from chub_ui.services import auth, library, referral_lifecycle, referrals
from chub_ui.services.errors import NotAllowed
from chub_ui.settings import SESSION_COOKIE, settings

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"
HTML_LOOKING_TEXT = b"Quarterly notes\n<b>not a page</b>\n"


@pytest.fixture(autouse=True)
def api_uses_test_database(monkeypatch, engine, tmp_path: Path):
    """Point open_session at this test's database and storage at tmp_path."""
    monkeypatch.setattr(db, "get_engine", lambda url=None: engine)
    monkeypatch.setattr(settings, "storage_dir", tmp_path / "storage")


def _client(session, user: auth.CurrentUser | None = None) -> TestClient:
    client = TestClient(api)
    if user is not None:
        token = auth.start_session(session, session.get(User, user.id))
        session.commit()
        client.cookies.set(SESSION_COOKIE, token)
    return client


def _url(document_id: int) -> str:
    return f"/api/documents/{document_id}/download"


@pytest.fixture
def shared(session, paid_user, free_user) -> dict:
    """A PDF with an awkward name, owned by paid_user and referred to free_user."""
    item = library.store_document(
        session=session,
        user=paid_user,
        name='Prix "été" 100%; naïve.pdf',
        data=PDF,
    )
    outcome = referrals.refer_document(
        session=session,
        user=paid_user,
        document_id=item["id"],
        to_email=free_user.email,
    )
    return {**item, "referral_id": outcome.referral_id}


def test_owner_and_recipient_download_the_same_bytes(
    session, shared, paid_user, free_user
):
    for user in (paid_user, free_user):
        response = _client(session, user).get(_url(shared["id"]))

        assert response.status_code == 200
        assert response.content == PDF


def test_download_is_an_attachment_with_safe_headers(session, shared, free_user):
    response = _client(session, free_user).get(_url(shared["id"]))

    headers = response.headers
    assert headers["content-type"] == "application/pdf"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert headers["cache-control"] == "private, no-store"
    disposition = headers["content-disposition"]
    assert disposition.startswith("attachment; ")
    assert 'filename="Prix _ete_ 100__ naive.pdf"' in disposition
    expected = quote('Prix "été" 100%; naïve.pdf', safe="")
    assert f"filename*=UTF-8''{expected}" in disposition


def test_html_looking_text_is_still_an_attachment(session, free_user):
    item = library.store_document(
        session=session, user=free_user, name="page.html", data=HTML_LOOKING_TEXT
    )

    response = _client(session, free_user).get(_url(item["id"]))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; ")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_without_a_session_the_answer_is_401(session, shared):
    anonymous = _client(session).get(_url(shared["id"]))
    forged = TestClient(api, cookies={SESSION_COOKIE: "forged-token"}).get(
        _url(shared["id"])
    )

    for response in (anonymous, forged):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/json"
        assert PDF not in response.content


def test_stranger_and_missing_document_answer_404_alike(
    session, shared, make_user, free_user
):
    stranger = make_user("stranger@example.com", plan=PLAN_FREE)
    client = _client(session, stranger)

    foreign = client.get(_url(shared["id"]))
    missing = _client(session, free_user).get(_url(shared["id"] + 1000))
    huge = client.get(_url(10**30))

    for response in (foreign, missing, huge):
        assert response.status_code == 404
        assert PDF not in response.content
    assert foreign.json() == missing.json()


def test_revoked_referral_answers_404(session, shared, paid_user, free_user):
    client = _client(session, free_user)
    assert client.get(_url(shared["id"])).status_code == 200

    referral_lifecycle.revoke_referral(
        session=session, user=paid_user, referral_id=shared["referral_id"]
    )

    response = client.get(_url(shared["id"]))
    assert response.status_code == 404
    assert PDF not in response.content


def test_download_is_logged_without_the_token(session, shared, free_user, caplog):
    client = _client(session, free_user)
    token = client.cookies.get(SESSION_COOKIE)

    with caplog.at_level("INFO", logger="chub_ui.api"):
        client.get(_url(shared["id"]))

    lines = [r.getMessage() for r in caplog.records if r.name == "chub_ui.api"]
    assert lines == [f"document {shared['id']} downloaded by user {free_user.id}"]
    assert token not in caplog.text


def test_only_get_is_answered(session, shared, free_user):
    response = _client(session, free_user).post(_url(shared["id"]))

    assert response.status_code == 405


def test_signed_link_downloads_without_a_cookie(session, shared, free_user):
    link = library.download_link(
        session=session, user=free_user, document_id=shared["id"]
    )

    response = TestClient(api).get(link)

    assert response.status_code == 200
    assert response.content == PDF


def test_link_is_not_minted_for_someone_without_access(session, shared, make_user):
    stranger = make_user("stranger@example.com", plan=PLAN_FREE)

    with pytest.raises(NotAllowed):
        library.download_link(session=session, user=stranger, document_id=shared["id"])


@pytest.mark.parametrize("part", ["s", "u", "e"])
def test_tampered_signed_link_answers_401(session, shared, free_user, part):
    link = library.download_link(
        session=session, user=free_user, document_id=shared["id"]
    )
    path, query = link.split("?")
    values = dict(item.split("=") for item in query.split("&"))
    values[part] = "1" + values[part][1:] if values[part][0] != "1" else "2"

    response = TestClient(api).get(
        path + "?" + "&".join(f"{k}={v}" for k, v in values.items())
    )

    assert response.status_code == 401


def test_expired_signed_link_answers_401(session, shared, free_user, monkeypatch):
    link = library.download_link(
        session=session, user=free_user, document_id=shared["id"]
    )
    later = library.time.time() + library.DOWNLOAD_LINK_SECONDS + 1
    monkeypatch.setattr(library.time, "time", lambda: later)

    assert TestClient(api).get(link).status_code == 401


def test_signed_link_for_one_document_does_not_open_another(
    session, shared, free_user, paid_user
):
    other = library.store_document(
        session=session, user=paid_user, name="other.pdf", data=PDF
    )
    link = library.download_link(
        session=session, user=free_user, document_id=shared["id"]
    )

    forged = link.replace(f"/documents/{shared['id']}/", f"/documents/{other['id']}/")

    assert TestClient(api).get(forged).status_code == 401


def test_signed_link_stops_working_when_the_referral_is_withdrawn(
    session, shared, free_user
):
    link = library.download_link(
        session=session, user=free_user, document_id=shared["id"]
    )
    session.execute(
        sa.update(Referral)
        .where(Referral.id == shared["referral_id"])
        .values(recipient_id=None)
    )
    session.commit()

    assert TestClient(api).get(link).status_code == 404


def test_signed_link_with_a_non_ascii_signature_answers_401(session, shared):
    response = TestClient(api).get(_url(shared["id"]) + "?u=1&e=9999999999&s=é")

    assert response.status_code == 401
