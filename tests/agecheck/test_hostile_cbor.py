"""Garbled, deeply nested, oversized, indefinite, oddly tagged or wrongly typed CBOR is ``malformed``, never a crash."""

from __future__ import annotations

import base64
import datetime as dt

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.agecheck.conftest import ORIGIN, new_session
from tests.agecheck.wallet import Issuer, encode, issue, make_issuer, now, present, response
from ugc_guard.agecheck import AgeProof, AgeProofError, Reason, TrustList, verify_presentation


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def reason_for(presentation: str, trust: TrustList) -> Reason:
    with pytest.raises(AgeProofError) as caught:
        verify_presentation(presentation, new_session(), trust, now())
    return caught.value.reason


HOSTILE = {
    "garbled": b"\xff\x00garbage",
    "empty": b"",
    "truncated map": bytes.fromhex("a3") + cbor2.dumps("version"),
    "trailing bytes": cbor2.dumps({"version": "1.0", "status": 0}) + b"\x00",
    "nested 100 deep": b"\x81" * 100 + b"\x00",
    "nested 100000 deep": b"\x81" * 100_000 + b"\x00",
    "byte string claiming 2**62 bytes": b"\x5b" + (2**62).to_bytes(8, "big") + b"abc",
    "array claiming 2**62 items": b"\x9b" + (2**62).to_bytes(8, "big") + b"\x00",
    "text claiming 2**40 bytes": b"\x7b" + (2**40).to_bytes(8, "big") + b"a",
    "indefinite-length map": b"\xbf" + cbor2.dumps("status") + b"\x00\xff",
    "indefinite-length byte string": b"\x5f\x41a\xff",
    "duplicate map keys": b"\xa2" + cbor2.dumps("status") + b"\x00" + cbor2.dumps("status") + b"\x00",
    "unknown tag": cbor2.dumps(cbor2.CBORTag(9999, {"status": 0})),
    "set tag 258": b"\xd9\x01\x02\x80",
    "shared reference tags": b"\xd8\x1c\x81\xd8\x1d\x00",
    "bignum tag": b"\xc2\x49" + b"\x01" * 9,
    "epoch date tag 1": b"\xc1\x00",
    "self-describe tag": b"\xd9\xd9\xf7\xa0",
    "top-level array": cbor2.dumps([1, 2, 3]),
    "status as text": cbor2.dumps({"version": "1.0", "status": "0"}),
    "status as boolean": cbor2.dumps({"version": "1.0", "status": False}),
    "documents as map": cbor2.dumps({"version": "1.0", "status": 0, "documents": {"a": 1}}),
    "document not a map": cbor2.dumps({"version": "1.0", "status": 0, "documents": [b"x"]}),
    "status not OK": cbor2.dumps({"version": "1.0", "status": 20}),
    "two documents": cbor2.dumps({"version": "1.0", "status": 0, "documents": [{}, {}]}),
    "version 2": cbor2.dumps({"version": "2.0", "status": 0}),
    "undefined and simple values": b"\xa2" + cbor2.dumps("version") + b"\xf7" + cbor2.dumps("status") + b"\xf0",
    "float status": cbor2.dumps({"version": "1.0", "status": 0.0}),
}


