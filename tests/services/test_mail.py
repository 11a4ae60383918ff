"""Tests of the outbox: queueing, the invitation text and delivery over SMTP."""

import asyncio
import logging
import threading
import time
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from sqlmodel import Session, select

from chub_ui.models import OutboxMessage, utcnow
from chub_ui.services import mail
from chub_ui.services.errors import InvalidInput

if TYPE_CHECKING:
    from tests.smtp_server import SmtpTestServer

logger = logging.getLogger(__name__)


SENDER = "Partner Network <no-reply@partner-network.test>"
LINK = "https://app.example.test/invitation/abc123?x=1&y=2"


def _queue(session: Session, to_address: str = "pat@example.com", **overrides):
    fields = {
        "to_address": to_address,
        "subject": "A lead for you",
        "body_text": "Plain words.",
        "body_html": "<p>Plain words.</p>",
        "smtp_configured": True,
    }
    fields.update(overrides)
    return mail.queue_message(session, **fields)


def _deliver(engine, server: "SmtpTestServer", **overrides) -> int:
    return mail.deliver_due(
        engine_or_session_factory=engine,
        smtp_url=overrides.pop("smtp_url", server.url),
        mail_from=SENDER,
        **overrides,
    )


def _make_due(session: Session, row: OutboxMessage) -> None:
    # Stands in for waiting out the backoff.
    session.refresh(row)
    row.next_attempt_at = utcnow() - timedelta(seconds=1)
    session.commit()


def test_queue_message_rolled_back_leaves_no_row(session):
    row = _queue(session)
    assert row.id is not None
    assert row.status == mail.STATUS_QUEUED

    session.rollback()

    assert session.exec(select(OutboxMessage)).all() == []


def test_queue_message_is_kept_when_the_caller_commits(session):
    row = _queue(session, to_address="  Pat@Example.COM ")
    session.commit()

    stored = session.exec(select(OutboxMessage)).one()
    assert stored.id == row.id
    assert stored.to_address == "pat@example.com"
    assert stored.attempts == 0


def test_queue_message_without_smtp_is_unsent(session, caplog):
    caplog.set_level(logging.INFO, logger=mail.__name__)

    row = _queue(session, smtp_configured=False)

    assert row.status == mail.STATUS_UNSENT
    assert row.last_error == "not sent: no SMTP server configured"
    lines = [r for r in caplog.records if r.name == mail.__name__]
    assert len(lines) == 1
    assert lines[0].levelno == logging.INFO
    assert "example.com" in lines[0].getMessage()
    assert "pat@" not in lines[0].getMessage()


def test_queue_message_follows_the_smtp_setting(session, monkeypatch):
    monkeypatch.setattr(mail.settings, "smtp_url", "")
    assert _queue(session, smtp_configured=None).status == mail.STATUS_UNSENT

    monkeypatch.setattr(mail.settings, "smtp_url", "smtp://127.0.0.1:2525")
    assert _queue(session, smtp_configured=None).status == mail.STATUS_QUEUED


@pytest.mark.parametrize(
    "to_address",
    [
        "",
        "not an address",
        "pat@example.com\r\nBcc: everyone@example.com",
        "Pat <pat@example.com>",
        "pat@example.com, eve@example.com",
    ],
)
def test_queue_message_refuses_a_bad_address(session, to_address):
    with pytest.raises(InvalidInput):
        _queue(session, to_address=to_address)

    assert session.exec(select(OutboxMessage)).all() == []


@pytest.mark.parametrize(
    "subject",
    [
        "Hello\r\nBcc: everyone@example.com",
        "Hello\nthere",
        "Hello\rthere",
        "Hello\u2028there",
        "",
        "   ",
        "x" * 301,
    ],
)
def test_queue_message_refuses_a_bad_subject(session, subject):
    with pytest.raises(InvalidInput):
        _queue(session, subject=subject)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.test", mail.SmtpTarget("mail.example.test", 25)),
        (
            "smtps://mail.example.test",
            mail.SmtpTarget("mail.example.test", 465, use_ssl=True),
        ),
        ("smtp://127.0.0.1:2525", mail.SmtpTarget("127.0.0.1", 2525)),
        (
            "smtp://mx.example.test:587",
            mail.SmtpTarget("mx.example.test", 587, starttls=True),
        ),
        (
            "smtp://mx.example.test:587?starttls=0",
            mail.SmtpTarget("mx.example.test", 587),
        ),
        (
            "smtp://mx.example.test:2525?starttls=1",
            mail.SmtpTarget("mx.example.test", 2525, starttls=True),
        ),
        (
            "SMTPS://Mailer%40Corp:p%40ss%3Aw%2Ford@MX.Example.Test:2465?starttls=1",
            mail.SmtpTarget(
                "mx.example.test", 2465, "Mailer@Corp", "p@ss:w/ord", use_ssl=True
            ),
        ),
        (
            "smtp://apikey:s3cret@[::1]:25",
            mail.SmtpTarget("::1", 25, "apikey", "s3cret"),
        ),
    ],
)
def test_parse_smtp_url(url, expected):
    assert mail.parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://mail.example.test",
        "smtp://",
        "smtp://user:hunter2@mail.example.test:notaport",
        "smtp://mail.example.test?starttls=maybe",
    ],
)
def test_parse_smtp_url_refuses_without_repeating_the_url(url):
    with pytest.raises(ValueError, match="SMTP URL") as caught:
        mail.parse_smtp_url(url)

    assert "hunter2" not in str(caught.value)


