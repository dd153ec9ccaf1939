"""The session transcript the wallet's device key signs, bound to the request's nonce and the page's origin.

OpenID for Verifiable Presentations 1.0 (final, with errata set 1), Appendix B.2.6.2 "Invocation via
the Digital Credentials API": ``SessionTranscript = [null, null, OpenID4VPDCAPIHandover]`` with
``OpenID4VPDCAPIHandover = ["OpenID4VPDCAPIHandover", sha-256(cbor([origin, nonce, jwkThumbprint]))]``.
The origin is the one the browser gave the wallet (never prefixed ``origin:``); the thumbprint is
null because the response is not encrypted (response mode ``dc_api``). The device signs
``DeviceAuthenticationBytes`` over it (ISO/IEC 18013-5 §9.1.3.4).
"""

from __future__ import annotations

import hashlib

import cbor2

__all__ = ["dcapi_handover", "device_authentication_bytes", "session_transcript"]

HANDOVER_NAME = "OpenID4VPDCAPIHandover"


def dcapi_handover(origin: str, nonce: str, jwk_thumbprint: bytes | None = None) -> list[object]:
    """Return the ``OpenID4VPDCAPIHandover`` array for ``origin`` and ``nonce``."""
    info = cbor2.dumps([origin, nonce, jwk_thumbprint])
    return [HANDOVER_NAME, hashlib.sha256(info).digest()]


def session_transcript(origin: str, nonce: str, jwk_thumbprint: bytes | None = None) -> list[object]:
    """Return the ``SessionTranscript`` array (``[null, null, handover]``) for a Digital Credentials API request."""
    return [None, None, dcapi_handover(origin, nonce, jwk_thumbprint)]


def device_authentication_bytes(transcript: list[object], doctype: str, device_namespaces: bytes) -> bytes:
    """Return ``DeviceAuthenticationBytes``: ``#6.24(bstr .cbor ["DeviceAuthentication", transcript, doctype, nameSpacesBytes])``.

    ``device_namespaces`` are the bytes inside the document's ``DeviceNameSpacesBytes`` tag 24, as received.
    """
    authentication = ["DeviceAuthentication", transcript, doctype, cbor2.CBORTag(24, device_namespaces)]
    return cbor2.dumps(cbor2.CBORTag(24, cbor2.dumps(authentication)))
