"""The endpoint handlers: a request per call, a verified presentation recorded once, everything else a 4xx problem."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from starlette.responses import Response

from tests.agecheck.conftest import ORIGIN
from tests.agecheck.wallet import Issuer, issue, make_ca, make_issuer, present
from ugc_guard.agecheck import AgeProof, MemoryNonceStore
from ugc_guard.agecheck import handlers as handlers_module
from ugc_guard.agecheck.handlers import RESPONSE_LIMIT, age_request, age_response, age_script
from ugc_guard.policy import Policy
from ugc_guard.problems import Problem

SUBJECT = "subject-1"


@pytest.fixture
def av_policy(issuer: Issuer, policy_file: Callable[..., Path], tmp_path: Path) -> Callable[..., Policy]:
    from ugc_guard.policy import load_policy

    def make(**age: Any) -> Policy:
        folder = tmp_path / "policy"
        folder.mkdir(exist_ok=True)
        (folder / "av-ca.pem").write_text(issuer.ca_pem(), encoding="ascii")
        return load_policy(policy_file({"age": {"method": "eu-age-verification", "trusted_issuers": ["av-ca.pem"], **age}}))

    return make


class Recorder:
    def __init__(self, fail: Problem | None = None) -> None:
        self.calls: list[tuple[str, AgeProof]] = []
        self.fail = fail

    async def __call__(self, subject: str, proof: AgeProof) -> Mapping[str, Any] | None:
        if self.fail is not None:
            raise self.fail
        self.calls.append((subject, proof))
        return {"entry_id": "42", "entry_hash": "ab" * 32}


def body_of(response: Response) -> dict[str, Any]:
    return json.loads(bytes(response.body))


async def ask(policy: Policy, store: MemoryNonceStore, origin: str = ORIGIN) -> dict[str, Any]:
    response = await age_request(policy, SUBJECT, origin, store)
    assert response.status_code == 200, response.body
    assert response.headers["cache-control"] == "no-store"
    return body_of(response)


def answer(request: dict[str, Any], presentation: str) -> bytes:
    return json.dumps({"nonce": request["nonce"], "protocol": "openid4vp-v1-unsigned",
                       "data": {"vp_token": {"proof_of_age": [presentation]}}}).encode()  # fmt: skip


def assert_refused(response: Response, reason: str, recorder: Recorder) -> dict[str, Any]:
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = body_of(response)
    assert (problem["code"], problem["reason"]) == ("age-proof-invalid", reason)
    assert problem["detail"].startswith(f"{reason}: ")
    assert recorder.calls == []
    return problem


async def test_request_names_the_attestation_and_a_new_nonce_each_time(av_policy: Callable[..., Policy]) -> None:
    policy, store = av_policy(), MemoryNonceStore()
    first, second = await ask(policy, store), await ask(policy, store)
    assert first["nonce"] != second["nonce"]
    assert first["response_url"] == "/ugc-guard/age/response"
    text = json.dumps(first)
    assert "eu.europa.ec.av.1" in text and "age_over_18" in text


async def test_a_valid_presentation_is_recorded_once_and_a_replay_refused(issuer: Issuer, av_policy: Callable[..., Policy]) -> None:
    policy, store, recorder = av_policy(), MemoryNonceStore(), Recorder()
    request = await ask(policy, store)
    body = answer(request, present(issue(issuer, {"age_over_18": True}), origin=ORIGIN, nonce=request["nonce"]))
    response = await age_response(policy, SUBJECT, ORIGIN, body, store, recorder)
    assert response.status_code == 200, response.body
    result = body_of(response)
    assert {key: result[key] for key in ("band", "outcome", "method", "assurance")} == {
        "band": "18+", "outcome": "alone", "method": "eu-age-verification", "assurance": "eu-age-verification"}  # fmt: skip
    assert result["issuer"].startswith("CN=Test AV DS 001") and result["receipt"]["entry_id"] == "42"
    [(subject, proof)] = recorder.calls
    assert subject == SUBJECT and proof.band == "18+"
    # what reaches the ledger is the result, never the attestation or anything from it but the issuer and expiry
    assert {field.name for field in dataclasses.fields(proof)} == {
        "band", "outcome", "years_to_majority", "issuer", "attestation_expires", "method", "assurance"}  # fmt: skip
    again = await age_response(policy, SUBJECT, ORIGIN, body, store, recorder := Recorder())
    assert_refused(again, "replayed", recorder)


async def test_a_minor_is_recorded_in_the_guardian_band(issuer: Issuer, av_policy: Callable[..., Policy]) -> None:
    policy, store, recorder = av_policy(guardian_minimum=16), MemoryNonceStore(), Recorder()
    request = await ask(policy, store)
    assert request["claims"] == ["age_over_18", "age_over_16"]
    presentation = present(issue(issuer, {"age_over_18": False, "age_over_16": True}), origin=ORIGIN, nonce=request["nonce"])
    response = await age_response(policy, SUBJECT, ORIGIN, answer(request, presentation), store, recorder)
    assert (body_of(response)["band"], body_of(response)["outcome"]) == ("16-17", "with-guardian")


async def test_forged_expired_and_foreign_presentations_are_refused(issuer: Issuer, av_policy: Callable[..., Policy]) -> None:
    policy, store = av_policy(), MemoryNonceStore()
    stranger = make_issuer(ca=make_ca("Unknown CA"))
    cases = {
        "untrusted-issuer": lambda nonce: present(issue(stranger, {"age_over_18": True}), origin=ORIGIN, nonce=nonce),
        "device-signature": lambda nonce: present(issue(issuer, {"age_over_18": True}), origin="https://other.example", nonce=nonce),
        "claim-false": lambda nonce: present(issue(issuer, {"age_over_18": False}), origin=ORIGIN, nonce=nonce),
        "malformed": lambda nonce: "AAAA",
    }
    for reason, make in cases.items():
        request, recorder = await ask(policy, store), Recorder()
        assert_refused(await age_response(policy, SUBJECT, ORIGIN, answer(request, make(request["nonce"])), store, recorder), reason, recorder)


async def test_a_nonce_issued_to_someone_else_or_never(issuer: Issuer, av_policy: Callable[..., Policy]) -> None:
    policy, store, recorder = av_policy(), MemoryNonceStore(), Recorder()
    request = await ask(policy, store)
    body = answer(request, present(issue(issuer, {"age_over_18": True}), origin=ORIGIN, nonce=request["nonce"]))
    assert_refused(await age_response(policy, "subject-2", ORIGIN, body, store, recorder), "nonce", recorder)
    forged = answer({"nonce": "f" * 43}, present(issue(issuer, {"age_over_18": True}), origin=ORIGIN, nonce="f" * 43))
    assert_refused(await age_response(policy, SUBJECT, ORIGIN, forged, store, recorder), "nonce", recorder)


@pytest.mark.parametrize("body", [b"", b"{}", b"[1,2]", b'{"nonce": 1}', b"\x00" * 100, json.dumps({"nonce": "n" * 43, "data": {}}).encode()])
async def test_json_that_is_not_the_expected_shape_is_malformed(body: bytes, av_policy: Callable[..., Policy]) -> None:
    recorder = Recorder()
    assert_refused(await age_response(av_policy(), SUBJECT, ORIGIN, body, MemoryNonceStore(), recorder), "malformed", recorder)


async def test_an_oversized_body_is_413(av_policy: Callable[..., Policy]) -> None:
    response = await age_response(av_policy(), SUBJECT, ORIGIN, b" " * (RESPONSE_LIMIT + 1), MemoryNonceStore(), Recorder())
    assert (response.status_code, body_of(response)["code"]) == (413, "form-too-large")


async def test_a_verifier_crash_is_refused_not_a_500(issuer: Issuer, av_policy: Callable[..., Policy], monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    def crash(*args: object) -> AgeProof:
        raise RuntimeError("a bug")

    monkeypatch.setattr(handlers_module, "verify_presentation", crash)
    policy, store, recorder = av_policy(), MemoryNonceStore(), Recorder()
    request = await ask(policy, store)
    body = answer(request, present(issue(issuer, {"age_over_18": True}), origin=ORIGIN, nonce=request["nonce"]))
    assert_refused(await age_response(policy, SUBJECT, ORIGIN, body, store, recorder), "malformed", recorder)
    assert "age proof verifier failed" in caplog.text


async def test_a_ledger_that_cannot_record_is_its_own_problem(issuer: Issuer, av_policy: Callable[..., Policy]) -> None:
    policy, store = av_policy(), MemoryNonceStore()
    request = await ask(policy, store)
    body = answer(request, present(issue(issuer, {"age_over_18": True}), origin=ORIGIN, nonce=request["nonce"]))
    response = await age_response(policy, SUBJECT, ORIGIN, body, store, Recorder(Problem("ledger-unavailable")))
    assert (response.status_code, body_of(response)["code"]) == (503, "ledger-unavailable")


async def test_campaigns_with_another_method_do_not_offer_the_endpoints(make_policy: Callable[..., Policy]) -> None:
    policy, recorder = make_policy(), Recorder()
    assert (await age_request(policy, SUBJECT, ORIGIN, MemoryNonceStore())).status_code == 404
    assert (await age_response(policy, SUBJECT, ORIGIN, b"{}", MemoryNonceStore(), recorder)).status_code == 404


async def test_a_bad_origin_is_invalid_request(av_policy: Callable[..., Policy]) -> None:
    response = await age_request(av_policy(), SUBJECT, "null", MemoryNonceStore())
    assert (response.status_code, body_of(response)["code"]) == (400, "invalid-request")


async def test_the_script_is_served_as_javascript() -> None:
    response = await age_script()
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert b"navigator.credentials.get" in bytes(response.body)
    assert b"openid4vp-v1-unsigned" in bytes(response.body)


async def test_a_mounted_app_gets_the_response_url_under_its_root_path(av_policy: Callable[..., Policy]) -> None:
    response = await age_request(av_policy(), SUBJECT, ORIGIN, MemoryNonceStore(), root_path="/shop")
    assert body_of(response)["response_url"] == "/shop/ugc-guard/age/response"
