"""E-mail addresses are trimmed, case-folded, and refused when unsafe."""

import pytest

from chub_ui.services.addresses import normalize_email
from chub_ui.services.errors import InvalidInput


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Bob@Example.COM ", "bob@example.com"),
        ("\u00a0bob@example.com\u2003", "bob@example.com"),
        ("\u200bbob@example.com\ufeff", "bob@example.com"),
        ("\u3000BOB@example.com", "bob@example.com"),
    ],
)
def test_addresses_are_trimmed_and_case_folded(raw, expected):
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "bob@example.com\r\nBcc: victim@example.com",
        "bob@example.com\nX: y",
        '"Bob" <bob@example.com>',
        "Bob <bob@example.com>",
        "bob@example.com, eve@example.com",
        "bob",
        "bob@",
        "bob@localhost",
        "@example.com",
        "a@b@example.com",
        "bob (comment)@example.com",
    ],
)
def test_unsafe_or_incomplete_addresses_are_refused(raw):
    with pytest.raises(InvalidInput):
        normalize_email(raw)
