"""Verify a Proof of Age presentation and turn it into an age result, or say exactly what failed.

The checks, in order (each failure is :class:`AgeProofError` with its :class:`Reason`): the base64url
and CBOR of the DeviceResponse (``malformed``); the docType (``doctype``); the issuer's ``x5chain``
against the trust list (``untrusted-issuer``, ``chain-invalid``); the issuer's COSE_Sign1 over the
mobile security object (``issuer-signature``); the MSO's docType and validity (``mso-expired``,
``mso-not-yet-valid``); the value digest of every disclosed element (``value-digest``); the device
signature over the session transcript of this request's nonce and origin with the device key the
MSO attests (``device-signature``); and the ``age_over_NN`` claims (``claim-missing``,
``claim-false``). Pure: no web framework, no database; CPU only (run it in a worker thread).
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import hmac
from dataclasses import dataclass

from .cose import verify_sign1
from .errors import AgeProofError, Reason
from .mdoc import AV_DOCTYPE, AV_NAMESPACE, Document, SecurityObject, parse_device_response, parse_mso
from .request import Session
from .transcript import device_authentication_bytes, session_transcript
from .trust import TrustList

__all__ = ["METHOD", "AgeProof", "verify_presentation"]

METHOD = "eu-age-verification"


@dataclass(frozen=True, slots=True)
class AgeProof:
    """What a verified attestation proves, and what may be recorded: never the attestation itself."""

    band: str
    """The policy's band label: ``18+``, or ``16-17`` when the campaign admits minors with a guardian."""
    outcome: str
    """``alone`` or ``with-guardian`` (the values of the gate's ``AgeOutcome``)."""
    years_to_majority: int
    """0 for adults; for the guardian band the most years it can take (the exact age is not disclosed)."""
    issuer: str
    """The document signer's certificate subject (RFC 4514), e.g. ``CN=AV DS 001,O=…,C=EU``."""
    attestation_expires: _dt.datetime
    """The MSO's ``validUntil``."""
    method: str = METHOD
    assurance: str = METHOD


def verify_presentation(presentation: str, session: Session, trust: TrustList, now: _dt.datetime) -> AgeProof:
    """Return the age result of a base64url DeviceResponse answering ``session``'s request at ``now``.

    Raises :class:`AgeProofError` naming the first check that failed (see the module docstring).
    """
    document = parse_device_response(_base64url(presentation))
    if document.doctype != AV_DOCTYPE:
        raise AgeProofError(Reason.doctype, f"the document is a {document.doctype[:60]!r}, not a Proof of Age ({AV_DOCTYPE})")
    signer = trust.verify(document.x5chain, now)
    if not verify_sign1(document.issuer_auth, signer.public_key(), document.issuer_auth.payload or b""):
        raise AgeProofError(Reason.issuer_signature, "the issuer's signature over the mobile security object does not verify")
    mso = parse_mso(document.issuer_auth.payload)
    _check_mso(mso, now)
    _check_digests(document, mso)
    transcript = session_transcript(session.origin, session.nonce)
    signed = device_authentication_bytes(transcript, document.doctype, document.device_namespaces)
    if document.device_signature.payload not in (None, signed) or not verify_sign1(document.device_signature, mso.device_key, signed):
        raise AgeProofError(
            Reason.device_signature,
            f"the device signature does not verify over this request's session transcript (origin {session.origin}) with the "
            "device key the issuer attested: the presentation was made for another request or site, or by another key",
        )
    band, outcome, years = _band(document, session.ages)
    return AgeProof(band, outcome, years, signer.subject.rfc4514_string(), mso.valid_until)


def _base64url(text: str) -> bytes:
    bare = text.rstrip("=")
    try:
        return base64.b64decode(bare + "=" * (-len(bare) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise AgeProofError(Reason.malformed, "the presentation is not base64url") from None


def _check_mso(mso: SecurityObject, now: _dt.datetime) -> None:
    if mso.doctype != AV_DOCTYPE:
        raise AgeProofError(Reason.doctype, f"the issuer signed a {mso.doctype[:60]!r}, not a Proof of Age ({AV_DOCTYPE})")
    if now < mso.valid_from:
        raise AgeProofError(Reason.mso_not_yet_valid, f"the attestation is valid from {mso.valid_from:%Y-%m-%d %H:%M:%S}Z")
    if now > mso.valid_until:
        raise AgeProofError(Reason.mso_expired, f"the attestation expired at {mso.valid_until:%Y-%m-%d %H:%M:%S}Z; renew it in the app")


def _check_digests(document: Document, mso: SecurityObject) -> None:
    for item in document.items:
        expected = mso.value_digests.get(item.namespace, {}).get(item.digest_id)
        actual = hashlib.new(mso.digest_algorithm, item.tagged).digest()
        if expected is None or not hmac.compare_digest(actual, expected):
            raise AgeProofError(Reason.value_digest, f"the disclosed {item.identifier[:40]!r} does not match what the issuer signed")


def _band(document: Document, ages: tuple[int, ...]) -> tuple[str, str, int]:
    """Return the band label, outcome and years to majority proven by the ``age_over_NN`` claims."""
    values = {item.identifier: item.value for item in document.items if item.namespace == AV_NAMESPACE}

    def over(age: int) -> bool:
        name = f"age_over_{age}"
        if name not in values:
            raise AgeProofError(Reason.claim_missing, f"the wallet did not disclose {name}")
        value = values[name]
        if not isinstance(value, bool):
            raise AgeProofError(Reason.malformed, f"{name} must be true or false")
        return value

    minimum = ages[0]
    if over(minimum):
        return f"{minimum}+", "alone", 0
    if len(ages) > 1 and over(ages[1]):
        return f"{ages[1]}-{minimum - 1}", "with-guardian", minimum - ages[1]
    raise AgeProofError(Reason.claim_false, f"the attestation says the person is not over {ages[-1]}, the youngest this campaign admits")