def test_smtp_target_repr_hides_the_password():
    target = mail.parse_smtp_url("smtp://user:hunter2@mail.example.test")

    assert target.password == "hunter2"
    assert "hunter2" not in repr(target)


def test_invitation_message_escapes_user_values():
    subject, text, html_body = mail.invitation_message(
        inviter_name="Olivia <b>Owner</b>",
        item_label="Acme <script>alert(1)</script>",
        item_kind="lead",
        message="Call them soon!\n<script>steal()</script> & thanks",
        link=LINK,
    )

    assert "<script>" not in html_body
    assert "<b>" not in html_body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_body
    assert "&lt;script&gt;steal()&lt;/script&gt; &amp; thanks" in html_body
    assert "Olivia &lt;b&gt;Owner&lt;/b&gt;" in html_body
    assert 'href="https://app.example.test/invitation/abc123?x=1&amp;y=2"' in html_body
    assert LINK in text
    assert "> <script>steal()</script> & thanks" in text
    assert "a lead" in subject
    assert "Acme <script>alert(1)</script>" in subject


def test_invitation_message_subject_is_one_short_line():
    subject, text, _ = mail.invitation_message(
        inviter_name="Olivia\r\nBcc: everyone@example.com",
        item_label="A very long company name " * 20,
        item_kind="contact",
        message="",
        link=LINK,
    )

    assert "\r" not in subject
    assert "\n" not in subject
    assert len(subject) <= mail.INVITATION_SUBJECT_LENGTH
    assert subject.startswith("Olivia Bcc: everyone@example.com shared a contact")
    assert subject.endswith("…")
    assert "wrote:" not in text


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "/invitation/abc",
        "https://x.test/a b",
        "https://x.test/\n",
    ],
)
def test_invitation_message_refuses_a_link_that_is_not_http(link):
    with pytest.raises(ValueError, match="http"):
        mail.invitation_message(
            inviter_name="Olivia",
            item_label="Acme",
            item_kind="lead",
            message="",
            link=link,
        )


def test_deliver_due_sends_text_and_html(engine, session, smtp_server):
    subject, text, html_body = mail.invitation_message(
        inviter_name="Olivia Owner",
        item_label="Acme <script>x</script>",
        item_kind="lead",
        message="Worth a call.",
        link=LINK,
    )
    row = _queue(session, subject=subject, body_text=text, body_html=html_body)
    expected_id = mail.message_id_for(row)
    session.commit()

    assert _deliver(engine, smtp_server) == 1

    (received,) = smtp_server.wait_for(1)
    message = received.message
    assert received.mail_from == "no-reply@partner-network.test"
    assert received.rcpt_tos == ("pat@example.com",)
    assert message["To"] == "pat@example.com"
    assert message["From"] == SENDER
    assert message["Subject"] == subject
    assert message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    assert "Worth a call." in received.text
    assert LINK in received.text
    assert "&lt;script&gt;x&lt;/script&gt;" in received.html
    assert "<script>" not in received.html
    session.refresh(row)
    assert message["Message-ID"] == expected_id == mail.message_id_for(row)
    assert row.status == mail.STATUS_SENT
    assert row.sent_at is not None
    assert row.attempts == 0
    assert _deliver(engine, smtp_server) == 0


def test_message_id_is_stable_and_distinct(session):
    first = _queue(session)
    second = _queue(session)
    session.commit()

    assert mail.message_id_for(first) == mail.message_id_for(first)
    assert mail.message_id_for(first) != mail.message_id_for(second)
    assert mail.message_id_for(first).startswith(f"<outbox-{first.id}.")


def test_deliver_due_never_sends_unsent_rows(engine, session, smtp_server):
    row = _queue(session, smtp_configured=False)
    session.commit()

    assert _deliver(engine, smtp_server) == 0

    assert smtp_server.messages == []
    session.refresh(row)
    assert row.status == mail.STATUS_UNSENT


