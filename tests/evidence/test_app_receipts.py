"""The signed log through the running middleware: ``/keys`` is a JWKS with an Ed25519 key,
``/checkpoint`` a signed note, and the receipts handed out by ``/accept`` (JSON) and by an upload
(``request.state.ugc.receipt``) verify with ``ugc-guard proof verify`` in an empty folder holding only
the receipt and the keys. One changed field makes the check fail."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.security.conftest import GRANTS, Site, jpeg, make_site  # noqa: F401  (make_site: the fixture)


def verify(folder: Path, receipt: dict[str, object], keys: dict[str, object]) -> subprocess.CompletedProcess[str]:
    folder.mkdir(exist_ok=True)
    (folder / "receipt.json").write_text(json.dumps(receipt), encoding="utf-8")
    (folder / "keys.json").write_text(json.dumps(keys), encoding="utf-8")
    command = [sys.executable, "-c", "from ugc_guard.cli import main; main()", "proof", "verify", "receipt.json", "--keys", "keys.json"]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})


@pytest.fixture
def site(request: pytest.FixtureRequest) -> Site:
    build: Callable[..., Site] = request.getfixturevalue("make_site")  # the hostile suite's whole guard before a spy app
    return build()


def test_keys_are_a_jwks_with_an_ed25519_key(site: Site) -> None:
    answer = site.client().get("/ugc-guard/keys")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/jwk-set+json")
    (key,) = answer.json()["keys"]
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("OKP", "Ed25519", "EdDSA", "sig") and key["kid"]
    assert "d" not in key  # the public half only


def test_checkpoint_is_a_signed_note(site: Site) -> None:
    answer = site.client().get("/ugc-guard/checkpoint")
    assert answer.status_code == 200 and answer.headers["content-type"] == "text/plain; charset=utf-8"
    origin, size, root, blank, signature, *_ = answer.text.split("\n")
    assert origin == "testserver/ugc-guard/test-campaign" and size == "0" and root and blank == ""
    assert signature.startswith("— testserver/ugc-guard/test-campaign ")


@pytest.mark.parametrize(("query", "code"), [("entry=x", "invalid-request"), ("entry=999", "not-found"), ("", "invalid-request")])
def test_bad_proof_queries_are_problems(site: Site, query: str, code: str) -> None:
    answer = site.client().get("/ugc-guard/proof/inclusion?" + query)
    assert answer.status_code in (400, 404) and answer.json()["code"] == code


def test_accept_and_upload_receipts_verify_offline_and_a_changed_field_fails(site: Site, tmp_path: Path) -> None:
    client = site.client()
    accepted = client.post("/ugc-guard/accept", json={"terms_version": "1", "accept_terms": True, "accept_licence": True,
                                                      "birth_date": "1990-05-17"})  # fmt: skip
    assert accepted.status_code == 201, accepted.text
    acceptance = accepted.json()["receipt"]
    assert acceptance["format"] == "ugc-guard-receipt/2" and [entry["kind"] for entry in acceptance["entries"]] == ["terms_acceptance", "age_result"]
    uploaded = client.post("/upload", files={"media": ("a.jpg", jpeg(), "image/jpeg")}, data=GRANTS)
    assert uploaded.status_code == 201, uploaded.text
    upload = site.spy.calls[-1]["ugc"].receipt.to_dict()
    assert [entry["kind"] for entry in upload["entries"]] == ["submission", "licence_grant", "portrait_grant"]
    keys = client.get("/ugc-guard/keys").json()

    for name, receipt in (("accept", acceptance), ("upload", upload)):
        result = verify(tmp_path / name, receipt, keys)
        assert result.returncode == 0, (name, result.stdout, result.stderr)
        changed = json.loads(json.dumps(receipt))
        changed["entries"][0]["subject"] = "someone-else"
        failed = verify(tmp_path / (name + "-changed"), changed, keys)
        assert failed.returncode == 1 and len(failed.stderr.strip().splitlines()) == 1, (failed.stdout, failed.stderr)
