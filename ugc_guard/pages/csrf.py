"""Form tokens bound to the subject (signed double submit) and the same-origin rule for JSON posts.

A form token is an itsdangerous timestamped signature of the subject id under a key of its own: a
page made for one subject cannot be posted for another, and tokens expire after a day. JSON posts
carry no token: they must be ``Content-Type: application/json`` (which a cross-site form cannot
send and a cross-site ``fetch`` cannot send without a CORS preflight) and, when the browser says
where they come from (``Origin`` or ``Sec-Fetch-Site``), come from this site.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from urllib.parse import urlsplit

from itsdangerous import BadSignature, TimestampSigner

from ..subject import derive_key, secret_tuple

__all__ = ["FormTokens", "same_origin"]

TOKEN_MAX_AGE = 24 * 3600


class FormTokens:
    """Makes and checks the hidden ``csrf_token`` field of one campaign's forms."""

    def __init__(self, secret: bytes | Sequence[bytes], campaign: str) -> None:
        # made with the newest secret, checked with any (itsdangerous signs with the last key of its list)
        keys = [derive_key(one, f"form-token/{campaign}") for one in reversed(secret_tuple(secret))]
        self._signer = TimestampSigner(keys, key_derivation="none", digest_method=hashlib.sha256)

    def make(self, subject: str) -> str:
        """Return a token for forms shown to ``subject``."""
        return self._signer.sign(subject).decode().split(".", 1)[1]

    def check(self, subject: str | None, token: str | None) -> bool:
        """Return whether ``token`` was made for ``subject`` within the last day."""
        if not subject or not token or len(token) > 200:
            return False
        try:
            self._signer.unsign(f"{subject}.{token}", max_age=TOKEN_MAX_AGE)
        except BadSignature:
            return False
        return True


def same_origin(origin: str | None, sec_fetch_site: str | None, host: str) -> bool:
    """Return whether a JSON post may come from where the browser says it comes from.

    No ``Origin`` and no ``Sec-Fetch-Site`` (curl, server-to-server) is allowed; ``Origin: null``
    and any other host are not; ``Sec-Fetch-Site`` must be ``same-origin`` or ``none`` when sent.
    """
    if sec_fetch_site is not None and sec_fetch_site.lower() not in ("same-origin", "none"):
        return False
    if origin is None:
        return True
    parts = urlsplit(origin.strip())
    return bool(parts.netloc) and parts.netloc.lower() == host.strip().lower()
