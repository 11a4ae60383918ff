"""The export route: signed links or the cookie, the plan, and safe headers."""

import csv
import io
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import sqlalchemy as sa
import vobject
from starlette.testclient import TestClient

from chub_ui import db
from chub_ui.api import api
from chub_ui.models import KIND_CONTACT, KIND_LEAD, PLAN_FREE, Account, Record, User
from chub_ui.services import auth, exports
from chub_ui.settings import SESSION_COOKIE
from tests.services.rows import add_record

START = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def api_uses_test_database(monkeypatch, engine):
    """Point open_session at this test's database."""
    monkeypatch.setattr(db, "get_engine", lambda url=None: engine)


def _client(session, user: auth.CurrentUser | None = None) -> TestClient:
    client = TestClient(api)
    if user is not None:
        token = auth.start_session(session, session.get(User, user.id))
        session.commit()
        client.cookies.set(SESSION_COOKIE, token)
    return client


def _link(session, user, kind=KIND_CONTACT, fmt="csv", search="") -> str:
    return exports.export_link(
        session=session, user=user, kind=kind, fmt=fmt, search=search
    )


def _rows(response) -> list[dict]:
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _with_query(link: str, **changes) -> str:
    parts = urlsplit(link)
    values = {key: value[0] for key, value in parse_qs(parts.query).items()}
    return parts.path + "?" + urlencode({**values, **changes})


def _downgrade(session, user) -> None:
    account = session.get(Account, user.account_id)
    account.plan = PLAN_FREE
    session.add(account)
    session.commit()


@pytest.fixture
def book(session, paid_user, make_user) -> dict:
    """Two contacts and a lead of paid_user, and a stranger's contact."""
    stranger = make_user("stranger@example.com", name="Sam Stranger")
    add_record(
        session,
        paid_user,
        name="Ada Lovelace",
        email="ada@example.com",
        phone="+44 20 7946 0958",
        created_at=START,
    )
    add_record(
        session,
        paid_user,
        name='=HYPERLINK("http://evil.example")',
        company="Evil, Inc",
        created_at=START + timedelta(hours=1),
    )
    add_record(session, paid_user, name="Lena Lead", kind=KIND_LEAD)
    add_record(session, stranger, name="Theirs", email="theirs@example.com")
    return {"stranger": stranger}


def test_signed_link_streams_the_csv_without_a_cookie(session, paid_user, book):
    response = TestClient(api).get(_link(session, paid_user))

    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = _rows(response)
    assert [row["Name"] for row in rows] == [
        '\'=HYPERLINK("http://evil.example")',
        "Ada Lovelace",
    ]
    assert rows[0]["Company"] == "Evil, Inc"
    assert rows[1]["Phone"] == "'+44 20 7946 0958"
    assert b"Theirs" not in response.content
    assert b"Lena Lead" not in response.content


def test_csv_is_an_attachment_with_safe_headers(session, paid_user, book):
    response = _client(session, paid_user).get("/api/export/contact.csv")

    headers = response.headers
    today = datetime.now(UTC).date().isoformat()
    assert response.status_code == 200
    assert headers["content-type"] == "text/csv; charset=utf-8"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "private, no-store"
    assert headers["content-security-policy"] == "sandbox; default-src 'none'"
    assert headers["content-disposition"] == (
        f'attachment; filename="contacts-{today}.csv"; '
        f"filename*=UTF-8''contacts-{today}.csv"
    )


def test_vcard_of_the_leads(session, paid_user, book):
    response = TestClient(api).get(_link(session, paid_user, KIND_LEAD, "vcf"))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/vcard; charset=utf-8"
    assert 'filename="leads-' in response.headers["content-disposition"]
    assert response.headers["x-content-type-options"] == "nosniff"
    cards = list(vobject.readComponents(response.content.decode("utf-8")))
    assert [card.fn.value for card in cards] == ["Lena Lead"]


def test_the_search_in_the_link_is_applied(session, paid_user, book):
    link = _link(session, paid_user, search="ADA")
    cookie = _client(session, paid_user).get("/api/export/contact.csv?q=evil")

    names = [row["Name"] for row in _rows(TestClient(api).get(link))]

    assert names == ["Ada Lovelace"]
    assert [row["Company"] for row in _rows(cookie)] == ["Evil, Inc"]


def test_other_accounts_never_see_these_records(session, paid_user, book):
    stranger = book["stranger"]

    response = TestClient(api).get(_link(session, stranger, search="a"))

    assert [row["Name"] for row in _rows(response)] == ["Theirs"]
    assert b"Ada" not in response.content


