"""Minimised network evidence: what of a client's address and user agent a ledger entry keeps.

Pure functions over plain data (no starlette, no sqlalchemy). Each returns a short, self-describing
string (``hmac-sha256:…``, ``203.0.113.0/24``) or ``None`` when the policy keeps nothing, so an
entry says how its evidence was made. Keyed hashes use a key derived from the site secret, one per
purpose, so the same address hashed for two purposes gives unrelated values.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from typing import Literal

__all__ = ["client_address_evidence", "derive_key", "user_agent_evidence"]

AddressMode = Literal["keyed-hash", "truncated", "none"]
UserAgentMode = Literal["hash", "none"]

IPV4_PREFIX = 24
IPV6_PREFIX = 48


def derive_key(secret: bytes, purpose: str) -> bytes:
    """Return a 32-byte key for one ``purpose`` derived from the site secret (HMAC-SHA256)."""
    return hmac.new(secret, b"ugc-guard/" + purpose.encode(), hashlib.sha256).digest()


def client_address_evidence(address: str | None, mode: AddressMode, secret: bytes | None) -> str | None:
    """Return the evidence kept for a client address under ``policy.privacy.client_address``.

    ``keyed-hash`` gives ``hmac-sha256:<hex>`` of the normalised address (IPv4-mapped IPv6 counts as
    IPv4); ``truncated`` the /24 (IPv4) or /48 (IPv6) network, e.g. ``203.0.113.0/24``; ``none`` and
    a missing address give ``None``. A string that is not an IP address is hashed as given, and under
    ``truncated`` kept as ``None``. Raises :class:`ValueError` when ``keyed-hash`` has no secret.
    """
    if mode == "none" or not address:
        return None
    parsed = _parse(address)
    if mode == "truncated":
        if parsed is None:
            return None
        prefix = IPV4_PREFIX if parsed.version == 4 else IPV6_PREFIX
        return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False))
    if mode != "keyed-hash":
        raise ValueError(f"unknown client address mode {mode!r}; use keyed-hash, truncated or none")
    if not secret:
        raise ValueError("a keyed hash of the client address needs the site secret")
    normalised = str(parsed) if parsed is not None else address.strip()
    digest = hmac.new(derive_key(secret, "client-address"), normalised.encode(), hashlib.sha256).hexdigest()
    return f"hmac-sha256:{digest}"


def user_agent_evidence(user_agent: str | None, mode: UserAgentMode, secret: bytes | None) -> str | None:
    """Return the evidence kept for a User-Agent header: ``hmac-sha256:<hex>`` (keyed, since user-agent
    strings are few enough to guess), ``sha256:<hex>`` when no secret is given, or ``None``."""
    if mode == "none" or not user_agent:
        return None
    data = user_agent.encode("utf-8", "replace")
    if secret:
        return "hmac-sha256:" + hmac.new(derive_key(secret, "user-agent"), data, hashlib.sha256).hexdigest()
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        parsed = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed
