"""The log's signing keys: Ed25519 keys derived from the site secret(s) by HKDF, one per campaign.

``secrets`` is newest first: the first secret's key signs; every listed secret's key is published
in the JWKS, the older ones marked ``retired`` so receipts and checkpoints they signed still
verify. A key whose secret was dropped from the list can stay published by passing its public JWK
as ``retired`` (see docs/evidence.md, "Keys"). Nothing here reads the database: whoever can write the
database must not be able to add a key that verifiers trust.

Derivation: HKDF-SHA256 (RFC 5869) with the secret as input key material, salt
``ugc-guard/log-signing-key``, info ``ugc-guard log signing key v1\\n<campaign>\\n<generation>``,
32 bytes of output as the Ed25519 private key seed (RFC 8032). The ``kid`` is the key's RFC 7638
JWK thumbprint.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..proof.keys import PublicKey, jwk_of, parse_jwks, thumbprint
from .errors import LedgerError

if TYPE_CHECKING:
    from ..policy import Policy

__all__ = ["KeyRing", "SigningKey", "derive_signing_key", "key_ring", "retired_jwks"]

SALT = b"ugc-guard/log-signing-key"


def derive_signing_key(secret: bytes | str, campaign: str, generation: int = 1) -> Ed25519PrivateKey:
    """Return the campaign's Ed25519 signing key of ``generation`` derived from ``secret`` (HKDF-SHA256).
    Raises :class:`LedgerError` for an empty secret."""
    material = secret.encode() if isinstance(secret, str) else secret
    if not material:
        raise LedgerError("signing checkpoints and receipts needs the site secret")
    info = f"ugc-guard log signing key v1\n{campaign}\n{generation}".encode()
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=info).derive(material)
    return Ed25519PrivateKey.from_private_bytes(seed)


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private signing key with its public key bytes and ``kid``."""

    private: Ed25519PrivateKey
    public: bytes
    kid: str

    @classmethod
    def of(cls, private: Ed25519PrivateKey) -> SigningKey:
        public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return cls(private, public, thumbprint(public))


@dataclass(frozen=True, slots=True)
class KeyRing:
    """A campaign's keys: ``current`` signs; ``published`` are all the public keys a verifier may need."""

    current: SigningKey
    published: tuple[PublicKey, ...]

    def jwks(self) -> dict[str, Any]:
        """Return the JWKS (RFC 7517) of every published key, the current one first, retired ones marked."""
        return {"keys": [jwk_of(key.public_key, retired=key.retired) for key in self.published]}


def key_ring(secrets: Sequence[bytes | str], campaign: str, *, generation: int = 1, retired: Iterable[Mapping[str, Any]] = ()) -> KeyRing:
    """Return the campaign's key ring from ``secrets`` (newest first) plus ``retired`` public JWKs.

    Raises :class:`LedgerError` without a secret or for a retired JWK that is not an Ed25519 public key.
    """
    if not secrets:
        raise LedgerError("signing checkpoints and receipts needs the site secret")
    keys = [SigningKey.of(derive_signing_key(secret, campaign, generation)) for secret in secrets]
    published: dict[str, PublicKey] = {}
    for index, key in enumerate(keys):
        published.setdefault(key.kid, PublicKey(key.kid, key.public, retired=index > 0))
    extra = list(retired)
    if extra:
        try:
            for old in parse_jwks({"keys": extra}):
                published.setdefault(old.kid, PublicKey(old.kid, old.public_key, retired=True))
        except ValueError as error:
            raise LedgerError(f"retired signing keys: {error}") from None
    return KeyRing(keys[0], tuple(published.values()))


def retired_jwks(policy: Policy) -> list[dict[str, Any]]:
    """Return the public JWKs of the policy's ``ledger.retired_keys`` files (each a JWK or a JWKS),
    read when the policy was loaded; they are published as retired and still verify."""
    found: list[dict[str, Any]] = []
    for file in policy.ledger.retired_keys:
        data = json.loads(file.text)
        found.extend(data.get("keys", [data]))
    return found
