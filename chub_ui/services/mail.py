"""The e-mail outbox: mail queued in the caller's transaction, sent by a worker."""

import asyncio
import html
import logging
import smtplib
import ssl
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

import sqlalchemy as sa
from sqlmodel import Session, select

from chub_ui.db import get_engine
from chub_ui.models import (
    KIND_CONTACT,
    KIND_LEAD,
    Invitation,
    OutboxMessage,
    ReferralEvent,
    utcnow,
)
from chub_ui.services.addresses import normalize_email
from chub_ui.services.errors import InvalidInput
from chub_ui.settings import settings

logger = logging.getLogger(__name__)

STATUS_QUEUED = "queued"
STATUS_SENDING = "sending"
STATUS_SENT = "sent"
STATUS_FAILED = "failed"
STATUS_UNSENT = "unsent"

MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 30
SMTP_TIMEOUT_SECONDS = 20
STALE_AFTER = timedelta(minutes=10)
NOT_CONFIGURED_ERROR = "not sent: no SMTP server configured"
MESSAGE_ID_DOMAIN = "partner-network"
# The steps the worker adds to a referral's timeline; referral_lifecycle
# names the others.
EVENT_MAIL_SENT = "mail_sent"
EVENT_MAIL_FAILED = "mail_failed"

MAX_SUBJECT_LENGTH = 300
MAX_BODY_TEXT_LENGTH = 20000
MAX_BODY_HTML_LENGTH = 40000
MAX_ERROR_LENGTH = 300
# Invitation subjects stay short enough for a phone's inbox list.
INVITATION_SUBJECT_LENGTH = 150
INVITATION_LABEL_LENGTH = 80

_TRUE_WORDS = {"1", "true", "yes", "on"}
_FALSE_WORDS = {"0", "false", "no", "off"}
_KIND_WORDS = {KIND_LEAD: "a lead", KIND_CONTACT: "a contact", "document": "a document"}

