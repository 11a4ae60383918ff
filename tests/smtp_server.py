"""A loopback SMTP server for tests: it keeps what it receives and can refuse mail.

Use the ``smtp_server`` and ``make_smtp_server`` fixtures (load this module with
``pytest_plugins = ["tests.smtp_server"]``) or,
in a process that is not pytest's own (a browser test's app server),
``SmtpTestServer().start()`` and point CHUB_SMTP_URL at its ``url``.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
DEFAULT_REFUSAL = "451 4.3.0 Mailbox busy, try again later"


@dataclass(frozen=True)
class ReceivedMail:
    """One message the server accepted.

    Attributes:
        mail_from: the envelope sender (MAIL FROM).
        rcpt_tos: the envelope recipients (RCPT TO).
        message: the parsed message, with the modern ``policy.default`` API.
        raw: the bytes as they arrived.
    """

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes

    @property
    def text(self) -> str:
        """The plain-text part, or "" if there is none."""
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    @property
    def html(self) -> str:
        """The HTML part, or "" if there is none."""
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""


class _AnyPortController(Controller):
    # aiosmtpd connects to its own port once to check the server is up; with
    # port 0 it must first learn which port the system picked.
    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class _Handler:
    def __init__(self, server: "SmtpTestServer") -> None:
        self._server = server

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        return self._server._receive(envelope)


class SmtpTestServer:
    """An aiosmtpd server on 127.0.0.1 and a free port, run in its own thread.

    Safe to read from any thread: messages are kept under a lock, and
    ``wait_for`` blocks until enough have arrived.
    """

    def __init__(self, *, credentials: tuple[str, str] | None = None) -> None:
        """Prepare the server; ``start`` opens the port.

        Args:
            credentials: a (username, password) pair to offer AUTH with; without
                it the server accepts mail from anyone and offers no AUTH.
        """
        self.host = LOOPBACK
        self.port = 0
        self.logins: list[str] = []
        self._credentials = credentials
        self._messages: list[ReceivedMail] = []
        self._refusals: list[str] = []
        self._changed = threading.Condition()
        self._controller: _AnyPortController | None = None

    @property
    def url(self) -> str:
        """The CHUB_SMTP_URL that reaches this server, without a login."""
        return f"smtp://{self.host}:{self.port}"

    @property
    def messages(self) -> list[ReceivedMail]:
        """A copy of what has been received so far, oldest first."""
        with self._changed:
            return list(self._messages)

    def start(self) -> "SmtpTestServer":
        """Open the port and start answering.

        Returns:
            The server itself, for chaining.
        """
        options = {}
        if self._credentials is not None:
            # Loopback only, so AUTH without TLS is acceptable here.
            options = {"authenticator": self._authenticate, "auth_require_tls": False}
        controller = _AnyPortController(
            _Handler(self), hostname=self.host, port=0, **options
        )
        controller.start()
        self._controller = controller
        self.port = controller.port
        logger.info("test SMTP server listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Close the port; calling it twice is harmless."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "SmtpTestServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def refuse_next(self, count: int = 1, reply: str = DEFAULT_REFUSAL) -> None:
        """Answer the next messages' DATA with an error instead of accepting them.

        Args:
            count: how many messages to refuse.
            reply: the SMTP reply, a 4xx (try later) or 5xx (never) code and text.

        Raises:
            ValueError: if the reply is not a 4xx or 5xx reply.
        """
        if reply[:1] not in {"4", "5"} or not reply[:3].isdigit():
            raise ValueError("a refusal needs a 4xx or 5xx reply")
        with self._changed:
            self._refusals.extend([reply] * count)

    def clear(self) -> None:
        """Forget received messages, pending refusals and logins."""
        with self._changed:
            self._messages.clear()
            self._refusals.clear()
            self.logins.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:
        """Block until at least ``count`` messages have arrived.

        Args:
            count: how many messages to wait for in total.
            timeout: seconds to wait at most.

        Returns:
            Every message received so far.

        Raises:
            AssertionError: if fewer than ``count`` arrived in time.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} message(s) within {timeout}s, "
                        f"got {len(self._messages)}"
                    )
                self._changed.wait(remaining)
            return list(self._messages)

    def messages_to(self, address: str) -> list[ReceivedMail]:
        """The received messages whose envelope names this recipient.

        Args:
            address: the recipient, compared case-insensitively.

        Returns:
            The matching messages, oldest first.
        """
        wanted = address.casefold()
        return [
            mail
            for mail in self.messages
            if any(rcpt.casefold() == wanted for rcpt in mail.rcpt_tos)
        ]

    def _receive(self, envelope) -> str:
        with self._changed:
            if self._refusals:
                return self._refusals.pop(0)
            raw = envelope.original_content or envelope.content
            message = BytesParser(policy=policy.default).parsebytes(raw)
            self._messages.append(
                ReceivedMail(
                    mail_from=envelope.mail_from,
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    message=message,
                    raw=raw,
                )
            )
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        expected_user, expected_password = self._credentials
        accepted = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (expected_user, expected_password)
        if accepted:
            with self._changed:
                self.logins.append(expected_user)
        # handled=False lets aiosmtpd send the 235 or 535 reply itself.
        return AuthResult(success=accepted, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    """A running loopback SMTP server, stopped after the test."""
    with SmtpTestServer() as server:
        yield server


@pytest.fixture
def make_smtp_server() -> Iterator[Callable[..., SmtpTestServer]]:
    """Start more servers, e.g. one that wants a login; all stopped afterwards."""
    servers: list[SmtpTestServer] = []

    def _make(*, credentials: tuple[str, str] | None = None) -> SmtpTestServer:
        server = SmtpTestServer(credentials=credentials).start()
        servers.append(server)
        return server

    yield _make
    for server in servers:
        server.stop()
