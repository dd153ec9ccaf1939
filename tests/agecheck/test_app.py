"""The Proof of Age through the whole middleware on a real SQLite ledger: request, the test wallet's
answer, the recorded age result, then accept and upload; and the terms page that offers it."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.agecheck.flow import JSON, REQUEST, RESPONSE, SITE_ORIGIN, answer, ask, av_policy, ledger_text, post_body, prove
from tests.agecheck.wallet import Issuer, issue, new_key, now, present
from tests.security.conftest import GRANTS, Site, jpeg, make_site
from ugc_guard.ledger import AgeResult, Ledger
from ugc_guard.pages import find_gate
from ugc_guard.pages.catalog import gettext
from ugc_guard.pages.nonces import SharedNonceStore
from ugc_guard.subject import COOKIE_NAME

__all__ = ["make_site"]  # the hostile suite's site factory, used here as a fixture

CAMPAIGN = "test-campaign"
ISSUER = "CN=Test AV DS 001,O=Test AV Provider,C=EU"


@pytest.fixture
def av_site(make_site: Callable[..., Site], issuer: Issuer, tmp_path: Path) -> Callable[..., Site]:
    """Factory: the full guard with ``age.method: eu-age-verification`` trusting the test issuer's CA."""
    return lambda **age: make_site(av_policy(issuer, tmp_path, **age))


def upload(client: Any) -> Any:
    return client.post("/upload", files={"file": ("a.jpg", jpeg(), "image/jpeg")}, data=GRANTS, headers=JSON)


def accept_form(client: Any, **fields: str) -> Any:
    page = client.get("/ugc-guard/terms")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    data = {"csrf_token": token.group(1), "terms_version": "1", "lang": "en", "next": "/", "accept_terms": "yes", "accept_licence": "yes", **fields}
    return client.post("/ugc-guard/accept", data=data, follow_redirects=False)


def age_results(site: Site) -> list[dict[str, Any]]:
    return [entry.data for entry in Ledger(site.ledger_url).entries(campaign=CAMPAIGN, kinds=["age_result"]).items]


def test_the_request_names_the_attestation_with_a_new_nonce_each_time(av_site: Callable[..., Site]) -> None:
    site = av_site()
    client = site.client()
    first = client.post(REQUEST, json={}, headers=JSON)
    assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
    assert first.headers["set-cookie"].startswith(COOKIE_NAME + "=")  # the request is bound to a subject made here
    second = ask(client)
    body = first.json()
    assert body["nonce"] != second["nonce"] and len({body["nonce"], second["nonce"], ask(client)["nonce"]}) == 3
    [request] = body["digital"]["requests"]
    assert request["protocol"] == "openid4vp-v1-unsigned"
    [credential] = request["data"]["dcql_query"]["credentials"]
    assert credential["meta"] == {"doctype_value": "eu.europa.ec.av.1"}
    assert [claim["path"] for claim in credential["claims"]] == [["eu.europa.ec.av.1", "age_over_18"]]
    assert body["response_url"] == RESPONSE and body["claims"] == ["age_over_18"]
    assert site.entries() == 0 and site.reached() == 0


def test_a_bare_post_gets_a_request_and_a_form_post_does_not(av_site: Callable[..., Site]) -> None:
    client = av_site().client()
    bare = client.post("/ugc-guard/age/request")
    assert bare.status_code == 200 and "eu.europa.ec.av.1" in bare.text
    form = client.post("/ugc-guard/age/request", data={"x": "1"})
    assert form.status_code == 415 and form.json()["code"] == "unsupported-media-type"


def test_a_valid_presentation_is_recorded_then_accept_and_upload_succeed(av_site: Callable[..., Site], issuer: Issuer) -> None:
    site = av_site()
    client = site.client()
    expires = now() + dt.timedelta(days=90)
    device_key = new_key()
    request = ask(client)
    presentation = present(issue(issuer, {"age_over_18": True}, valid_until=expires, device_key=device_key), origin=SITE_ORIGIN,
                           nonce=request["nonce"])  # fmt: skip
    proved = answer(client, post_body(request["nonce"], presentation))
    assert proved.status_code == 200, proved.text
    result = proved.json()
    assert {key: result[key] for key in ("band", "outcome", "method", "assurance", "issuer")} == {
        "band": "18+", "outcome": "alone", "method": "eu-age-verification", "assurance": "eu-age-verification", "issuer": ISSUER}  # fmt: skip
    [entry] = Ledger(site.ledger_url).entries(campaign=CAMPAIGN).items
    assert entry.kind == "age_result" and str(entry.id) == result["receipt"]["entry_id"] and entry.hash == result["receipt"]["entry_hash"]
    assert entry.data == {
        "band": "18+", "method": "eu-age-verification", "assurance": "eu-age-verification", "reconfirm_at_majority": False,
        "reconfirm_due": None, "issuer": ISSUER, "attestation_expires": expires.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z",
    }  # fmt: skip
    stored = ledger_text(site.ledger_url)
    numbers = device_key.public_key().public_numbers() if isinstance(device_key, ec.EllipticCurvePrivateKey) else None
    assert numbers is not None
    device_x = numbers.x.to_bytes(32, "big")
    for secret in (presentation, presentation[:40], request["nonce"], device_x.hex(), base64.b64encode(device_x).decode(), repr(device_x)):
        assert secret not in stored  # never the attestation, the nonce or the device key
    status = Ledger(site.ledger_url).subject_status(CAMPAIGN, entry.subject or "")
    assert (status.age_band, status.age_assurance, status.terms_version) == ("18+", "eu-age-verification", None)

    assert upload(client).json()["code"] == "terms-not-accepted"  # a proven age is not an acceptance
    accepted = accept_form(client)
    assert accepted.status_code == 303, accepted.text
    kinds = [item.kind for item in Ledger(site.ledger_url).entries(campaign=CAMPAIGN).items]
    assert kinds == ["age_result", "terms_acceptance"]  # the acceptance adds no second, unproven age result
    uploaded = upload(client)
    assert uploaded.status_code == 201, uploaded.text
    assert site.reached() == 1