def test_free_account_gets_403_with_a_message(session, free_user):
    response = _client(session, free_user).get("/api/export/contact.csv")

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": exports.EXPORT_PLAN_MESSAGE}


def test_a_link_stops_working_when_the_account_is_downgraded(session, paid_user, book):
    link = _link(session, paid_user)
    _downgrade(session, paid_user)

    response = TestClient(api).get(link)

    assert response.status_code == 403
    assert b"Ada" not in response.content


def test_without_a_session_the_answer_is_401(session, book):
    anonymous = TestClient(api).get("/api/export/contact.csv")
    forged = TestClient(api, cookies={SESSION_COOKIE: "forged-token"}).get(
        "/api/export/contact.vcf"
    )

    for response in (anonymous, forged):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/json"
        assert b"Ada" not in response.content


@pytest.mark.parametrize(
    "change",
    [
        {"s": "0" * 64},
        {"s": "é"},
        {"u": "999"},
        {"e": "1"},
        {"e": "later"},
        {"q": "something else"},
    ],
)
def test_a_forged_link_answers_401(session, paid_user, book, change):
    link = _with_query(_link(session, paid_user, search="ada"), **change)

    response = TestClient(api).get(link)

    assert response.status_code == 401
    assert b"Ada" not in response.content


def test_a_link_without_its_search_answers_401(session, paid_user, book):
    link = _link(session, paid_user, search="ada")
    parts = urlsplit(link)
    values = {key: value[0] for key, value in parse_qs(parts.query).items()}
    del values["q"]

    response = TestClient(api).get(parts.path + "?" + urlencode(values))

    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/api/export/lead.csv", "/api/export/contact.vcf"])
def test_a_link_for_another_kind_or_format_answers_401(session, paid_user, book, path):
    link = _link(session, paid_user, KIND_CONTACT, "csv")
    other = path + "?" + urlsplit(link).query

    assert TestClient(api).get(other).status_code == 401


def test_an_expired_link_answers_401(session, paid_user, book, monkeypatch):
    link = _link(session, paid_user)
    later = exports.time.time() + exports.EXPORT_LINK_SECONDS + 1
    monkeypatch.setattr(exports.time, "time", lambda: later)

    assert TestClient(api).get(link).status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/api/export/deal.csv",
        "/api/export/contacts.csv",
        "/api/export/contact.xlsx",
        "/api/export/contact.CSV",
        "/api/export/contact.csv.csv",
    ],
)
def test_a_bad_kind_or_format_answers_404(session, paid_user, path):
    response = _client(session, paid_user).get(path)

    assert response.status_code == 404


def test_only_get_is_answered(session, paid_user):
    response = _client(session, paid_user).post("/api/export/contact.csv")

    assert response.status_code == 405


def test_thousands_of_rows_stream(session, paid_user):
    session.execute(
        sa.insert(Record),
        [
            {
                "account_id": paid_user.account_id,
                "created_by_id": paid_user.id,
                "kind": KIND_CONTACT,
                "name": f"Person {number:05d}",
                "email": f"person{number}@example.com",
                "extra_json": "{}",
                "created_at": START + timedelta(seconds=number),
            }
            for number in range(3000)
        ],
    )
    session.commit()

    csv_response = TestClient(api).get(_link(session, paid_user))
    vcf_response = TestClient(api).get(_link(session, paid_user, fmt="vcf"))

    rows = _rows(csv_response)
    assert "content-length" not in csv_response.headers
    assert len(rows) == 3000
    assert rows[0]["Name"] == "Person 02999"
    assert rows[-1]["Name"] == "Person 00000"
    cards = list(vobject.readComponents(vcf_response.content.decode("utf-8")))
    assert len(cards) == 3000


def test_export_is_logged_without_the_link(session, paid_user, book, caplog):
    link = _link(session, paid_user)
    signature = parse_qs(urlsplit(link).query)["s"][0]

    with caplog.at_level("INFO", logger="chub_ui.api"):
        TestClient(api).get(link)

    lines = [r.getMessage() for r in caplog.records if r.name == "chub_ui.api"]
    assert lines == [f"contacts exported as csv by user {paid_user.id}"]
    # The test client's own HTTP logger prints the URL; the app must not.
    app_lines = [r.getMessage() for r in caplog.records if r.name.startswith("chub_ui")]
    assert all(signature not in line for line in app_lines)
