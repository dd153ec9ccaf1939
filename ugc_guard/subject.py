"""The subject: a pseudonymous id in a signed cookie, or a keyed hash of the app's user.

The cookie is signed with a key derived from the site secret and the campaign id, so a cookie
tampered with, or signed for another campaign, is simply no subject. With several secrets (newest
first) new cookies are signed with the newest and a cookie signed with any listed one is read.
Subjects are made lazily, on the terms page and the accept endpoint, never for every visitor.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, Signer
from starlette.types import ASGIApp

from .evidence import derive_key
from .rules.mailboxes import normalise_address

if TYPE_CHECKING:
    from .context import RequestContext
    from .sites import Site

__all__ = ["COOKIE_NAME", "SubjectCookie", "SubjectStage", "derive_key", "ensure_subject", "user_addresses"]

COOKIE_NAME = "ugc_guard_subject"
MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers keep (Chrome caps cookies at 400 days)
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class SubjectCookie:
    """Issues and verifies the signed subject cookie of one campaign."""

    def __init__(self, secret: bytes | Sequence[bytes], campaign: str) -> None:
        # itsdangerous signs with the LAST key of its list and verifies with any: reverse newest-first
        keys = [derive_key(one, f"subject-cookie/{campaign}") for one in reversed(secret_tuple(secret))]
        self._signer = Signer(keys, key_derivation="none", digest_method=hashlib.sha256)

    def new(self) -> tuple[str, str]:
        """Return a fresh ``(subject id, cookie value)``."""
        subject = secrets.token_urlsafe(18)
        while subject.startswith("-"):  # staff paste ids into the CLI, where a leading "-" reads as an option
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


def secret_tuple(secret: bytes | Sequence[bytes]) -> tuple[bytes, ...]:
    """Return one secret or a newest-first list of them as a tuple; raises ValueError when empty."""
    secrets_ = (secret,) if isinstance(secret, bytes) else tuple(secret)
    if not secrets_ or not all(secrets_):
        raise ValueError("signing needs at least one non-empty secret")
    return secrets_


def _cookie_value(cookie_header: str) -> str | None:
    """Return the subject cookie's value; None when absent or sent twice with different values.

    Two different values mean someone else set a second cookie of this name (for a parent domain
    or a narrower path: cookie tossing); picking either could record one person's uploads under
    another's acceptance, so the request has no subject at all.
    """
    found: set[str] = set()
    for item in cookie_header.split(";"):
        name, _, value = item.strip().partition("=")
        if name == COOKIE_NAME:
            found.add(value.strip().strip('"'))
    return found.pop() if len(found) == 1 else None


class SubjectStage:
    """First stage: find the subject in the signed cookie (or ``scope["user"]``) and set ``ctx.subject``."""

    def __init__(self, site: Site) -> None:
        self.source = site.policy.subject.source
        self.cookie = SubjectCookie(site.secrets, site.campaign)
        # A pseudonym is an identity, not a token: keyed by the OLDEST listed secret it stays the same
        # while a new secret is added, and changes only when that secret is dropped (see docs/evidence.md).
        self._user_key = derive_key(site.secrets[-1], f"subject-user/{site.campaign}")

    async def __call__(self, ctx: RequestContext) -> ASGIApp | None:
        if self.source == "scope-user":
            ctx.subject = self.from_user(ctx.scope.get("user"))
        else:
            # every Cookie header (HTTP/2 may split them), so a second subject cookie cannot hide in another one
            cookies = [value for key, value in ctx.scope["headers"] if key == b"cookie"]
            header = "; ".join([value.decode("latin-1") for value in cookies]) if cookies else ""
            ctx.subject = self.cookie.read(_cookie_value(header)) if header else None
        return None

    def from_user(self, user: Any) -> str | None:
        """Return a keyed hash of an authenticated Starlette user's identity, else None."""
        if user is None or not _user_attribute(user, "is_authenticated"):
            return None
        identity = _user_attribute(user, "identity") or _user_attribute(user, "display_name")
        if not identity:
            return None
        digest = hmac.new(self._user_key, str(identity).encode(), hashlib.sha256).digest()
        return "u" + base64.urlsafe_b64encode(digest).decode().rstrip("=")[:31]


def _user_attribute(user: Any, name: str) -> Any:
    """Return ``user.name``, or None when the app's user class lacks it (Starlette's ``BaseUser``
    raises NotImplementedError for properties a subclass did not define)."""
    try:
        return getattr(user, name, None)
    except Exception:
        return None


def user_addresses(user: Any) -> list[str]:
    """Return the e-mail addresses an authenticated ``scope["user"]`` carries (``email``, or an
    ``identity`` / ``display_name`` that is an address), normalised; [] for anyone else."""
    if user is None or not _user_attribute(user, "is_authenticated"):
        return []
    found: list[str] = []
    for name in ("email", "identity", "display_name"):
        value = _user_attribute(user, name)
        if isinstance(value, str) and "@" in value:
            try:
                found.append(normalise_address(value))
            except ValueError:
                continue
    return found


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
