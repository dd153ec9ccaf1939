"""Guardian links: one-time tokens of which only a hash is stored."""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
import secrets
from dataclasses import dataclass

__all__ = ["GuardianToken", "hash_token", "new_token", "token_shape_ok"]

_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{40,60}$")


@dataclass(frozen=True, slots=True)
class GuardianToken:
    token: str
    """Sent to the guardian only; never stored."""
    token_hash: str
    expires_at: _dt.datetime


def hash_token(token: str) -> str:
    """Return the stored form of a token: its SHA-256 in hex (tokens carry 256 random bits, so no key is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(now: _dt.datetime, ttl_seconds: float) -> GuardianToken:
    """Return a fresh token valid for ``ttl_seconds`` from ``now``."""
    token = secrets.token_urlsafe(32)
    return GuardianToken(token, hash_token(token), now + _dt.timedelta(seconds=ttl_seconds))


def token_shape_ok(token: str | None) -> bool:
    """Return whether ``token`` looks like one of ours (cheap check before any lookup)."""
    return bool(token) and bool(_TOKEN_RE.match(token or ""))
