"""Proof of age from the EU age-verification attestation (ISO mdoc ``eu.europa.ec.av.1``), verified here.

The verifier is pure (no web framework, no database): :func:`open_session` issues a request's nonce,
:func:`browser_request` is what the page hands to the Digital Credentials API, :func:`read_response`
and :func:`close_session` take the answer back, and :func:`verify_presentation` returns an
:class:`AgeProof` or raises :class:`AgeProofError`. The web endpoints are in :mod:`.handlers` and
the terms-page block in :mod:`ugc_guard.pages.terms` (template ``age_proof.html``); see ``docs/age-verification.md``.
"""

from __future__ import annotations

from .errors import AgeProofError, Reason
from .nonces import MemoryNonceStore, NonceStore, RedisNonceStore, Taken
from .request import Session, browser_request, close_session, open_session, read_response
from .trust import TrustList
from .verify import METHOD, AgeProof, verify_presentation

__all__ = [
    "METHOD",
    "AgeProof",
    "AgeProofError",
    "MemoryNonceStore",
    "NonceStore",
    "Reason",
    "RedisNonceStore",
    "Session",
    "Taken",
    "TrustList",
    "browser_request",
    "close_session",
    "open_session",
    "read_response",
    "verify_presentation",
]
