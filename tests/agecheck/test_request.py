"""The request for the Digital Credentials API, the single-use nonce, and the shape of the page's post."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.agecheck.conftest import ORIGIN
from ugc_guard.agecheck import AgeProofError, MemoryNonceStore, Reason, browser_request, close_session, open_session, read_response

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)


async def test_request_asks_for_the_proof_of_age_with_a_fresh_nonce() -> None:
    store = MemoryNonceStore()
    first = await open_session(store, subject="s1", origin=ORIGIN, minimum=18, guardian_minimum=None, now=NOW)
    second = await open_session(store, subject="s1", origin=ORIGIN, minimum=18, guardian_minimum=None, now=NOW)
    assert first.nonce != second.nonce and len(first.nonce) >= 43
    body = browser_request(first, "/ugc-guard/age/response")
    [request] = body["digital"]["requests"]
    assert request["protocol"] == "openid4vp-v1-unsigned"
    data = request["data"]
    assert (data["response_type"], data["response_mode"], data["nonce"]) == ("vp_token", "dc_api", first.nonce)
    [credential] = data["dcql_query"]["credentials"]
    assert credential["format"] == "mso_mdoc"
    assert credential["meta"] == {"doctype_value": "eu.europa.ec.av.1"}
    assert [claim["path"] for claim in credential["claims"]] == [["eu.europa.ec.av.1", "age_over_18"]]
    assert body["claims"] == ["age_over_18"]
    assert -7 in data["client_metadata"]["vp_formats_supported"]["mso_mdoc"]["issuerauth_alg_values"]
    assert "client_id" not in data  # unsigned requests carry none: the wallet takes the origin
    assert body["expires_at"] == "2026-05-01T12:05:00+00:00"
    json.dumps(body)  # what the page receives is plain JSON


async def test_a_campaign_with_a_guardian_band_also_asks_for_that_age() -> None:
    session = await open_session(MemoryNonceStore(), subject="s1", origin=ORIGIN, minimum=18, guardian_minimum=16, now=NOW)
    paths = [claim["path"][1] for claim in browser_request(session, "/r")["digital"]["requests"][0]["data"]["dcql_query"]["credentials"][0]["claims"]]
    assert paths == ["age_over_18", "age_over_16"]


@pytest.mark.parametrize("origin", ["upload.example.com", "https://upload.example.com/terms", "null", "javascript:alert(1)", ""])
async def test_an_origin_that_is_not_one_is_refused(origin: str) -> None:
    with pytest.raises(ValueError, match="is not an origin"):
        await open_session(MemoryNonceStore(), subject="s1", origin=origin, minimum=18, guardian_minimum=None, now=NOW)


async def test_a_nonce_is_good_once_for_its_subject_and_origin() -> None:
    store = MemoryNonceStore()
    session = await open_session(store, subject="s1", origin=ORIGIN, minimum=18, guardian_minimum=None, now=NOW)
    with pytest.raises(AgeProofError) as other_subject:
        await close_session(store, subject="s2", nonce=session.nonce, origin=ORIGIN, now=NOW)
    assert other_subject.value.reason is Reason.nonce
    assert await close_session(store, subject="s1", nonce=session.nonce, origin=ORIGIN, now=NOW) == session
    with pytest.raises(AgeProofError) as again:
        await close_session(store, subject="s1", nonce=session.nonce, origin=ORIGIN, now=NOW)
    assert again.value.reason is Reason.replayed


async def test_a_nonce_never_issued_expired_or_from_another_origin_is_refused() -> None:
    store = MemoryNonceStore()
    with pytest.raises(AgeProofError) as unknown:
        await close_session(store, subject="s1", nonce="x" * 43, origin=ORIGIN, now=NOW)
    assert unknown.value.reason is Reason.nonce
    late = await open_session(store, subject="s1", origin=ORIGIN, minimum=18, guardian_minimum=None, now=NOW)
    with pytest.raises(AgeProofError, match="expired") as expired:
        await close_session(store, subject="s1", nonce=late.nonce, origin=ORIGIN, now=NOW + dt.timedelta(minutes=6))
    assert expired.value.reason is Reason.nonce
    moved = await open_session(store, subject="s1", origin=ORIGIN, minimum=18, guardian_minimum=None, now=NOW)
    with pytest.raises(AgeProofError, match=r"was made for https://upload\.example\.com") as elsewhere:
        await close_session(store, subject="s1", nonce=moved.nonce, origin="https://evil.example", now=NOW)
    assert elsewhere.value.reason is Reason.nonce


def post(**fields: object) -> bytes:
    body = {"nonce": "n" * 43, "protocol": "openid4vp-v1-unsigned", "data": {"vp_token": {"proof_of_age": ["b64url"]}}} | fields
    return json.dumps(body).encode()


def test_the_pages_post_gives_nonce_and_presentation() -> None:
    assert read_response(post()) == ("n" * 43, "b64url")


@pytest.mark.parametrize(
    "body",
    [
        b"", b"not json", b"[]", b'"text"', b"\xff\xfe", b"[" * 100_000, b'{"nonce": NaN}',
        b'{"nonce": "a", "nonce": "b"}',
        post(nonce=None), post(nonce="short"), post(nonce="n" * 42 + "!"), post(protocol="openid4vp"), post(protocol=None),
        post(data="a JSON string"), post(data={"vp_token": "x"}), post(data={"vp_token": {"proof_of_age": "x"}}),
        post(data={"vp_token": {"proof_of_age": []}}), post(data={"vp_token": {"proof_of_age": ["a", "b"]}}),
        post(data={"vp_token": {"proof_of_age": [{"a": 1}]}}), post(data={"vp_token": {"other": ["x"]}}),
        post(data={"vp_token": {"proof_of_age": ["not base64url!"]}}), post(data={"vp_token": {"proof_of_age": ["A" * 50_000]}}),
    ],
)  # fmt: skip
def test_a_post_of_any_other_shape_is_malformed(body: bytes) -> None:
    with pytest.raises(AgeProofError) as caught:
        read_response(body)
    assert caught.value.reason is Reason.malformed


def test_a_wallet_error_is_named() -> None:
    with pytest.raises(AgeProofError) as caught:
        read_response(post(data={"error": "access_denied"}))
    assert caught.value.reason is Reason.wallet_error
    assert "access_denied" in caught.value.detail
