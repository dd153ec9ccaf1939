"""Detached compact JWS (RFC 7515 §7.1 and Appendix F) with EdDSA over Ed25519 (RFC 8037), by joserfc.

A receipt's ``signature`` is ``<protected header>..<signature>``: the payload (the receipt's
canonical JSON) is left out because the receipt itself carries it; a verifier puts it back.
The protected header is ``{"alg": "EdDSA", "kid": <the key's thumbprint>}``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwa import EdDSAAlgorithm
from joserfc.jwk import OKPKey

from .keys import PublicKey

__all__ = ["SignatureError", "sign_detached", "verify_detached"]


class SignatureError(ValueError):
    """A JWS is malformed, names an unknown key or does not verify; the message says which."""


class _EdDSA(EdDSAAlgorithm):
    # RFC 9864 prefers the fully-specified name "Ed25519"; "EdDSA" with an Ed25519 key (crv in the
    # JWK) is just as unambiguous and is the name deployed verifiers (browsers' jose libraries) know.
    security_warning = ""


_REGISTRY = jws.JWSRegistry(algorithms=["EdDSA"])
_REGISTRY.algorithms = {"EdDSA": _EdDSA()}


def sign_detached(payload: bytes, private_key: Ed25519PrivateKey, kid: str) -> str:
    """Return the detached compact JWS (``header..signature``) of ``payload`` by ``private_key``."""
    compact = jws.serialize_compact({"alg": "EdDSA", "kid": kid}, payload, OKPKey.import_key(private_key), registry=_REGISTRY)
    header, _, signature = compact.split(".")
    return f"{header}..{signature}"


def verify_detached(token: str, payload: bytes, keys: Sequence[PublicKey]) -> PublicKey:
    """Check a detached compact JWS over ``payload``; return the key (named by ``kid``) that signed it.

    Raises :class:`SignatureError` when the token is malformed, its ``alg`` is not EdDSA, its ``kid``
    is not among ``keys``, or the signature does not verify.
    """
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3 or parts[1]:
        raise SignatureError("signature: not a detached compact JWS (header..signature)")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (binascii.Error, ValueError):
        raise SignatureError("signature: the protected header is not base64url JSON") from None
    if not isinstance(header, dict) or header.get("alg") != "EdDSA" or not isinstance(header.get("kid"), str):
        raise SignatureError('signature: the protected header must name alg "EdDSA" and a kid')
    key = next((candidate for candidate in keys if candidate.kid == header["kid"]), None)
    if key is None:
        raise SignatureError(f"signature: key {header['kid']} is not in the key set")
    try:
        jws.deserialize_compact(token, key.jwk(), payload=payload, registry=_REGISTRY)
    except JoseError:
        raise SignatureError(f"signature: does not verify with key {key.kid} (the receipt was changed)") from None
    return key
