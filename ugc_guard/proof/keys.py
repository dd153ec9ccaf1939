"""The log's public keys as a JWKS (RFC 7517): Ed25519 OKP keys (RFC 8037) named by their RFC 7638
thumbprint, current or retired.

A key's ``kid`` is its JWK thumbprint, so a key set cannot give a key another key's name: a
verifier recomputes it. The same key signs checkpoints as a signed-note key whose name is the
log's origin (:meth:`PublicKey.note_key`).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from joserfc.jwk import OKPKey

from .jcs import parse_json
from .note import NoteKey

__all__ = ["KeysError", "PublicKey", "jwk_of", "parse_jwks", "thumbprint"]

RETIRED = "retired"
CURRENT = "current"


class KeysError(ValueError):
    """A key set is malformed; the message names the key and the field."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def thumbprint(public_key: bytes) -> str:
    """Return the RFC 7638 SHA-256 thumbprint (base64url) of an Ed25519 public key: its ``kid``."""
    return OKPKey.import_key({"kty": "OKP", "crv": "Ed25519", "x": _b64url(public_key)}).thumbprint()


def jwk_of(public_key: bytes, *, retired: bool = False) -> dict[str, Any]:
    """Return the public JWK of an Ed25519 key: ``kty``, ``crv``, ``x``, ``kid``, ``use``, ``alg`` and
    ``status`` (``current`` or ``retired``; retired keys no longer sign but old receipts need them)."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(public_key),
        "kid": thumbprint(public_key),
        "use": "sig",
        "alg": "EdDSA",
        "status": RETIRED if retired else CURRENT,
    }


@dataclass(frozen=True, slots=True)
class PublicKey:
    """One Ed25519 public key of a key set."""

    kid: str
    public_key: bytes
    retired: bool

    def note_key(self, origin: str) -> NoteKey:
        """Return this key as the signed-note key that signs checkpoints of ``origin``."""
        return NoteKey(origin, self.public_key)

    def jwk(self) -> OKPKey:
        """Return the key for joserfc."""
        return OKPKey.import_key({"kty": "OKP", "crv": "Ed25519", "x": _b64url(self.public_key)})


def parse_jwks(data: Any) -> list[PublicKey]:
    """Return the Ed25519 signing keys of a JWKS (a dict or JSON text); other key types are skipped.

    Raises :class:`KeysError` when it is not a key set, a key's ``x`` is not 32 bytes of base64url,
    or a ``kid`` is not the key's thumbprint.
    """
    if isinstance(data, str | bytes):
        try:
            data = parse_json(data)
        except ValueError as error:
            raise KeysError(f"the key set is not JSON: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise KeysError('a key set is a JSON object with a "keys" array')
    found: list[PublicKey] = []
    for index, item in enumerate(data["keys"]):
        if not isinstance(item, dict):
            raise KeysError(f"keys[{index}] is not an object")
        if item.get("kty") != "OKP" or item.get("crv") != "Ed25519" or item.get("use", "sig") != "sig":
            continue
        x = item.get("x")
        try:
            raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)) if isinstance(x, str) else b""
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise KeysError(f"keys[{index}]: x is not a 32-byte Ed25519 key in base64url")
        kid = thumbprint(raw)
        if item.get("kid", kid) != kid:
            raise KeysError(f"keys[{index}]: kid {item.get('kid')!r} is not the key's thumbprint {kid}")
        found.append(PublicKey(kid, raw, item.get("status") == RETIRED))
    if not found:
        raise KeysError("the key set holds no Ed25519 signing key")
    return found
