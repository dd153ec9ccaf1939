"""The issuer's certificate chain (the COSE ``x5chain``) against the policy's trust list.

Path building and signature checks are ``cryptography``'s X.509 verification (RFC 5280 with the Web
PKI rules for CA certificates). The issuer's document-signer certificate must be fit for signing
(key usage digitalSignature) and not a CA; its extended key usage is not pinned, because ISO
18013-5 (mDL) and the EU age-verification profile use different OIDs. Certificates signed with
Ed25519 are refused by that verifier; ECDSA and RSA chains are accepted.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Sequence
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store, VerificationError

from .errors import AgeProofError, Reason

__all__ = ["MAX_CHAIN", "TrustList"]

MAX_CHAIN = 4
"""Certificates accepted in one ``x5chain``: the signer and up to three intermediates."""


def _signing_key_usage(policy: Any, certificate: x509.Certificate, usage: x509.KeyUsage) -> None:
    if not usage.digital_signature:
        raise ValueError("the issuer's certificate is not allowed to make signatures (no digitalSignature key usage)")


def _not_a_ca(policy: Any, certificate: x509.Certificate, constraints: x509.BasicConstraints | None) -> None:
    if constraints is not None and constraints.ca:
        raise ValueError("the issuer signs attestations with a CA certificate, which ISO 18013-5 forbids")


_SIGNER_POLICY = (
    ExtensionPolicy.permit_all()
    .require_present(x509.KeyUsage, Criticality.AGNOSTIC, _signing_key_usage)
    .may_be_present(x509.BasicConstraints, Criticality.AGNOSTIC, _not_a_ca)
)


class TrustList:
    """The CA certificates whose attestations are believed."""

    def __init__(self, anchors: Sequence[x509.Certificate]) -> None:
        if not anchors:
            raise ValueError("a trust list needs at least one CA certificate")
        self._store = Store(list(anchors))
        self._names = {anchor.subject for anchor in anchors}

    @classmethod
    def from_pem(cls, pems: Iterable[str | bytes]) -> TrustList:
        """Return the trust list of every certificate in the PEM texts; raises ValueError for a text that holds none."""
        anchors: list[x509.Certificate] = []
        for pem in pems:
            anchors += x509.load_pem_x509_certificates(pem.encode("ascii") if isinstance(pem, str) else pem)
        return cls(anchors)

    def verify(self, chain: Sequence[bytes], now: _dt.datetime) -> x509.Certificate:
        """Return the signer certificate (``chain[0]``) once the chain leads to a trusted CA at ``now``.

        Raises :class:`AgeProofError`: ``malformed`` (not DER certificates, none, or too many),
        ``chain-invalid`` (a certificate outside its validity period, a bad signature, unfit
        extensions) or ``untrusted-issuer`` (issued by a CA that is not on the list).
        """
        if not chain or len(chain) > MAX_CHAIN:
            raise AgeProofError(Reason.malformed, f"the issuer's x5chain must hold 1 to {MAX_CHAIN} certificates, not {len(chain)}")
        certificates = [_load(der, index) for index, der in enumerate(chain)]
        for certificate in certificates:
            _within_validity(certificate, now)
        if not any(certificate.issuer in self._names for certificate in certificates):
            issuer = certificates[-1].issuer.rfc4514_string()
            raise AgeProofError(Reason.untrusted_issuer, f"the attestation was issued under {issuer!r}, which is not on the trust list")
        verifier = (
            PolicyBuilder().store(self._store).time(now).max_chain_depth(MAX_CHAIN)
            .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=_SIGNER_POLICY)
            .build_client_verifier()
        )  # fmt: skip
        try:
            verifier.verify(certificates[0], certificates[1:])
        except (VerificationError, ValueError) as error:
            reason = str(error).splitlines()[0][:200]
            raise AgeProofError(Reason.chain_invalid, f"the issuer's certificate chain does not verify ({reason})") from None
        return certificates[0]


def _load(der: bytes, index: int) -> x509.Certificate:
    # cryptography parses fields when they are first read: read every one used here now, so a
    # certificate with a broken name, date, extension or key is malformed here and nowhere later.
    try:
        certificate = x509.load_der_x509_certificate(der)
        _fields = (certificate.subject, certificate.issuer, certificate.extensions, certificate.public_key(),
                   certificate.not_valid_before_utc, certificate.not_valid_after_utc)  # fmt: skip
    except (ValueError, x509.InvalidVersion, UnsupportedAlgorithm):
        raise AgeProofError(Reason.malformed, f"x5chain[{index}] is not a readable DER X.509 certificate") from None
    return certificate


def _within_validity(certificate: x509.Certificate, now: _dt.datetime) -> None:
    subject = certificate.subject.rfc4514_string()
    if now < certificate.not_valid_before_utc:
        raise AgeProofError(Reason.chain_invalid, f"certificate {subject!r} is not valid before {certificate.not_valid_before_utc:%Y-%m-%d %H:%M}Z")
    if now > certificate.not_valid_after_utc:
        raise AgeProofError(Reason.chain_invalid, f"certificate {subject!r} expired on {certificate.not_valid_after_utc:%Y-%m-%d %H:%M}Z")