SessionFactory = Callable[[], Session]


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how the outbox worker hands mail over, parsed from CHUB_SMTP_URL.

    Attributes:
        host: the server's name or address.
        port: the TCP port (25, or 465 for smtps, unless the URL names one).
        username: the login name, or "" to send without logging in.
        password: the login password; left out of repr so logs never show it.
        use_ssl: whether the connection is TLS from the first byte (smtps://).
        starttls: whether a plain connection is upgraded with STARTTLS.
    """

    host: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)
    use_ssl: bool = False
    starttls: bool = False


@dataclass(frozen=True)
class OutgoingMail:
    """A copy of an outbox row taken when it is claimed, used outside any session.

    Attributes:
        id: the outbox row's id.
        to_address: the recipient.
        subject: the one-line subject.
        body_text: the plain-text part.
        body_html: the HTML part.
        created_at: when the row was queued; part of the Message-ID.
        attempts: failed attempts before this one.
        invitation_id: the invitation the mail carries, if any.
    """

    id: int
    to_address: str
    subject: str
    body_text: str
    body_html: str
    created_at: datetime
    attempts: int
    invitation_id: int | None = None

    @classmethod
    def from_row(cls, row: OutboxMessage) -> "OutgoingMail":
        """Copy what sending needs from a loaded outbox row.

        Args:
            row: the claimed outbox row.

        Returns:
            A detached copy of the row's mail.
        """
        return cls(
            id=row.id,
            to_address=row.to_address,
            subject=row.subject,
            body_text=row.body_text,
            body_html=row.body_html,
            created_at=row.created_at,
            attempts=row.attempts,
            invitation_id=row.invitation_id,
        )


def _has_line_break_or_control(text: str) -> bool:
    return any(unicodedata.category(char) in {"Cc", "Zl", "Zp"} for char in text)


def _one_line(text: str) -> str:
    # A line break in a header would let whoever wrote the text add headers.
    cleaned = "".join(
        " " if unicodedata.category(char) in {"Cc", "Zl", "Zp"} else char
        for char in text or ""
    )
    return " ".join(cleaned.split())


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def _domain_of(address: str) -> str:
    return address.rpartition("@")[2] or "?"


def queue_message(
    session: Session,
    *,
    to_address: str,
    subject: str,
    body_text: str,
    body_html: str,
    invitation_id: int | None = None,
    smtp_configured: bool | None = None,
) -> OutboxMessage:
    """Add an e-mail to the outbox as part of the caller's transaction.

    The row is flushed, so it has an id, but not committed: it is sent only if
    the change that caused it is committed too.

    Args:
        session: the caller's open session.
        to_address: the recipient; stored trimmed and case-folded.
        subject: a single line.
        body_text: the plain-text part.
        body_html: the HTML part, with every user value already escaped.
        invitation_id: the invitation this mail carries, if any.
        smtp_configured: whether an SMTP server is set up; by default whether
            CHUB_SMTP_URL is set. Without one the row is kept as 'unsent'.

    Returns:
        The new outbox row.

    Raises:
        InvalidInput: for an unusable address, an empty subject, a subject with a
            line break or control character, or a part that is too long.
    """
    address = normalize_email(to_address)
    if not subject or not subject.strip():
        raise InvalidInput("An e-mail needs a subject.")
    if _has_line_break_or_control(subject):
        raise InvalidInput("An e-mail subject must be a single line.")
    if len(subject) > MAX_SUBJECT_LENGTH:
        raise InvalidInput("That e-mail subject is too long.")
    if len(body_text) > MAX_BODY_TEXT_LENGTH or len(body_html) > MAX_BODY_HTML_LENGTH:
        raise InvalidInput("That e-mail is too long.")
    if smtp_configured is None:
        smtp_configured = bool(settings.smtp_url)

    row = OutboxMessage(
        to_address=address,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        invitation_id=invitation_id,
    )
    if not smtp_configured:
        row.status = STATUS_UNSENT
        row.last_error = NOT_CONFIGURED_ERROR
    session.add(row)
    session.flush()

    if smtp_configured:
        logger.debug("mail queued: outbox #%s to @%s", row.id, _domain_of(address))
    else:
        logger.info(
            "mail kept unsent, no SMTP server configured: outbox #%s to @%s",
            row.id,
            _domain_of(address),
        )
    return row


def _check_invitation_link(link: str) -> None:
    parts = urlsplit(link)
    if (
        parts.scheme not in {"http", "https"}
        or not parts.netloc
        or any(char.isspace() for char in link)
        or _has_line_break_or_control(link)
    ):
        raise ValueError("an invitation link must be an absolute http(s) URL")


def invitation_message(
    *,
    inviter_name: str,
    item_label: str,
    item_kind: str,
    message: str,
    link: str,
) -> tuple[str, str, str]:
    """Write the e-mail inviting someone to see a lead or contact referred to them.

    Args:
        inviter_name: who referred it, as shown to the recipient.
        item_label: the lead's or contact's name.
        item_kind: "lead" or "contact"; anything else reads as "an entry".
        message: the inviter's note; may be empty or span several lines.
        link: the invitation's absolute http(s) URL.

    Returns:
        The subject (one line, at most 150 characters), the plain text and the
        HTML, in which every value above is escaped.

    Raises:
        ValueError: if the link is not a plain http(s) URL.
    """
    _check_invitation_link(link)
    inviter = _one_line(inviter_name) or "A Partner Network user"
    label = _one_line(item_label) or "(no name)"
    kind = _KIND_WORDS.get(item_kind, "an entry")
    note = (message or "").strip()

    short_label = _shorten(label, INVITATION_LABEL_LENGTH)
    subject = _shorten(
        f"{inviter} shared {kind} with you: {short_label}", INVITATION_SUBJECT_LENGTH
    )

    text_lines = [
        "Hello,",
        "",
        f"{inviter} shared {kind} with you on Partner Network: {label}",
        "",
    ]
    if note:
        text_lines.append(f"{inviter} wrote:")
        text_lines.extend(f"> {line}".rstrip() for line in note.splitlines())
        text_lines.append("")
    text_lines += [
        "Open it here:",
        link,
        "",
        "This link is meant for you alone. If you did not expect this message, "
        "you can ignore it.",
        "",
    ]
    body_text = "\n".join(text_lines)

    safe_inviter = html.escape(inviter)
    safe_link = html.escape(link, quote=True)
    note_html = ""
    if note:
        safe_note = "<br>\n".join(html.escape(line) for line in note.splitlines())
        note_html = (
            f"<p>{safe_inviter} wrote:</p>\n"
            f'<blockquote style="border-left: 3px solid #ccc; margin: 0; '
            f'padding-left: 12px;">{safe_note}</blockquote>\n'
        )
    body_html = (
        "<!DOCTYPE html>\n<html>\n<body "
        'style="font-family: sans-serif; line-height: 1.5;">\n'
        "<p>Hello,</p>\n"
        f"<p><strong>{safe_inviter}</strong> shared {kind} with you on Partner "
        f"Network: <strong>{html.escape(label)}</strong></p>\n"
        f"{note_html}"
        f'<p><a href="{safe_link}">Open it on Partner Network</a></p>\n'
        f"<p>Or copy this address into your browser:<br>\n{safe_link}</p>\n"
        "<p>This link is meant for you alone. If you did not expect this "
        "message, you can ignore it.</p>\n"
        "</body>\n</html>\n"
    )
    return subject, body_text, body_html


def team_invitation_message(
    *, inviter_name: str, account_name: str, link: str
) -> tuple[str, str, str]:
    """Write the e-mail inviting someone to join a paid account's team.

    Args:
        inviter_name: who sent the invitation, as shown to the recipient.
        account_name: the name of the account the recipient would join.
        link: the invitation's absolute http(s) URL.

    Returns:
        The subject (one line, at most 150 characters), the plain text and the
        HTML, in which every value above is escaped.

    Raises:
        ValueError: if the link is not a plain http(s) URL.
    """
    _check_invitation_link(link)
    inviter = _one_line(inviter_name) or "A Partner Network user"
    team = _one_line(account_name) or "their team"

    subject = _shorten(
        f"{inviter} invited you to join {_shorten(team, INVITATION_LABEL_LENGTH)} "
        "on Partner Network",
        INVITATION_SUBJECT_LENGTH,
    )
    body_text = "\n".join(
        [
            "Hello,",
            "",
            f"{inviter} invited you to join their team on Partner Network: {team}",
            "",
            "You will share the team's CRM and receive its team messages. "
            "Choose a password here:",
            link,
            "",
            "This link is meant for you alone. If you did not expect this message, "
            "you can ignore it.",
            "",
        ]
    )

    safe_link = html.escape(link, quote=True)
    body_html = (
        "<!DOCTYPE html>\n<html>\n<body "
        'style="font-family: sans-serif; line-height: 1.5;">\n'
        "<p>Hello,</p>\n"
        f"<p><strong>{html.escape(inviter)}</strong> invited you to join their "
        f"team on Partner Network: <strong>{html.escape(team)}</strong></p>\n"
        "<p>You will share the team's CRM and receive its team messages.</p>\n"
        f'<p><a href="{safe_link}">Join the team on Partner Network</a></p>\n'
        f"<p>Or copy this address into your browser:<br>\n{safe_link}</p>\n"
        "<p>This link is meant for you alone. If you did not expect this "
        "message, you can ignore it.</p>\n"
        "</body>\n</html>\n"
    )
    return subject, body_text, body_html


def parse_smtp_url(url: str) -> SmtpTarget:
    """Read an smtp:// or smtps:// URL into an SmtpTarget.

    The form is ``smtp[s]://[user[:password]@]host[:port][?starttls=1]``; user
    and password are URL-decoded. STARTTLS is used when the URL asks for it or,
    unless it says ``starttls=0``, when the port is 587.

    Args:
        url: the configured SMTP URL.

    Returns:
        The parsed target.

    Raises:
        ValueError: for another scheme, a missing host or a bad port. The
            message never repeats the URL, which may hold a password.
    """
    parts = urlsplit((url or "").strip())
    scheme = parts.scheme.lower()
    if scheme not in {"smtp", "smtps"}:
        raise ValueError("the SMTP URL must start with smtp:// or smtps://")
    host = parts.hostname
    if not host:
        raise ValueError("the SMTP URL names no host")
    try:
        port = parts.port
    except ValueError as error:
        raise ValueError("the SMTP URL has an invalid port") from error
    use_ssl = scheme == "smtps"
    port = port or (465 if use_ssl else 25)

    starttls = port == 587
    for value in parse_qs(parts.query).get("starttls", []):
        word = value.strip().lower()
        if word in _TRUE_WORDS:
            starttls = True
        elif word in _FALSE_WORDS:
            starttls = False
        else:
            raise ValueError("starttls in the SMTP URL must be 1 or 0")

    return SmtpTarget(
        host=host,
        port=port,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_ssl=use_ssl,
        starttls=starttls and not use_ssl,
    )


def message_id_for(row_like: OutboxMessage | OutgoingMail) -> str:
    """The Message-ID of an outbox row, the same on every attempt.

    Args:
        row_like: an outbox row or its OutgoingMail copy.

    Returns:
        A Message-ID such as ``<outbox-7.20250101120000123456@partner-network>``.
    """
    # The queue time keeps ids apart when a database is reset and ids restart.
    created = row_like.created_at.astimezone(UTC).strftime("%Y%m%d%H%M%S%f")
    return f"<outbox-{row_like.id}.{created}@{MESSAGE_ID_DOMAIN}>"


def build_email(mail_from: str, row_like: OutboxMessage | OutgoingMail) -> EmailMessage:
    """Build the MIME message for an outbox row: plain text with an HTML twin.

    Args:
        mail_from: the From header, e.g. ``Partner Network <no-reply@example.com>``.
        row_like: an outbox row or its OutgoingMail copy.

    Returns:
        The message, ready for smtplib.
    """
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = row_like.to_address
    message["Subject"] = row_like.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = message_id_for(row_like)
    message.set_content(row_like.body_text)
    message.add_alternative(row_like.body_html, subtype="html")
    return message


def send_one(
    target: SmtpTarget, mail_from: str, row_like: OutboxMessage | OutgoingMail
) -> None:
    """Hand one message to the SMTP server; blocking, so never on the event loop.

    Args:
        target: the parsed SMTP URL.
        mail_from: the From header; its address is also the envelope sender.
        row_like: an outbox row or its OutgoingMail copy.

    Raises:
        smtplib.SMTPException: when the server refuses the login or the mail.
        OSError: when the server cannot be reached or the connection fails.
    """
    message = build_email(mail_from, row_like)
    envelope_from = parseaddr(mail_from)[1] or mail_from
    smtp_class = smtplib.SMTP_SSL if target.use_ssl else smtplib.SMTP
    extra = {"context": ssl.create_default_context()} if target.use_ssl else {}

    client = smtp_class(target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS, **extra)
    try:
        if target.starttls:
            client.starttls(context=ssl.create_default_context())
        if target.username:
            client.login(target.username, target.password)
        client.send_message(
            message, from_addr=envelope_from, to_addrs=[row_like.to_address]
        )
    finally:
        _say_goodbye(client)


def _say_goodbye(client: smtplib.SMTP) -> None:
    # Once the server has accepted the mail, a failed QUIT must not turn into an
    # error, or the worker would send the message again.
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _as_session_factory(engine_or_session_factory) -> SessionFactory:
    if isinstance(engine_or_session_factory, sa.Engine):
        engine = engine_or_session_factory
        return lambda: Session(engine)
    return engine_or_session_factory


def _short_reason(error: BaseException, target: SmtpTarget) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()), (0, b""))
        text = f"recipient refused: {code} {_decoded(reply)}"
    elif isinstance(error, smtplib.SMTPResponseException):
        text = f"SMTP {error.smtp_code}: {_decoded(error.smtp_error)}"
    else:
        text = f"{type(error).__name__}: {error}".rstrip(": ")
    text = " ".join(text.split())
    # Servers sometimes echo what they were sent, and a log is no place for it.
    if target.password:
        text = text.replace(target.password, "***")
    return _shorten(text, MAX_ERROR_LENGTH)


def _decoded(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        return reply.decode("utf-8", errors="replace")
    return str(reply)


def _due_ids(open_session: SessionFactory, limit: int) -> list[int]:
    with open_session() as session:
        return list(
            session.exec(
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status == STATUS_QUEUED,
                    OutboxMessage.next_attempt_at <= utcnow(),
                )
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(limit)
            )
        )


def _claim(open_session: SessionFactory, outbox_id: int) -> OutgoingMail | None:
    now = utcnow()
    with open_session() as session:
        # One conditional UPDATE is the lock: of two workers racing for a row,
        # the database lets exactly one of them change it from 'queued'.
        result = session.exec(
            sa.update(OutboxMessage)
            .where(
                OutboxMessage.id == outbox_id,
                OutboxMessage.status == STATUS_QUEUED,
                OutboxMessage.next_attempt_at <= now,
            )
            .values(status=STATUS_SENDING, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            session.rollback()
            return None
        session.commit()
        row = session.get(OutboxMessage, outbox_id)
        return OutgoingMail.from_row(row)


def _add_referral_event(
    session: Session, outgoing: OutgoingMail, kind: str, detail: str = ""
) -> None:
    """Put a mail step on the timeline of the referral the mail invites to, if any.

    Written in the session that marks the outbox row, so the row's state and
    the timeline never disagree.
    """
    if outgoing.invitation_id is None:
        return
    referral_id = session.exec(
        select(Invitation.referral_id).where(Invitation.id == outgoing.invitation_id)
    ).first()
    if referral_id is not None:
        session.add(ReferralEvent(referral_id=referral_id, kind=kind, detail=detail))


def _mark_sent(open_session: SessionFactory, outgoing: OutgoingMail) -> None:
    with open_session() as session:
        session.exec(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == outgoing.id)
            .values(status=STATUS_SENT, sent_at=utcnow(), last_error="")
            .execution_options(synchronize_session=False)
        )
        _add_referral_event(session, outgoing, EVENT_MAIL_SENT)
        session.commit()
    logger.info(
        "mail sent: outbox #%s to @%s", outgoing.id, _domain_of(outgoing.to_address)
    )


def failure_reason(status: str, last_error: str) -> str:
    """The reason to show beside a message's state: only for a failed or a
    retried delivery; a sent message has none, and "not sent" says it all."""
    if status in (STATUS_SENT, STATUS_UNSENT):
        return ""
    return last_error


def _is_permanent(error: BaseException) -> bool:
    """Whether the server refused this message for good, so retrying cannot help.

    Only a 5xx answer to the recipient or to the message counts: a refused
    login or sender is the operator's settings, which a retry may outlive.
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _reply in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    return False


def _mark_failed_attempt(
    open_session: SessionFactory,
    outgoing: OutgoingMail,
    reason: str,
    *,
    permanent: bool = False,
) -> None:
    attempts = outgoing.attempts + 1
    now = utcnow()
    if permanent or attempts >= MAX_ATTEMPTS:
        values = {"status": STATUS_FAILED, "claimed_at": None}
    else:
        retry_at = now + timedelta(seconds=BACKOFF_SECONDS * 2**attempts)
        values = {
            "status": STATUS_QUEUED,
            "claimed_at": None,
            "next_attempt_at": retry_at,
        }
    with open_session() as session:
        session.exec(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == outgoing.id)
            .values(attempts=attempts, last_error=reason, **values)
            .execution_options(synchronize_session=False)
        )
        # Every failed attempt is a step the referrer may want to see, with
        # the server's reason; a later success adds mail_sent after it.
        _add_referral_event(session, outgoing, EVENT_MAIL_FAILED, reason)
        session.commit()

    domain = _domain_of(outgoing.to_address)
    if permanent or attempts >= MAX_ATTEMPTS:
        logger.error(
            "mail failed for good: outbox #%s to @%s after %s attempts: %s",
            outgoing.id,
            domain,
            attempts,
            reason,
        )
    else:
        logger.warning(
            "mail not sent: outbox #%s to @%s, attempt %s of %s, retry at %s: %s",
            outgoing.id,
            domain,
            attempts,
            MAX_ATTEMPTS,
            values["next_attempt_at"].isoformat(timespec="seconds"),
            reason,
        )


