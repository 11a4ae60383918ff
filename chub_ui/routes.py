"""Route constants and small URL builders."""

from urllib.parse import quote, urlencode

HOME = "/"
LOGIN = "/login"
INVITE = "/invite/[token]"
REFERRALS = "/referrals"
REFERRAL_DETAIL = "/referrals/[referral_id]"
LEADS = "/leads"
CONTACTS = "/contacts"
RECORD_DETAIL = "/records/[record_id]"
IMPORT = "/import"
LIBRARY = "/library"
TAGS = "/tags"
NOTIFICATIONS = "/notifications"
DEMO_MAILBOX = "/demo/mailbox"
UPGRADE = "/upgrade"
TEAM = "/team"
SENT = "/sent"
SENT_DETAIL = "/sent/[referral_id]"
DASHBOARD = "/dashboard"
AUDIT = "/audit"


def login_with_next(path: str) -> str:
    """The login page, remembering where the visitor was going."""
    if not is_safe_next(path) or path.startswith(LOGIN):
        return LOGIN
    return f"{LOGIN}?{urlencode({'next': path})}"


def is_safe_next(path: str | None) -> bool:
    """Whether a path to return to stays on this site."""
    return bool(path) and path.startswith("/") and not path.startswith(("//", "/\\"))


def referral_url(referral_id: int) -> str:
    """The detail page of a referral."""
    return f"/referrals/{int(referral_id)}"


def record_url(record_id: int) -> str:
    """The detail page of one of the account's records."""
    return f"/records/{int(record_id)}"


def invite_url(token: str) -> str:
    """The invitation page of a token."""
    return f"/invite/{quote(token, safe='')}"


def sent_referral_url(referral_id: int) -> str:
    """The timeline of one referral the account sent."""
    return f"/sent/{int(referral_id)}"