def test_the_json_accept_after_a_proof(av_site: Callable[..., Site], issuer: Issuer) -> None:
    site = av_site()
    client = site.client()
    assert prove(client, issuer).status_code == 200
    accepted = client.post("/ugc-guard/accept", json={"terms_version": "1", "accept_terms": True, "accept_licence": True}, headers=JSON)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["status"]["age_band"] == "18+" and accepted.json()["status"]["missing"] == []
    assert upload(client).status_code == 201


def test_accepting_without_an_attestation_is_refused(av_site: Callable[..., Site]) -> None:
    site = av_site()
    client = site.client()
    refused = client.post("/ugc-guard/accept", json={"terms_version": "1", "accept_terms": True, "birth_date": "1990-01-01"}, headers=JSON)
    assert (refused.status_code, refused.json()["code"]) == (403, "age-not-verified")
    assert "Proof of Age" in refused.json()["detail"]
    page = accept_form(client, birth_date="1990-01-01")
    assert page.status_code == 403 and "Show your Proof of Age first" in page.text
    assert site.entries() == 0
    assert (upload(client).status_code, upload(client).json()["code"]) == (403, "terms-not-accepted")
    assert site.reached() == 0


def find_subject(site: Site, client: Any) -> str:
    """The subject id behind the client's cookie, read back by the gate's own subject stage."""
    subject = find_gate(site.guard).subjects.cookie.read(client.cookies.get(COOKIE_NAME))
    assert subject is not None
    return subject


def test_a_band_from_a_typed_birth_date_does_not_count_as_proof(av_site: Callable[..., Site]) -> None:
    site = av_site()
    client = site.client()
    ask(client)  # makes the subject
    Ledger(site.ledger_url).record_age_result(CAMPAIGN, find_subject(site, client), AgeResult("18+", "birth_date", "self-declared"))
    refused = client.post("/ugc-guard/accept", json={"terms_version": "1", "accept_terms": True}, headers=JSON)
    assert (refused.status_code, refused.json()["code"]) == (403, "age-not-verified")
    assert 'id="age-proof"' in client.get("/ugc-guard/terms").text  # still asked to prove it


def test_the_terms_page_offers_the_attestation_instead_of_a_birth_date(av_site: Callable[..., Site], issuer: Issuer) -> None:
    site = av_site()
    client = site.client()
    page = client.get("/ugc-guard/terms")
    assert page.status_code == 200
    assert 'name="birth_date"' not in page.text and 'name="age_band"' not in page.text
    assert 'data-request-url="/ugc-guard/age/request"' in page.text
    assert '<script src="/ugc-guard/age/age-proof.js" defer></script>' in page.text
    assert gettext("en", "age_proof_unsupported") in page.text and "Show your Proof of Age below first" in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    script = client.get("/ugc-guard/age/age-proof.js")
    assert script.status_code == 200 and script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert gettext("nl", "age_proof_button") in client.get("/ugc-guard/terms?lang=nl").text

    assert prove(client, issuer).status_code == 200
    proven = client.get("/ugc-guard/terms")
    assert "Your Proof of Age was checked: age group 18+." in proven.text and 'id="age-proof"' not in proven.text
    assert "script-src" not in proven.headers["content-security-policy"]  # no script on a page that needs none
    error = accept_form(client, accept_licence="")
    assert error.status_code == 400 and "Your Proof of Age was checked" in error.text  # an error keeps the proven age shown


