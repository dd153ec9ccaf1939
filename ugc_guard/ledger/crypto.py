"""Personal fields apart from the chain: per-subject AES-256-GCM keys, wrapped with a key derived
from the site secret. Erasure deletes the wrapped key; the ciphertext in the chain then stays
unreadable while every hash over it still verifies."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..evidence import derive_key
from .errors import LedgerError

__all__ = ["ERASED", "SEALED", "Sealer"]

ERASED = "[erased]"
"""Shown in place of a personal field whose subject key was destroyed."""
SEALED = "[sealed]"
"""Shown in place of a personal field when the ledger was opened without the site secret."""

_NONCE = 12


class Sealer:
    """Wraps subject keys and seals personal fields; ``secret=None`` can read nothing personal."""

    def __init__(self, secret: bytes | None) -> None:
        self._kek = AESGCM(derive_key(secret, "ledger-subject-keys")) if secret else None

    @property
    def can_open(self) -> bool:
        return self._kek is not None

    def new_key(self, campaign: str, subject: str) -> tuple[bytes, bytes]:
        """Return a fresh subject key and its wrapped form for storage. Raises :class:`LedgerError`
        without a secret."""
        kek = self._require()
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(_NONCE)
        return key, nonce + kek.encrypt(nonce, key, _aad(campaign, subject))

    def unwrap(self, campaign: str, subject: str, wrapped: bytes) -> bytes:
        """Return the subject key. Raises :class:`LedgerError` when the secret is not the one it was wrapped with."""
        kek = self._require()
        try:
            return kek.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], _aad(campaign, subject))
        except InvalidTag:
            raise LedgerError(
                f"the subject key of {subject!r} in campaign {campaign!r} does not open with this secret; "
                "use the site secret the entries were recorded with"
            ) from None

    @staticmethod
    def seal(key: bytes, context: str, fields: dict[str, Any]) -> str:
        """Return ``fields`` as JSON encrypted with the subject key (base64 of nonce + ciphertext)."""
        nonce = os.urandom(_NONCE)
        plain = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, plain, context.encode())).decode("ascii")

    @staticmethod
    def open(key: bytes, context: str, sealed: str) -> dict[str, Any]:
        """Return the personal fields sealed by :meth:`seal`. Raises :class:`LedgerError` if they were altered."""
        raw = base64.b64decode(sealed)
        try:
            plain = AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], context.encode())
        except InvalidTag:
            raise LedgerError("sealed personal fields do not decrypt: the entry was altered") from None
        fields: dict[str, Any] = json.loads(plain)
        return fields

    def _require(self) -> AESGCM:
        if self._kek is None:
            raise LedgerError("recording or reading personal data needs the site secret; open the Ledger with secret=…")
        return self._kek


def _aad(campaign: str, subject: str) -> bytes:
    return f"ugc-guard subject key\n{campaign}\n{subject}".encode()


def seal_context(campaign: str, subject: str, kind: str) -> str:
    """Return the associated data binding sealed fields to their campaign, subject and entry kind."""
    return f"{campaign}\n{subject}\n{kind}"
