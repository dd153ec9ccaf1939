"""The log's endpoints: a signed note, a JWKS, and proofs made of hashes only; bad input is a problem+json."""

from __future__ import annotations

import base64
import json

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from ugc_guard.ledger import Ledger, tree
from ugc_guard.ledger.prooflog import AsyncProofLog
from ugc_guard.proof.entries import entry_leaf
from ugc_guard.proof.keys import parse_jwks
from ugc_guard.proof.merkle import verify_consistency, verify_inclusion
from ugc_guard.proof.receipt import verify_checkpoint
from ugc_guard.transparency import routes

from .conftest import ORIGIN, TERMS, accept, proof_log, upload


@pytest.fixture
def client(ledger: Ledger) -> TestClient:
    return TestClient(Starlette(routes=routes(AsyncProofLog(proof_log(ledger)))))


def test_keys_and_checkpoint(ledger: Ledger, client: TestClient) -> None:
    accept(ledger, "a")
    keys = client.get("/ugc-guard/keys")
    assert keys.status_code == 200 and keys.headers["content-type"] == "application/jwk-set+json"
    jwk = keys.json()["keys"][0]
    assert {jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"], jwk["status"]} == {"OKP", "Ed25519", "EdDSA", "sig", "current"}
    answer = client.get("/ugc-guard/checkpoint")
    assert answer.status_code == 200 and answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.text.startswith(f"{ORIGIN}\n2\n") and "\n\n\u2014 " + ORIGIN + " " in answer.text
    checkpoint = verify_checkpoint(answer.text, ORIGIN, parse_jwks(keys.json()))
    assert checkpoint.size == 2
    assert answer.headers["access-control-allow-origin"] == "*" and answer.headers["cache-control"] == "no-cache"


def test_proofs_are_hashes_only_and_verify(ledger: Ledger, client: TestClient) -> None:
    submission = upload(ledger, "uploader", b"picture")
    for index in range(4):
        accept(ledger, f"s{index}")
    checkpoint = verify_checkpoint(client.get("/ugc-guard/checkpoint").text, ORIGIN, parse_jwks(client.get("/ugc-guard/keys").json()))
    answer = client.get(f"/ugc-guard/proof/inclusion?entry={submission}")
    proof = answer.json()
    assert set(proof) == {"origin", "entry_id", "leaf_index", "tree_size", "entry_hash", "proof"}
    assert "uploader" not in answer.text and TERMS.text_sha256 not in answer.text and "image/jpeg" not in answer.text
    hashes = [base64.b64decode(item) for item in proof["proof"]]
    verify_inclusion(entry_leaf(proof["entry_hash"]), proof["leaf_index"], checkpoint.size, hashes, checkpoint.root)
    fixed = client.get(f"/ugc-guard/proof/inclusion?entry={submission}&size=5")
    assert fixed.json()["tree_size"] == 5 and "immutable" in fixed.headers["cache-control"]
    consistency = client.get("/ugc-guard/proof/consistency?from=3&to=13").json()
    with ledger._core.connect() as connection:
        root3 = tree.root(connection, "summer", 3, 13)
    verify_consistency(3, 13, root3, checkpoint.root, [base64.b64decode(item) for item in consistency["proof"]])
    assert json.loads(client.get("/ugc-guard/proof/consistency?from=13").text)["to"] == 13


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("inclusion", 400, "invalid-request"),
        ("inclusion?entry=abc", 400, "invalid-request"),
        ("inclusion?entry=-1", 400, "invalid-request"),
        ("inclusion?entry=0", 400, "invalid-request"),
        ("inclusion?entry=99999999999999999999999", 400, "invalid-request"),
        ("inclusion?entry=４", 400, "invalid-request"),
        ("inclusion?entry=404", 404, "not-found"),
        ("inclusion?entry=1&size=1000", 400, "invalid-request"),
        ("inclusion?entry=2&size=1", 400, "invalid-request"),
        ("consistency", 400, "invalid-request"),
        ("consistency?from=3&to=2", 400, "invalid-request"),
        ("consistency?from=1&to=99", 400, "invalid-request"),
    ],
)
def test_bad_parameters_are_problems(ledger: Ledger, client: TestClient, query: str, status: int, code: str) -> None:
    accept(ledger, "a")
    answer = client.get(f"/ugc-guard/proof/{query}")
    assert answer.status_code == status and answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == code


def test_an_entry_of_another_campaign_is_not_found(ledger: Ledger, client: TestClient) -> None:
    other = ledger.record_acceptance("winter", "w", TERMS, None, collection_method="click-wrap", policy_digest="p").entry_id
    answer = client.get(f"/ugc-guard/proof/inclusion?entry={other}")
    assert answer.status_code == 404 and answer.json()["code"] == "not-found"


def test_an_unreachable_database_is_a_503(tmp_path: object) -> None:
    ledger = Ledger("postgresql+psycopg://postgres@127.0.0.1:1/none", secret="x" * 32, connect_timeout=0.5)
    client = TestClient(Starlette(routes=routes(AsyncProofLog(proof_log(ledger)))))
    for path in ("/ugc-guard/checkpoint", "/ugc-guard/proof/consistency?from=0"):
        answer = client.get(path)
        assert answer.status_code == 503 and answer.json()["code"] == "ledger-unavailable"
    assert client.get("/ugc-guard/keys").status_code == 200  # keys come from the secret, not the database