def test_a_minor_proves_the_guardian_band_and_needs_a_guardian(av_site: Callable[..., Site], issuer: Issuer) -> None:
    site = av_site(guardian_minimum=16)
    minor = site.client()
    assert ask(minor)["claims"] == ["age_over_18", "age_over_16"]
    proved = prove(minor, issuer, {"age_over_18": False, "age_over_16": True})
    assert (proved.status_code, proved.json()["band"], proved.json()["outcome"]) == (200, "16-17", "with-guardian")
    [result] = age_results(site)
    today = dt.date.today()
    due = today.replace(year=today.year + 2) if (today.month, today.day) != (2, 29) else today.replace(year=today.year + 2, day=28)
    assert (result["band"], result["reconfirm_at_majority"], result["reconfirm_due"]) == ("16-17", True, due.isoformat())
    assert accept_form(minor).status_code == 400  # the guardian's address is needed
    assert accept_form(minor, guardian_email="parent@example.org").status_code == 303
    assert len(site.outbox.messages) == 1
    assert upload(minor).json()["code"] == "guardian-consent-pending" and site.reached() == 0
    # one attestation cannot raise another's band before the re-confirmation day
    before = site.entries()
    raised = prove(minor, issuer, {"age_over_18": True})
    assert (raised.status_code, raised.json()["code"]) == (409, "age-redeclared")
    assert site.entries() == before


def test_an_adult_proving_a_minors_band_later_is_held_to_it(av_site: Callable[..., Site], issuer: Issuer) -> None:
    site = av_site(guardian_minimum=16)
    client = site.client()
    assert prove(client, issuer).status_code == 200
    assert accept_form(client).status_code == 303
    assert upload(client).status_code == 201
    lower = prove(client, issuer, {"age_over_18": False, "age_over_16": True})
    assert lower.status_code == 200 and lower.json()["band"] == "16-17"
    assert upload(client).json()["code"] == "guardian-consent-pending"


def test_campaigns_with_another_method_have_no_age_proof_routes(make_site: Callable[..., Site]) -> None:
    site = make_site()
    client = site.client()
    assert client.post(REQUEST, json={}, headers=JSON).status_code == 404  # passed on to the app, which has no such route
    assert client.get("/ugc-guard/age/age-proof.js").status_code == 404
    assert "script-src" not in client.get("/ugc-guard/terms").headers["content-security-policy"]


def test_several_workers_share_the_nonce_store_in_redis(make_site: Callable[..., Site], issuer: Issuer, tmp_path: Path, redis_url: str) -> None:
    overrides = {**av_policy(issuer, tmp_path), "rate_limits": {"storage": redis_url}}
    first, second = make_site(overrides), make_site(overrides)  # two workers of one site on one ledger and one Redis
    assert isinstance(find_gate(first.guard).nonces, SharedNonceStore)
    with first.client() as browser, second.client() as other:
        request = ask(browser)
        other.cookies.update(browser.cookies)
        presentation = present(issue(issuer, {"age_over_18": True}), origin=SITE_ORIGIN, nonce=request["nonce"])
        proved = answer(other, post_body(request["nonce"], presentation))
        assert proved.status_code == 200, proved.text
        replayed = answer(browser, post_body(request["nonce"], presentation))
        assert (replayed.status_code, replayed.json()["reason"]) == (400, "replayed")


def test_one_worker_in_memory_does_not_know_anothers_requests(make_site: Callable[..., Site], issuer: Issuer, tmp_path: Path) -> None:
    overrides = av_policy(issuer, tmp_path)
    first, second = make_site(overrides), make_site(overrides)
    browser, other = first.client(), second.client()
    request = ask(browser)
    other.cookies.update(browser.cookies)
    presentation = present(issue(issuer, {"age_over_18": True}), origin=SITE_ORIGIN, nonce=request["nonce"])
    refused = answer(other, post_body(request["nonce"], presentation))
    assert (refused.status_code, refused.json()["reason"]) == (400, "nonce")


def test_a_nonce_store_that_cannot_be_reached_is_503(av_site: Callable[..., Site], issuer: Issuer) -> None:
    site = av_site()
    find_gate(site.guard).nonces = SharedNonceStore("redis://127.0.0.1:1/0", "ugc-guard:test:")
    client = site.client()
    asked = client.post(REQUEST, json={}, headers=JSON)
    assert (asked.status_code, asked.json()["code"]) == (503, "age-proof-unavailable")
    body = post_body("n" * 43, present(issue(issuer, {"age_over_18": True}), origin=SITE_ORIGIN, nonce="n" * 43))
    answered = answer(client, body)
    assert (answered.status_code, answered.json()["code"]) == (503, "age-proof-unavailable")
    assert site.entries() == 0


def test_a_mounted_app_gets_its_root_path_in_the_urls(av_site: Callable[..., Site]) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.testclient import TestClient

    site = av_site()
    outer = Starlette(routes=[Mount("/shop", app=site.guard)])
    with TestClient(outer, base_url="http://testserver") as client:
        page = client.get("/shop/ugc-guard/terms")
        assert 'data-request-url="/shop/ugc-guard/age/request"' in page.text
        asked = client.post("/shop/ugc-guard/age/request", json={}, headers=JSON)
        assert asked.status_code == 200 and asked.json()["response_url"] == "/shop/ugc-guard/age/response"


def test_the_request_post_is_not_read_beyond_a_small_body(av_site: Callable[..., Site]) -> None:
    client = av_site().client()
    big = client.post(REQUEST, content=json.dumps({"x": "y" * 4096}), headers={**JSON, "content-type": "application/json"})
    assert (big.status_code, big.json()["code"]) == (413, "form-too-large")
