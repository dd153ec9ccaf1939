"""The subject: a pseudonymous id in a signed cookie, or a keyed hash of the app's user.

The cookie is signed with a key derived from the site secret and the campaign id, so a cookie
tampered with, or signed for another campaign, is simply no subject. Subjects are made lazily, on
the terms page and the accept endpoint, never for every visitor.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, Signer
from starlette.types import ASGIApp

if TYPE_CHECKING:
    from ..context import RequestContext
    from ..sites import Site

__all__ = ["COOKIE_NAME", "SubjectCookie", "SubjectStage", "derive_key", "ensure_subject"]

COOKIE_NAME = "ugc_guard_subject"
MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers keep (Chrome caps cookies at 400 days)
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def derive_key(secret: bytes, purpose: str) -> bytes:
    """Return a 32-byte key for one purpose from the site secret (same scheme as :mod:`ugc_guard.evidence`)."""
    return hmac.new(secret, b"ugc-guard/" + purpose.encode(), hashlib.sha256).digest()


class SubjectCookie:
    """Issues and verifies the signed subject cookie of one campaign."""

    def __init__(self, secret: bytes, campaign: str) -> None:
        key = derive_key(secret, f"subject-cookie/{campaign}")
        self._signer = Signer(key, key_derivation="none", digest_method=hashlib.sha256)

    def new(self) -> tuple[str, str]:
        """Return a fresh ``(subject id, cookie value)``."""
        subject = secrets.token_urlsafe(18)
        return subject, self._signer.sign(subject).decode()

    def read(self, value: str | None) -> str | None:
        """Return the subject id in a cookie value, or None when missing, malformed, tampered or foreign."""
        if not value or len(value) > 200:
            return None
        try:
            subject = self._signer.unsign(value).decode()
        except (BadSignature, UnicodeDecodeError):
            return None
        return subject if _ID_RE.match(subject) else None

    @staticmethod
    def set_cookie_header(value: str, secure: bool) -> str:
        """Return the ``Set-Cookie`` value: HttpOnly, SameSite=Lax, Path=/, Secure on https."""
        return f"{COOKIE_NAME}={value}; Max-Age={MAX_AGE}; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")


def _cookie_value(cookie_header: str) -> str | None:
    for item in cookie_header.split(";"):
        name, _, value = item.strip().partition("=")
        if name == COOKIE_NAME:
            return value.strip().strip('"')
    return None


class SubjectStage:
    """First stage: find the subject in the signed cookie (or ``scope["user"]``) and set ``ctx.subject``."""

    def __init__(self, site: Site) -> None:
        self.source = site.policy.subject.source
        self.cookie = SubjectCookie(site.secret, site.campaign)
        self._user_key = derive_key(site.secret, f"subject-user/{site.campaign}")

    async def __call__(self, ctx: RequestContext) -> ASGIApp | None:
        if self.source == "scope-user":
            ctx.subject = self.from_user(ctx.scope.get("user"))
        else:
            header = ctx.header(b"cookie")
            ctx.subject = self.cookie.read(_cookie_value(header)) if header else None
        return None

    def from_user(self, user: Any) -> str | None:
        """Return a keyed hash of an authenticated Starlette user's identity, else None."""
        if user is None or not getattr(user, "is_authenticated", False):
            return None
        identity = getattr(user, "identity", None) or getattr(user, "display_name", None)
        if not identity:
            return None
        digest = hmac.new(self._user_key, str(identity).encode(), hashlib.sha256).digest()
        return "u" + base64.urlsafe_b64encode(digest).decode().rstrip("=")[:31]


def ensure_subject(ctx: RequestContext, stage: SubjectStage) -> str | None:
    """Return the request's subject, making one (and its cookie) when the source is the cookie.

    Returns None only under ``scope-user`` for an anonymous visitor.
    """
    if ctx.subject is not None or stage.source != "cookie":
        return ctx.subject
    subject, value = stage.cookie.new()
    ctx.add_header("set-cookie", stage.cookie.set_cookie_header(value, ctx.scope.get("scheme") == "https"))
    ctx.subject = subject
    return subject
