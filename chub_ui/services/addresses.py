"""E-mail addresses: trimming, case-folding and refusing what is unsafe."""

import logging
import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from chub_ui.services.errors import InvalidInput
from chub_ui.services.text import is_encodable

logger = logging.getLogger(__name__)

MAX_ADDRESS_LENGTH = 320
# Characters that str.strip() keeps but that a pasted address often carries.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_HEADER_TRICKS = re.compile(r'[<>",;:()\[\]\\]')


def normalize_email(raw: str | None) -> str:
    """Return the address trimmed and case-folded, or raise InvalidInput.

    Args:
        raw: what the user typed or what a file held.

    Returns:
        The address as it is stored and compared.

    Raises:
        InvalidInput: for an empty address, a line break or other control
            character, a display name or comment, or a missing domain.
    """
    text = (raw or "").strip().strip(_INVISIBLE).strip()
    if not is_encodable(text):
        raise InvalidInput(
            "That e-mail address contains characters that cannot be used."
        )
    if not text:
        raise InvalidInput("Please enter an e-mail address.")
    if len(text) > MAX_ADDRESS_LENGTH:
        raise InvalidInput("That e-mail address is too long.")
    if any(unicodedata.category(char).startswith(("C", "Z")) for char in text):
        raise InvalidInput(
            "An e-mail address cannot contain spaces, line breaks or control "
            "characters."
        )
    if _HEADER_TRICKS.search(text):
        raise InvalidInput(
            "Enter the bare address (name@example.com), without a name, quotes "
            "or angle brackets."
        )
    if text.count("@") != 1:
        raise InvalidInput("An e-mail address needs exactly one @ and a domain.")
    try:
        checked = validate_email(
            text,
            check_deliverability=False,
            allow_quoted_local=False,
            allow_display_name=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError as error:
        raise InvalidInput(f"That is not a valid e-mail address: {error}") from error
    # lower(), not casefold(): casefold turns "ß" into "ss", another domain.
    return checked.normalized.lower()


def is_valid_email(raw: str | None) -> bool:
    """Whether normalize_email would accept the value."""
    try:
        normalize_email(raw)
    except InvalidInput:
        return False
    return True
