"""Why a presented age proof was refused: one stable ``reason`` per check, and a sentence saying what failed."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["AgeProofError", "Reason"]


class Reason(StrEnum):
    malformed = "malformed"
    """The body, the base64url, the CBOR or a structure inside it is not what the standards define."""
    wallet_error = "wallet-error"
    """The wallet answered with an OpenID4VP error instead of a presentation."""
    nonce = "nonce"
    """The nonce was never issued to this subject here, or it expired."""
    replayed = "replayed"
    """The nonce was used before: every request is good for one response."""
    doctype = "doctype"
    """The document is not a Proof of Age attestation (``eu.europa.ec.av.1``)."""
    untrusted_issuer = "untrusted-issuer"
    """The issuer's certificate does not come from a CA on the policy's trust list."""
    chain_invalid = "chain-invalid"
    """The certificate chain is broken: expired, not yet valid, badly signed or not fit for signing."""
    issuer_signature = "issuer-signature"
    """The issuer's signature over the mobile security object does not verify (or uses a refused algorithm)."""
    mso_expired = "mso-expired"
    mso_not_yet_valid = "mso-not-yet-valid"
    value_digest = "value-digest"
    """A disclosed element does not match the digest the issuer signed: it was altered."""
    device_signature = "device-signature"
    """The device signature does not verify over this request's session transcript (nonce and origin)
    with the device key the issuer attested: a presentation made for another request or site, or by
    another key."""
    claim_missing = "claim-missing"
    claim_false = "claim-false"
    """The attestation says the person is younger than the lowest age the campaign admits."""


class AgeProofError(ValueError):
    """A presentation that proves nothing. ``reason`` is a :class:`Reason`; the message says what failed."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"
