"""COSE_Sign1 (RFC 9052 §4.2–4.4) and COSE_Key (RFC 9053) for mdoc signatures, verified with ``cryptography``.

Accepted algorithms: ES256 (-7), ES384 (-35), ES512 (-36) and EdDSA (-8); the algorithm must sit in
the protected header and match the key's curve. ``crit`` headers are refused (nothing here needs one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from .cbordecode import as_bytes, as_int, as_list, as_map, decode, get
from .errors import AgeProofError, Reason

__all__ = ["ALG", "X5CHAIN", "PublicKey", "Sign1", "cose_public_key", "parse_sign1", "verify_sign1"]

ALG, CRIT, X5CHAIN = 1, 2, 33

PublicKey: TypeAlias = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey

_ECDSA: dict[int, tuple[str, type[ec.EllipticCurve], hashes.HashAlgorithm]] = {
    -7: ("ES256", ec.SECP256R1, hashes.SHA256()),
    -35: ("ES384", ec.SECP384R1, hashes.SHA384()),
    -36: ("ES512", ec.SECP521R1, hashes.SHA512()),
}
EDDSA = -8
_EC2_CURVES: dict[int, type[ec.EllipticCurve]] = {1: ec.SECP256R1, 2: ec.SECP384R1, 3: ec.SECP521R1}


@dataclass(frozen=True, slots=True)
class Sign1:
    """A parsed COSE_Sign1: the protected header exactly as received, its algorithm, the rest."""

    protected: bytes
    alg: int
    headers: dict[Any, Any]
    """Protected and unprotected headers together (protected wins)."""
    payload: bytes | None
    signature: bytes


def parse_sign1(value: Any, where: str, reason: Reason) -> Sign1:
    """Return the COSE_Sign1 array ``value``.

    Raises :class:`AgeProofError` ``malformed`` for a wrong shape and ``reason`` (the signature check
    it belongs to) for an algorithm that is missing, unprotected or not accepted.
    """
    parts = as_list(value, where)
    if len(parts) != 4:
        raise AgeProofError(Reason.malformed, f"{where} must be a COSE_Sign1 array of 4 items, not {len(parts)}")
    protected_bytes = as_bytes(parts[0], f"{where} protected header")
    protected = as_map(decode(protected_bytes, f"{where} protected header"), f"{where} protected header") if protected_bytes else {}
    unprotected = as_map(parts[1], f"{where} unprotected header")
    payload = None if parts[2] is None else as_bytes(parts[2], f"{where} payload")
    signature = as_bytes(parts[3], f"{where} signature")
    if CRIT in protected or CRIT in unprotected:
        raise AgeProofError(reason, f"{where} marks headers critical; none are understood here")
    if ALG not in protected:
        raise AgeProofError(reason, f"{where} has no algorithm in its protected header")
    alg = get(protected, ALG, as_int, f"{where} protected header")
    if alg not in _ECDSA and alg != EDDSA:
        raise AgeProofError(reason, f"{where} uses COSE algorithm {alg}; accepted are ES256 (-7), ES384 (-35), ES512 (-36), EdDSA (-8)")
    return Sign1(protected_bytes, alg, {**unprotected, **protected}, payload, signature)


def verify_sign1(message: Sign1, key: object, payload: bytes) -> bool:
    """Return whether ``message.signature`` is ``key``'s signature over the Sig_structure of ``payload``.

    ``payload`` is the signed content (the message's own, or the detached one). A key that does not
    fit the algorithm (another curve, an EdDSA key for ES256) is False, never an exception.
    """
    to_be_signed = cbor2.dumps(["Signature1", message.protected, b"", payload])
    try:
        if message.alg == EDDSA:
            if not isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
                return False
            key.verify(message.signature, to_be_signed)
            return True
        _name, curve, digest = _ECDSA[message.alg]
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, curve):
            return False
        size = (key.curve.key_size + 7) // 8
        if len(message.signature) != 2 * size:
            return False
        r = int.from_bytes(message.signature[:size], "big")
        s = int.from_bytes(message.signature[size:], "big")
        key.verify(encode_dss_signature(r, s), to_be_signed, ec.ECDSA(digest))
        return True
    except (InvalidSignature, ValueError):
        return False


def cose_public_key(value: Any, where: str) -> PublicKey:
    """Return the public key of the COSE_Key map ``value`` (EC2 P-256/384/521, OKP Ed25519/Ed448).

    Raises :class:`AgeProofError` ``malformed`` for another key type or a point not on its curve.
    """
    key = as_map(value, where)
    kty = get(key, 1, as_int, where)
    crv = get(key, -1, as_int, where)
    x = get(key, -2, as_bytes, where)
    try:
        if kty == 2 and crv in _EC2_CURVES:
            curve = _EC2_CURVES[crv]()
            size = (curve.key_size + 7) // 8
            y = get(key, -3, as_bytes, where)
            if len(x) != size or len(y) != size:
                raise ValueError("coordinates of the wrong length")
            return ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"), curve).public_key()
        if kty == 1 and crv == 6:
            return ed25519.Ed25519PublicKey.from_public_bytes(x)
        if kty == 1 and crv == 7:
            return ed448.Ed448PublicKey.from_public_bytes(x)
    except ValueError as error:
        raise AgeProofError(Reason.malformed, f"{where} is not a valid public key ({error})") from None
    raise AgeProofError(Reason.malformed, f"{where} has key type {kty} on curve {crv}; accepted are EC2 P-256/384/521 and OKP Ed25519/Ed448")
