"""The session transcript matches OpenID4VP 1.0's own example (appendix B.2.6.2)."""

from __future__ import annotations

import cbor2

from ugc_guard.agecheck.transcript import device_authentication_bytes, session_transcript

# OpenID4VP 1.0 (errata set 1), "Invocation via the Digital Credentials API": the example's inputs and output.
SPEC_NONCE = "exc7gBkxjx1rdc9udRrveKvSsJIq80avlXeLHhGwqtA"
SPEC_THUMBPRINT = bytes.fromhex("4283ec927ae0f208daaa2d026a814f2b22dca52cf85ffa8f3f8626c6bd669047")
SPEC_TRANSCRIPT = bytes.fromhex(
    "83f6f682764f70656e4944345650444341504948616e646f7665725820fbece366f4212f9762c74cfdbf83b8c69e371d5d68cea09cb4c48ca6daab761a"
)


def test_transcript_is_the_specifications_example() -> None:
    assert cbor2.dumps(session_transcript("https://example.com", SPEC_NONCE, SPEC_THUMBPRINT)) == SPEC_TRANSCRIPT


def test_unencrypted_responses_put_null_for_the_thumbprint_and_bind_origin_and_nonce() -> None:
    base = cbor2.dumps(session_transcript("https://example.com", SPEC_NONCE))
    assert base != SPEC_TRANSCRIPT
    assert base != cbor2.dumps(session_transcript("https://example.org", SPEC_NONCE))
    assert base != cbor2.dumps(session_transcript("https://example.com", SPEC_NONCE[:-1]))


def test_device_authentication_bytes_wrap_the_transcript_doctype_and_namespaces() -> None:
    transcript = session_transcript("https://example.com", SPEC_NONCE)
    encoded = device_authentication_bytes(transcript, "eu.europa.ec.av.1", cbor2.dumps({}))
    outer = cbor2.loads(encoded)
    assert outer.tag == 24
    inner = cbor2.loads(outer.value)
    assert inner[0] == "DeviceAuthentication"
    assert inner[1] == transcript
    assert inner[2] == "eu.europa.ec.av.1"
