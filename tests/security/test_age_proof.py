"""Hostile Proof of Age presentations through the whole middleware: one case per check, each refused with
its exact status, code and reason, nothing recorded in the ledger, and uploads still closed."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cbor2
import pytest

from tests.agecheck.flow import JSON, REQUEST, RESPONSE, SITE_ORIGIN, answer, ask, av_policy, post_body, prove
from tests.agecheck.wallet import Issuer, issue, make_ca, make_issuer, new_key, now, present, sign1

from .conftest import GRANTS, Site, jpeg

AV = "eu.europa.ec.av.1"


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return make_issuer()


@pytest.fixture
def site(make_site: Callable[..., Site], issuer: Issuer, tmp_path: Path) -> Site:
    return make_site(av_policy(issuer, tmp_path))


def assert_closed(site: Site, client: Any, entries: int = 0) -> None:
    """Nothing (more) recorded, and the upload route still refuses this browser before the app."""
    assert site.entries() == entries
    refused = client.post("/upload", files={"file": ("a.jpg", jpeg(), "image/jpeg")}, data=GRANTS, headers=JSON)
    assert (refused.status_code, refused.json()["code"]) == (403, "terms-not-accepted")
    assert site.reached() == 0


def assert_refused(response: Any, reason: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["code"], problem["reason"]) == ("age-proof-invalid", reason)
    assert problem["detail"].startswith(f"{reason}: ")


def _retag(item: cbor2.CBORTag, **changes: Any) -> cbor2.CBORTag:
    return cbor2.CBORTag(24, cbor2.dumps({**cbor2.loads(item.value), **changes}))


def _tampered(issuer: Issuer, nonce: str) -> str:
    credential = issue(issuer, {"age_over_18": False})
    credential.items[AV][0] = _retag(credential.items[AV][0], elementValue=True)
    return present(credential, origin=SITE_ORIGIN, nonce=nonce)


def _resigned(issuer: Issuer, nonce: str) -> str:
    credential = issue(issuer, {"age_over_18": True})
    credential.issuer_auth = sign1(new_key(), "ES256", credential.issuer_auth[2], credential.issuer_auth[1])
    return present(credential, origin=SITE_ORIGIN, nonce=nonce)


def _lapsed_signer(issuer: Issuer, nonce: str) -> str:
    lapsed = make_issuer(ca=(issuer.ca_key, issuer.ca), signer_not_after=now() - dt.timedelta(days=1))
    return present(issue(lapsed, {"age_over_18": True}), origin=SITE_ORIGIN, nonce=nonce)


def _random_cbor(issuer: Issuer, nonce: str) -> str:
    return base64.urlsafe_b64encode(cbor2.dumps({"version": "1.0", "documents": [{"docType": 7}], "status": 0})).rstrip(b"=").decode()


PRESENTATIONS: dict[str, tuple[str, Callable[[Issuer, str], str]]] = {
    "not base64 CBOR": ("malformed", lambda issuer, nonce: "AAAA"),
    "garbled CBOR": ("malformed", lambda issuer, nonce: base64.urlsafe_b64encode(b"\xff\x00garbage").rstrip(b"=").decode()),
    "wrong CBOR shape": ("malformed", _random_cbor),
    "a driving licence": ("doctype", lambda issuer, nonce: present(issue(issuer, {"age_over_18": True}, doctype="org.iso.18013.5.1.mDL"),
                                                                  origin=SITE_ORIGIN, nonce=nonce)),
    "untrusted issuer": ("untrusted-issuer", lambda issuer, nonce: present(issue(make_issuer(ca=make_ca("Other CA")), {"age_over_18": True}),
                                                                           origin=SITE_ORIGIN, nonce=nonce)),
    "forged CA of the trusted name": ("chain-invalid", lambda issuer, nonce: present(
        issue(make_issuer(ca=make_ca("Test AV IACA")), {"age_over_18": True}), origin=SITE_ORIGIN, nonce=nonce)),
    "expired signer certificate": ("chain-invalid", _lapsed_signer),
    "MSO signed by another key": ("issuer-signature", _resigned),
    "expired attestation": ("mso-expired", lambda issuer, nonce: present(issue(
        issuer, {"age_over_18": True}, valid_from=now() - dt.timedelta(days=100), valid_until=now() - dt.timedelta(days=1)),
        origin=SITE_ORIGIN, nonce=nonce)),
    "attestation not valid yet": ("mso-not-yet-valid", lambda issuer, nonce: present(
        issue(issuer, {"age_over_18": True}, valid_from=now() + dt.timedelta(days=1)), origin=SITE_ORIGIN, nonce=nonce)),
    "claim altered after issuance": ("value-digest", _tampered),
    "made for another nonce": ("device-signature", lambda issuer, nonce: present(issue(issuer, {"age_over_18": True}), origin=SITE_ORIGIN,
                                                                                nonce="x" * 43)),
    "made for another site": ("device-signature", lambda issuer, nonce: present(issue(issuer, {"age_over_18": True}),
                                                                               origin="https://evil.example", nonce=nonce)),
    "signed by another device key": ("device-signature", lambda issuer, nonce: present(issue(issuer, {"age_over_18": True}),
                                                                                      origin=SITE_ORIGIN, nonce=nonce, signing_key=new_key())),
    "under age": ("claim-false", lambda issuer, nonce: present(issue(issuer, {"age_over_18": False}), origin=SITE_ORIGIN, nonce=nonce)),
    "claim withheld": ("claim-missing", lambda issuer, nonce: present(issue(issuer, {"age_over_18": True}), origin=SITE_ORIGIN, nonce=nonce,
                                                                     disclose=[])),
}  # fmt: skip


@pytest.mark.parametrize("case", PRESENTATIONS)
def test_a_presentation_that_proves_nothing(case: str, site: Site, issuer: Issuer) -> None:
    reason, make = PRESENTATIONS[case]
    client = site.client()
    assert_refused(prove(client, issuer, make=lambda nonce: make(issuer, nonce)), reason)
    assert_closed(site, client)


BODIES: dict[str, tuple[str, Callable[[str], Any]]] = {
    "not JSON": ("malformed", lambda nonce: b"\x00{not json"),
    "a JSON array": ("malformed", lambda nonce: [nonce]),
    "no presentation": ("malformed", lambda nonce: {"nonce": nonce, "protocol": "openid4vp-v1-unsigned", "data": {}}),
    "two presentations": ("malformed", lambda nonce: {**post_body(nonce, "AAAA"), "data": {"vp_token": {"proof_of_age": ["AAAA", "AAAA"]}}}),
    "another protocol": ("malformed", lambda nonce: post_body(nonce, "AAAA", protocol="org-iso-mdoc")),
    "a repeated key": ("malformed", lambda nonce: f'{{"nonce": "{nonce}", "nonce": "{nonce}"}}'.encode()),
    "the wallet's error": ("wallet-error", lambda nonce: {"nonce": nonce, "protocol": "openid4vp-v1-unsigned", "data": {"error": "access_denied"}}),
    "a nonce never issued": ("nonce", lambda nonce: post_body("A" * 43, "AAAA")),
}  # fmt: skip


@pytest.mark.parametrize("case", BODIES)
def test_a_post_that_is_not_an_answer(case: str, site: Site) -> None:
    reason, make = BODIES[case]
    client = site.client()
    body = make(ask(client)["nonce"])
    if isinstance(body, bytes):
        sent = client.post(RESPONSE, content=body, headers={**JSON, "content-type": "application/json"})
    else:
        sent = answer(client, body)
    assert_refused(sent, reason)
    assert_closed(site, client)


def test_a_replayed_presentation(site: Site, issuer: Issuer) -> None:
    client = site.client()
    request = ask(client)
    body = post_body(request["nonce"], present(issue(issuer, {"age_over_18": True}), origin=SITE_ORIGIN, nonce=request["nonce"]))
    assert answer(client, body).status_code == 200
    recorded = site.entries()
    assert recorded == 1
    assert_refused(answer(client, body), "replayed")
    assert site.entries() == recorded


def test_a_nonce_issued_to_someone_else(site: Site, issuer: Issuer) -> None:
    victim, attacker = site.client(), site.client()
    request = ask(victim)
    ask(attacker)  # the attacker has a subject of their own
    presentation = present(issue(issuer, {"age_over_18": True}), origin=SITE_ORIGIN, nonce=request["nonce"])
    assert_refused(answer(attacker, post_body(request["nonce"], presentation)), "nonce")
    assert_closed(site, attacker)
    assert answer(victim, post_body(request["nonce"], presentation)).status_code == 200  # nor can the attacker use the victim's request up
    assert site.entries() == 1


def test_someone_elses_valid_presentation_under_my_own_nonce(site: Site, issuer: Issuer) -> None:
    victim, attacker = site.client(), site.client()
    stolen = present(issue(issuer, {"age_over_18": True}), origin=SITE_ORIGIN, nonce=ask(victim)["nonce"])
    mine = ask(attacker)["nonce"]
    assert_refused(answer(attacker, post_body(mine, stolen)), "device-signature")
    assert_closed(site, attacker)


def test_a_body_over_the_limit(site: Site) -> None:
    client = site.client()
    nonce = ask(client)["nonce"]
    sent = answer(client, post_body(nonce, "A" * (64 * 1024)))
    assert (sent.status_code, sent.json()["code"]) == (413, "form-too-large")
    assert_closed(site, client)


@pytest.mark.parametrize("path", [REQUEST, RESPONSE])
@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"origin": "https://evil.example"}, 403, "csrf-failed"),
        ({"origin": "null"}, 403, "csrf-failed"),
        ({"origin": "http://testserver.evil.example"}, 403, "csrf-failed"),
        ({"sec-fetch-site": "cross-site"}, 403, "csrf-failed"),
        ({"content-type": "text/plain"}, 415, "unsupported-media-type"),
        ({"content-type": "application/x-www-form-urlencoded"}, 415, "unsupported-media-type"),
    ],
)
def test_posts_from_elsewhere_or_not_json(site: Site, issuer: Issuer, path: str, headers: dict[str, str], status: int, code: str) -> None:
    client = site.client()
    request = ask(client)
    body = post_body(request["nonce"], present(issue(issuer, {"age_over_18": True}), origin=SITE_ORIGIN, nonce=request["nonce"]))
    sent = client.post(path, content=json.dumps(body), headers={**JSON, "content-type": "application/json", **headers})
    assert (sent.status_code, sent.json()["code"]) == (status, code)
    assert_closed(site, client)


def test_the_same_origin_is_accepted(site: Site, issuer: Issuer) -> None:
    client = site.client(headers={"origin": SITE_ORIGIN, "sec-fetch-site": "same-origin"})
    assert prove(client, issuer).status_code == 200


def test_an_answer_without_the_subject_cookie(site: Site, issuer: Issuer) -> None:
    asking, cookieless = site.client(), site.client()
    request = ask(asking)
    presentation = present(issue(issuer, {"age_over_18": True}), origin=SITE_ORIGIN, nonce=request["nonce"])
    sent = answer(cookieless, post_body(request["nonce"], presentation))
    assert (sent.status_code, sent.json()["code"]) == (401, "subject-required")
    assert_closed(site, asking)


@pytest.mark.parametrize(("method", "path"), [("GET", REQUEST), ("GET", RESPONSE), ("PUT", REQUEST), ("POST", "/ugc-guard/age/age-proof.js")])
def test_other_methods(site: Site, method: str, path: str) -> None:
    sent = site.client().request(method, path, headers=JSON)
    assert (sent.status_code, sent.json()["code"]) == (405, "method-not-allowed")
    assert site.entries() == 0