def test_refused_mail_is_retried_later(engine, session, smtp_server, caplog):
    caplog.set_level(logging.INFO, logger=mail.__name__)
    row = _queue(session)
    session.commit()
    smtp_server.refuse_next(1)

    assert _deliver(engine, smtp_server) == 0

    session.refresh(row)
    assert row.status == mail.STATUS_QUEUED
    assert row.attempts == 1
    assert row.next_attempt_at > utcnow() + timedelta(seconds=30)
    assert row.last_error.startswith("SMTP 451")
    assert row.claimed_at is None
    assert smtp_server.messages == []
    assert "attempt 1 of 5" in caplog.text
    assert "Plain words" not in caplog.text

    assert _deliver(engine, smtp_server) == 0  # not due yet
    _make_due(session, row)
    assert _deliver(engine, smtp_server) == 1

    smtp_server.wait_for(1)
    session.refresh(row)
    assert row.status == mail.STATUS_SENT
    assert row.attempts == 1


def test_mail_fails_for_good_after_max_attempts(engine, session, smtp_server):
    row = _queue(session)
    session.commit()
    smtp_server.refuse_next(mail.MAX_ATTEMPTS, reply="452 4.2.2 Mailbox full")

    for attempt in range(1, mail.MAX_ATTEMPTS + 1):
        assert _deliver(engine, smtp_server) == 0
        session.refresh(row)
        assert row.attempts == attempt
        _make_due(session, row)

    session.refresh(row)
    assert row.status == mail.STATUS_FAILED
    assert row.last_error == "SMTP 452: 4.2.2 Mailbox full"
    assert _deliver(engine, smtp_server) == 0
    assert smtp_server.messages == []


def test_a_permanent_refusal_fails_at_once_without_retrying(
    engine, session, smtp_server
):
    row = _queue(session)
    session.commit()
    smtp_server.refuse_next(1, reply="554 5.7.1 Rejected")

    assert _deliver(engine, smtp_server) == 0
    session.refresh(row)
    assert (row.status, row.attempts) == (mail.STATUS_FAILED, 1)
    assert row.last_error == "SMTP 554: 5.7.1 Rejected"
    _make_due(session, row)
    assert _deliver(engine, smtp_server) == 0
    assert smtp_server.messages == []


def test_backoff_grows_with_each_attempt(engine, session, smtp_server):
    row = _queue(session)
    session.commit()
    smtp_server.refuse_next(2)
    delays = []

    for _ in range(2):
        started = utcnow()
        _deliver(engine, smtp_server)
        session.refresh(row)
        delays.append((row.next_attempt_at - started).total_seconds())
        _make_due(session, row)

    assert 60 <= delays[0] < 62
    assert 120 <= delays[1] < 122


def test_unreachable_server_is_an_attempt(engine, session, make_smtp_server):
    row = _queue(session)
    session.commit()
    server = make_smtp_server()
    server.stop()
    closed_url = server.url

    sent = mail.deliver_due(
        engine_or_session_factory=engine, smtp_url=closed_url, mail_from=SENDER
    )

    assert sent == 0
    session.refresh(row)
    assert row.status == mail.STATUS_QUEUED
    assert row.attempts == 1
    assert row.last_error.startswith("ConnectionRefusedError")


def test_login_uses_the_decoded_credentials(engine, session, make_smtp_server):
    row = _queue(session)
    session.commit()
    server = make_smtp_server(credentials=("mailer@corp", "p@ss word"))
    url = f"smtp://mailer%40corp:p%40ss%20word@{server.host}:{server.port}"

    sent = mail.deliver_due(
        engine_or_session_factory=engine, smtp_url=url, mail_from=SENDER
    )

    assert sent == 1
    server.wait_for(1)
    assert server.logins == ["mailer@corp"]
    session.refresh(row)
    assert row.status == mail.STATUS_SENT


def test_failed_login_keeps_the_password_out(engine, session, make_smtp_server, caplog):
    caplog.set_level(logging.INFO, logger=mail.__name__)
    row = _queue(session)
    session.commit()
    server = make_smtp_server(credentials=("mailer", "right-secret"))
    url = f"smtp://mailer:wr%40ng-secret@{server.host}:{server.port}"

    sent = mail.deliver_due(
        engine_or_session_factory=engine, smtp_url=url, mail_from=SENDER
    )

    assert sent == 0
    assert server.messages == []
    session.refresh(row)
    assert row.status == mail.STATUS_QUEUED
    assert row.last_error.startswith("SMTP 535")
    assert "wr@ng-secret" not in row.last_error
    assert "wr@ng-secret" not in caplog.text
    assert "wr%40ng-secret" not in caplog.text


