"""One validated settings object, read from the CHUB_* environment variables."""

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

PLACEHOLDER_SECRET = "change-me-in-production"  # noqa: S105
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# A hidden folder: Reflex's dev server reloads on changes anywhere else in the
# project, and SQLite's -wal and -shm files change on every write.
DATA_DIR = PROJECT_ROOT / ".data"
# The name of the browser cookie that holds the session token; the Reflex
# state and the download route in api.py both read it.
SESSION_COOKIE = "chub_session"


class SettingsError(ValueError):
    """A CHUB_* variable holds a value the app cannot run with."""


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be 1/0, true/false, yes/no or on/off")


def _positive_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be a whole number") from error
    if value <= 0:
        raise SettingsError(f"{name} must be greater than zero")
    return value


@dataclass
class Settings:
    """Everything the app reads from its environment, checked once at start."""

    env: str = "development"
    base_url: str = "http://localhost:3000"
    secret_key: str = PLACEHOLDER_SECRET
    database_url: str = f"sqlite:///{DATA_DIR / 'chub.db'}"
    smtp_url: str = ""
    mail_from: str = "Partner Network <no-reply@partner-network.local>"
    demo_mode: bool = False
    storage_dir: Path = DATA_DIR / "storage"
    import_max_bytes: int = 5 * 1024 * 1024
    document_max_bytes: int = 25 * 1024 * 1024
    account_quota_bytes: int = 1024 * 1024 * 1024
    session_days: int = 14
    invitation_days: int = 14
    cors_origins: list[str] = field(default_factory=list)
    outbox_poll_seconds: int = 2

    @property
    def is_production(self) -> bool:
        """Whether the app runs for real users, where placeholders are refused."""
        return self.env == "production"

    def validate(self) -> "Settings":
        """Refuse values the app cannot run with; return self for chaining."""
        if self.env not in {"development", "test", "production"}:
            raise SettingsError("CHUB_ENV must be development, test or production")
        parts = urlsplit(self.base_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise SettingsError("CHUB_BASE_URL must be an http(s) URL with a host")
        if self.is_production and (
            self.secret_key == PLACEHOLDER_SECRET or len(self.secret_key) < 32
        ):
            raise SettingsError(
                "CHUB_SECRET_KEY must be set to a random value of 32 or more "
                "characters in production"
            )
        if self.is_production and self.demo_mode:
            raise SettingsError(
                "CHUB_DEMO must be off in production: the demo mailbox shows every "
                "invitation link to anyone"
            )
        if self.smtp_url and urlsplit(self.smtp_url).scheme not in {"smtp", "smtps"}:
            raise SettingsError("CHUB_SMTP_URL must start with smtp:// or smtps://")
        return self


def _text(name: str, default: str) -> str:
    # An empty variable counts as unset, as it does in most deployment tools.
    return os.environ.get(name, "").strip() or default


def load_settings() -> Settings:
    """Read the CHUB_* variables into a validated Settings object."""
    defaults = Settings()
    base_url = _text("CHUB_BASE_URL", defaults.base_url).rstrip("/")
    origins = _text("CHUB_CORS_ORIGINS", "")
    settings = Settings(
        env=_text("CHUB_ENV", defaults.env).lower(),
        base_url=base_url,
        secret_key=_text("CHUB_SECRET_KEY", defaults.secret_key),
        database_url=_text("CHUB_DATABASE_URL", defaults.database_url),
        smtp_url=_text("CHUB_SMTP_URL", ""),
        mail_from=_text("CHUB_MAIL_FROM", defaults.mail_from),
        demo_mode=_flag("CHUB_DEMO", default=False),
        storage_dir=Path(_text("CHUB_STORAGE_DIR", str(defaults.storage_dir))),
        import_max_bytes=_positive_int("CHUB_IMPORT_MAX_BYTES", 5 * 1024 * 1024),
        document_max_bytes=_positive_int(
            "CHUB_DOCUMENT_MAX_BYTES", defaults.document_max_bytes
        ),
        account_quota_bytes=_positive_int(
            "CHUB_ACCOUNT_QUOTA_BYTES", defaults.account_quota_bytes
        ),
        session_days=_positive_int("CHUB_SESSION_DAYS", 14),
        invitation_days=_positive_int("CHUB_INVITATION_DAYS", 14),
        cors_origins=[o.strip() for o in origins.split(",") if o.strip()] or [base_url],
        outbox_poll_seconds=_positive_int("CHUB_OUTBOX_POLL_SECONDS", 2),
    )
    return settings.validate()


settings = load_settings()