def deliver_due(
    *,
    engine_or_session_factory: sa.Engine | SessionFactory,
    smtp_url: str,
    mail_from: str,
    limit: int = 20,
) -> int:
    """Send the queued mail that is due, each row claimed before it is sent.

    Every claim is committed before the message goes out, so any number of
    workers can run this at once and each row is sent by one of them only.
    Rows kept 'unsent' for want of an SMTP server are never picked up.

    Args:
        engine_or_session_factory: an engine, or a callable returning a new
            Session; each step uses a short session of its own.
        smtp_url: where to send, as in CHUB_SMTP_URL.
        mail_from: the From header.
        limit: at most this many rows per call.

    Returns:
        How many messages the server accepted.

    Raises:
        ValueError: if smtp_url cannot be parsed.
    """
    target = parse_smtp_url(smtp_url)
    open_session = _as_session_factory(engine_or_session_factory)
    sent = 0

    for outbox_id in _due_ids(open_session, limit):
        outgoing = _claim(open_session, outbox_id)
        if outgoing is None:
            continue
        try:
            send_one(target, mail_from, outgoing)
        except Exception as error:
            # Whatever went wrong, the row must leave 'sending' with a reason,
            # and the rest of the batch still gets its turn.
            _mark_failed_attempt(
                open_session,
                outgoing,
                _short_reason(error, target),
                permanent=_is_permanent(error),
            )
        else:
            _mark_sent(open_session, outgoing)
            sent += 1

    return sent