@pytest.mark.parametrize("data", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_device_responses_are_malformed(data: bytes, trust: TrustList) -> None:
    assert reason_for(b64(data), trust) is Reason.malformed


@pytest.mark.parametrize("text", ["not base64!", "abc$", "A", "=" * 4, "a b"])
def test_text_that_is_not_base64url_is_malformed(text: str, trust: TrustList) -> None:
    assert reason_for(text, trust) is Reason.malformed


def test_padded_base64url_is_read_too(issuer: Issuer, trust: TrustList) -> None:
    session = new_session()
    presentation = present(issue(issuer, {"age_over_18": True}), origin=ORIGIN, nonce=session.nonce)
    padded = presentation + "=" * (-len(presentation) % 4)
    assert verify_presentation(padded, session, trust, now()).band == "18+"


def _valid_response(issuer: Issuer, nonce: str) -> dict[str, object]:
    return response(issue(issuer, {"age_over_18": True}), origin=ORIGIN, nonce=nonce)


@pytest.mark.parametrize(
    ("place", "value"),
    [
        (("issuerSigned", "issuerAuth"), "not an array"),
        (("issuerSigned", "issuerAuth"), [b"", {}, b""]),
        (("issuerSigned", "nameSpaces"), ["a list"]),
        (("issuerSigned", "nameSpaces"), {"eu.europa.ec.av.1": [b"an untagged item"]}),
        (("issuerSigned", "nameSpaces"), {"eu.europa.ec.av.1": [cbor2.CBORTag(24, b"\xff")]}),
        (("issuerSigned", "nameSpaces"), {"eu.europa.ec.av.1": [cbor2.CBORTag(24, cbor2.dumps({"digestID": 0}))]}),
        (("issuerSigned", "nameSpaces"), {7: []}),
        (("deviceSigned", "nameSpaces"), {}),
        (("deviceSigned", "nameSpaces"), cbor2.CBORTag(24, b"\x81" * 50 + b"\x00")),
        (("deviceSigned", "deviceAuth"), {"deviceSignature": "x"}),
        (("docType",), 42),
    ],
)
def test_wrong_types_inside_a_document_are_malformed(place: tuple[str, ...], value: object, issuer: Issuer, trust: TrustList) -> None:
    session = new_session()
    mapped = _valid_response(issuer, session.nonce)
    target = mapped["documents"][0]  # type: ignore[index]
    for key in place[:-1]:
        target = target[key]
    target[place[-1]] = value
    with pytest.raises(AgeProofError) as caught:
        verify_presentation(encode(mapped), session, trust, now())
    assert caught.value.reason is Reason.malformed


def test_an_unknown_tag_deep_inside_is_malformed(issuer: Issuer, trust: TrustList) -> None:
    session = new_session()
    mapped = _valid_response(issuer, session.nonce)
    mapped["documents"][0]["issuerSigned"]["issuerAuth"][1] = {33: cbor2.CBORTag(258, [b"a"])}  # type: ignore[index]
    assert reason_for(encode(mapped), trust) is Reason.malformed


@pytest.fixture(scope="module")
def flip_setup() -> tuple[bytes, TrustList, object]:
    issuer = make_issuer()
    session = new_session()
    raw = base64.urlsafe_b64decode(present(issue(issuer, {"age_over_18": True}), origin=ORIGIN, nonce=session.nonce) + "==")
    return raw, TrustList.from_pem([issuer.ca_pem()]), session


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_single_corruption_is_refused_or_harmless(flip_setup: tuple[bytes, TrustList, object], data: st.DataObject) -> None:
    raw, trust, session = flip_setup
    position = data.draw(st.integers(0, len(raw) - 1))
    byte = data.draw(st.integers(0, 255))
    cut = data.draw(st.booleans())
    corrupted = raw[:position] if cut else raw[:position] + bytes([byte]) + raw[position + 1 :]
    try:
        result = verify_presentation(b64(corrupted), session, trust, now())  # type: ignore[arg-type]
    except AgeProofError as error:
        assert error.reason in set(Reason)
    else:
        # Only bytes no signature covers may change without a refusal (e.g. the DeviceResponse version's minor digit).
        assert isinstance(result, AgeProof) and result.band == "18+"


def test_far_future_validity_and_odd_dates_do_not_crash(issuer: Issuer, trust: TrustList) -> None:
    session = new_session()
    credential = issue(issuer, {"age_over_18": True}, valid_until=dt.datetime(9999, 12, 31, tzinfo=dt.UTC))
    assert verify_presentation(present(credential, origin=ORIGIN, nonce=session.nonce), session, trust, now()).band == "18+"