def test_two_workers_send_each_message_once(engine, session, smtp_server):
    count = 12
    for number in range(count):
        _queue(session, to_address=f"partner{number}@example.com")
    session.commit()
    # Hold each worker after it has listed the due rows (its first session) and
    # before its first claim (its second), so both race for every row.
    barrier = threading.Barrier(2, timeout=5)
    local = threading.local()

    def factory() -> Session:
        local.sessions = getattr(local, "sessions", 0) + 1
        if local.sessions == 2:
            barrier.wait()
        return Session(engine)

    results: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(
                mail.deliver_due(
                    engine_or_session_factory=factory,
                    smtp_url=smtp_server.url,
                    mail_from=SENDER,
                )
            )
        except BaseException as error:  # a thread's error must reach the test
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sum(results) == count
    logger.info("the two workers sent %s", results)
    # deliver_due returns only after the server answered, so all have arrived.
    received = smtp_server.messages
    assert len(received) == count
    assert len({mail_.message["Message-ID"] for mail_ in received}) == count
    rows = session.exec(select(OutboxMessage)).all()
    assert {row.status for row in rows} == {mail.STATUS_SENT}


def test_a_claimed_row_is_not_sent_again(engine, session, smtp_server):
    row = _queue(session)
    row.status = mail.STATUS_SENDING
    row.claimed_at = utcnow()
    session.commit()

    assert _deliver(engine, smtp_server) == 0
    assert smtp_server.messages == []


def test_requeue_stale(session):
    stale = _queue(session)
    stale.status = mail.STATUS_SENDING
    stale.claimed_at = utcnow() - timedelta(minutes=20)
    fresh = _queue(session)
    fresh.status = mail.STATUS_SENDING
    fresh.claimed_at = utcnow() - timedelta(minutes=1)
    sent = _queue(session)
    sent.status = mail.STATUS_SENT
    sent.claimed_at = utcnow() - timedelta(hours=1)
    unsent = _queue(session, smtp_configured=False)
    session.commit()

    assert mail.requeue_stale(session) == 1
    session.commit()

    for row in (stale, fresh, sent, unsent):
        session.refresh(row)
    assert stale.status == mail.STATUS_QUEUED
    assert stale.claimed_at is None
    assert stale.next_attempt_at <= utcnow()
    assert fresh.status == mail.STATUS_SENDING
    assert sent.status == mail.STATUS_SENT
    assert unsent.status == mail.STATUS_UNSENT
    assert mail.requeue_stale(session, older_than=timedelta(seconds=0)) == 1


async def test_outbox_worker_delivers_until_cancelled(
    engine, session, smtp_server, monkeypatch
):
    monkeypatch.setattr(mail.settings, "smtp_url", smtp_server.url)
    monkeypatch.setattr(mail.settings, "mail_from", SENDER)
    monkeypatch.setattr(mail.settings, "outbox_poll_seconds", 0.02)
    monkeypatch.setattr(mail, "get_engine", lambda: engine)
    crashed = _queue(session, to_address="crashed@example.com")
    crashed.status = mail.STATUS_SENDING
    crashed.claimed_at = utcnow() - timedelta(hours=1)
    _queue(session, to_address="waiting@example.com")
    session.commit()

    task = asyncio.create_task(mail.outbox_worker())
    await asyncio.to_thread(smtp_server.wait_for, 2)
    await _wait_until(lambda: _statuses(engine) == {mail.STATUS_SENT})
    _queue(session, to_address="later@example.com")
    session.commit()
    await asyncio.to_thread(smtp_server.wait_for, 3)
    await _wait_until(lambda: _statuses(engine) == {mail.STATUS_SENT})
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(smtp_server.messages) == 3


async def test_outbox_worker_survives_a_failing_round(monkeypatch, caplog):
    monkeypatch.setattr(mail.settings, "smtp_url", "smtp://127.0.0.1:2525")
    monkeypatch.setattr(mail.settings, "outbox_poll_seconds", 0.01)
    monkeypatch.setattr(mail, "_requeue_stale_now", lambda engine: 0)
    calls: list[str] = []

    def flaky_deliver_due(**kwargs) -> int:
        calls.append(kwargs["smtp_url"])
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return 0

    monkeypatch.setattr(mail, "deliver_due", flaky_deliver_due)

    task = asyncio.create_task(mail.outbox_worker())
    await _wait_until(lambda: len(calls) >= 3)
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    assert "database went away" in caplog.text


async def test_outbox_worker_without_smtp_does_nothing(monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger=mail.__name__)
    monkeypatch.setattr(mail.settings, "smtp_url", "")

    def must_not_run(**kwargs) -> int:
        raise AssertionError("deliver_due ran without an SMTP server")

    monkeypatch.setattr(mail, "deliver_due", must_not_run)

    await asyncio.wait_for(mail.outbox_worker(), timeout=1)

    lines = [r for r in caplog.records if r.name == mail.__name__]
    assert len(lines) == 1
    assert "no SMTP server configured" in lines[0].getMessage()


def _statuses(engine) -> set[str]:
    with Session(engine) as session:
        return set(session.exec(select(OutboxMessage.status)))


async def _wait_until(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(condition):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
