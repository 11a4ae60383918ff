"""Checks on free text from users: encodable, one line, no control characters."""

import logging
import unicodedata

from chub_ui.services.errors import InvalidInput, NotAllowed

logger = logging.getLogger(__name__)

MAX_ID = 2**63 - 1
# Characters that end a line besides \r and \n.
LINE_BREAKS = frozenset("\v\f\x1c\x1d\x1e\x85\u2028\u2029")


def is_encodable(text: str) -> bool:
    """Whether the text can be stored as UTF-8 (a lone surrogate cannot)."""
    return not any(unicodedata.category(char) == "Cs" for char in text)


def check_free_text(text: str, what: str, *, multiline: bool) -> str:
    """Refuse text with control characters, or line breaks when one line is wanted.

    Args:
        text: the text as typed.
        what: how the message names the field, such as "The message".
        multiline: whether line breaks and tabs are allowed.

    Returns:
        The text unchanged.

    Raises:
        InvalidInput: for a lone surrogate, a control character, or a line
            break in a one-line field.
    """
    allowed = "\n\t" if multiline else ""
    if not is_encodable(text):
        raise InvalidInput(f"{what} contains characters that cannot be stored.")
    for char in text:
        if char in allowed:
            continue
        if unicodedata.category(char) == "Cc" or char in LINE_BREAKS:
            if multiline:
                raise InvalidInput(f"{what} contains characters that cannot be sent.")
            raise InvalidInput(f"{what} cannot contain line breaks.")
    return text


def printable_only(text: str) -> str:
    """The text without control characters and lone surrogates."""
    return "".join(
        char for char in text if unicodedata.category(char) not in {"Cc", "Cs"}
    )


def clean_id(value: object) -> int:
    """A database id from the browser, or NotAllowed as for a missing row."""
    if isinstance(value, bool):
        raise NotAllowed()
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise NotAllowed()
    if not 1 <= number <= MAX_ID:
        raise NotAllowed()
    return number


def clean_page(value: object) -> int:
    """A page number from the browser; anything but a positive number is page 1."""
    if isinstance(value, bool):
        return 1
    if isinstance(value, int):
        return max(1, min(value, MAX_ID))
    if isinstance(value, str) and value.isascii() and value.strip().isdigit():
        return max(1, min(int(value.strip()), MAX_ID))
    return 1
