"""Personal fields apart from the chain: per-subject AES-256-GCM keys, wrapped with a key derived
from the site secret. Erasure deletes the wrapped key; the ciphertext in the chain then stays
unreadable while every hash over it still verifies.

With several secrets (newest first) keys are wrapped with the newest secret's key and unwrapped with
whichever opens them, newest first. A wrapped key carries no key id: AES-GCM's tag already says
whether a key-encryption key fits (a failed try costs a few microseconds), so rows from before rotation
need no migration; :mod:`.rotation` re-wraps old rows under the newest key."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence
from typing import Any, TypeAlias

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..evidence import derive_key
from .errors import LedgerError

__all__ = ["ERASED", "SEALED", "Sealer", "Secrets", "secret_list"]

ERASED = "[erased]"
"""Shown in place of a personal field whose subject key was destroyed."""
SEALED = "[sealed]"
"""Shown in place of a personal field when the ledger was opened without the site secret."""

_NONCE = 12

Secrets: TypeAlias = bytes | str | Sequence[bytes | str] | None
"""One secret, or several newest first, or none."""


def secret_list(secret: Secrets) -> tuple[bytes, ...]:
    """Return ``secret`` as a tuple of non-empty byte strings, newest first."""
    if secret is None:
        return ()
    items = [secret] if isinstance(secret, bytes | str) else list(secret)
    encoded = (item.encode() if isinstance(item, str) else bytes(item) for item in items)
    return tuple(item for item in encoded if item)


class Sealer:
    """Wraps subject keys and seals personal fields; no secrets means it can read nothing personal."""

    def __init__(self, secrets: Sequence[bytes]) -> None:
        self._keks = tuple(AESGCM(derive_key(secret, "ledger-subject-keys")) for secret in secrets)
        self._kek = self._keks[0] if self._keks else None

    @property
    def can_open(self) -> bool:
        return self._kek is not None

    def new_key(self, campaign: str, subject: str) -> tuple[bytes, bytes]:
        """Return a fresh subject key and its wrapped form for storage. Raises :class:`LedgerError`
        without a secret."""
        key = AESGCM.generate_key(bit_length=256)
        return key, self.wrap(campaign, subject, key)

    def unwrap(self, campaign: str, subject: str, wrapped: bytes) -> bytes:
        """Return the subject key. Raises :class:`LedgerError` when none of the secrets is the one it was wrapped with."""
        return self.unwrap_with_index(campaign, subject, wrapped)[0]

    def unwrap_with_index(self, campaign: str, subject: str, wrapped: bytes) -> tuple[bytes, int]:
        """Return the subject key and the position of the secret that opened it (0 = newest).
        Raises :class:`LedgerError` when none opens it."""
        self._require()
        for index, kek in enumerate(self._keks):
            try:
                return kek.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], _aad(campaign, subject)), index
            except InvalidTag:
                continue
        raise LedgerError(
            f"the subject key of {subject!r} in campaign {campaign!r} does not open with any listed secret; "
            "list the site secret the entries were recorded with"
        )

    def wrap(self, campaign: str, subject: str, key: bytes) -> bytes:
        """Return ``key`` wrapped with the newest secret's key. Raises :class:`LedgerError` without a secret."""
        nonce = os.urandom(_NONCE)
        return nonce + self._require().encrypt(nonce, key, _aad(campaign, subject))

    @staticmethod
    def seal(key: bytes, context: str, fields: dict[str, Any]) -> str:
        """Return ``fields`` as JSON encrypted with the subject key (base64 of nonce + ciphertext)."""
        nonce = os.urandom(_NONCE)
        plain = _fields_json(fields).encode()
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


_fields_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
"""``json.dumps`` with these options, without building an encoder for every call."""


def _aad(campaign: str, subject: str) -> bytes:
    return f"ugc-guard subject key\n{campaign}\n{subject}".encode()


def seal_context(campaign: str, subject: str, kind: str) -> str:
    """Return the associated data binding sealed fields to their campaign, subject and entry kind."""
    return f"{campaign}\n{subject}\n{kind}"
