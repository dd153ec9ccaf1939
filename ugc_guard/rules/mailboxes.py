"""Whether two e-mail addresses reach one mailbox: a guardian's address must not be the minor's own.

Plain functions. A guardian link sent to the minor's own mailbox proves nothing, so a guardian
address that reaches a mailbox the minor named as theirs (or that the app knows as theirs, see
:func:`ugc_guard.subject.user_addresses`) is refused. Two spellings reach one mailbox when
they differ only in case, in a ``+tag`` (sub-addressing, RFC 5233) or, at Gmail, in dots of the
local part.
"""

from __future__ import annotations

from collections.abc import Iterable

from email_validator import EmailNotValidError, validate_email

__all__ = ["mailbox_key", "normalise_address", "same_mailbox"]

_DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def normalise_address(text: str) -> str:
    """Return an e-mail address in normal form; raises :class:`ValueError` when it is not a valid address."""
    try:
        return str(validate_email(text.strip(), check_deliverability=False).normalized)
    except EmailNotValidError as error:
        raise ValueError(str(error)) from None


def mailbox_key(address: str) -> str:
    """Return the mailbox an address reaches, for comparison only: lower case, without a ``+tag``,
    Gmail without dots in the local part (``First.Last+x@GoogleMail.com`` -> ``firstlast@gmail.com``)."""
    local, _, domain = address.strip().casefold().rpartition("@")
    local = local.split("+", 1)[0] or local
    if domain in _DOTLESS_DOMAINS:
        domain = _DOTLESS_DOMAINS[domain]
        local = local.replace(".", "")
    return f"{local}@{domain}"


def same_mailbox(address: str, others: Iterable[str]) -> bool:
    """Return whether ``address`` reaches the same mailbox as any of ``others``."""
    key = mailbox_key(address)
    return any(mailbox_key(other) == key for other in others)