def requeue_stale(session: Session, older_than: timedelta = STALE_AFTER) -> int:
    """Put rows left in 'sending' by a crashed worker back in the queue.

    The caller commits.

    Args:
        session: an open session.
        older_than: how long ago a claim must be to count as abandoned; far
            longer than any send, which times out after 20 seconds.

    Returns:
        How many rows were put back.
    """
    # Known limit: a crash after the SMTP server accepted a message but before
    # its row was marked sent makes this send it twice; receivers can drop the
    # copy because both carry the same Message-ID.
    now = utcnow()
    result = session.exec(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.status == STATUS_SENDING,
            sa.or_(
                OutboxMessage.claimed_at.is_(None),
                OutboxMessage.claimed_at < now - older_than,
            ),
        )
        .values(status=STATUS_QUEUED, claimed_at=None, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )

    count = result.rowcount
    if count:
        logger.warning("outbox: %s message(s) left in 'sending' were requeued", count)
    return count


def _requeue_stale_now(engine: sa.Engine) -> int:
    with Session(engine) as session:
        count = requeue_stale(session)
        session.commit()
        return count


async def outbox_worker() -> None:
    """Deliver the outbox for as long as the app runs; a Reflex lifespan task.

    On start it requeues rows a crash left in 'sending', then runs deliver_due
    in a thread every CHUB_OUTBOX_POLL_SECONDS. Without CHUB_SMTP_URL it logs
    that once and returns. A failing round is logged and the loop goes on; it
    ends only when the task is cancelled.

    Raises:
        asyncio.CancelledError: when the app shuts down and cancels the task.
    """
    smtp_url = settings.smtp_url
    if not smtp_url:
        logger.info("outbox worker not started: no SMTP server configured")
        return
    try:
        target = parse_smtp_url(smtp_url)
    except ValueError as error:
        logger.error("outbox worker not started: %s", error)
        return
    engine = get_engine()
    logger.info(
        "outbox worker started, sending through %s:%s", target.host, target.port
    )

    try:
        await asyncio.to_thread(_requeue_stale_now, engine)
    except Exception:
        logger.exception("outbox: could not requeue stale messages")

    try:
        while True:
            try:
                await asyncio.to_thread(
                    deliver_due,
                    engine_or_session_factory=engine,
                    smtp_url=smtp_url,
                    mail_from=settings.mail_from,
                )
            except Exception:
                logger.exception("outbox: delivery round failed; trying again")
            await asyncio.sleep(settings.outbox_poll_seconds)
    except asyncio.CancelledError:
        logger.info("outbox worker stopped")
        raise
