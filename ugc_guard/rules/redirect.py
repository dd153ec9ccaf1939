"""Where a form post may send the browser back to: a same-site relative path, nothing else."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

__all__ = ["safe_next"]

_MAX_LENGTH = 2000
_UNSAFE_RAW = re.compile(r"[\x00-\x20\x7f\\]")
_UNSAFE_DECODED = re.compile(r"[\x00-\x1f\x7f\\]")


def safe_next(value: str | None, default: str) -> str:
    """Return ``value`` when it is a relative path on this site, else ``default``.

    Refused: anything not starting with one ``/``, protocol-relative ``//host``, ``/\\host``,
    schemes, backslashes, whitespace and control characters (also percent-encoded ones, which some
    browsers and proxies decode before following), and values over 2000 characters.
    """
    if not value or len(value) > _MAX_LENGTH:
        return default
    if _UNSAFE_RAW.search(value):
        return default
    for candidate in (value, unquote(value), unquote(unquote(value))):
        if not candidate.startswith("/") or candidate.startswith("//") or _UNSAFE_DECODED.search(candidate):
            return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value
