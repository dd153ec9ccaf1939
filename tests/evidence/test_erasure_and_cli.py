"""Erasure keeps every receipt verifiable; the operator commands print what the endpoints serve."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from ugc_guard.ledger import ERASED, Ledger
from ugc_guard.ledger.prooflog import ProofLog
from ugc_guard.policy import load_policy
from ugc_guard.proof.keys import parse_jwks
from ugc_guard.proof.receipt import verify_checkpoint, verify_receipt

from .conftest import CAMPAIGN, ORIGIN, SECRET, TERMS, accept, proof_log, run_cli, upload


def test_receipts_before_and_after_erasure_verify(ledger: Ledger) -> None:
    log = proof_log(ledger)
    submission = upload(ledger, "leaving", b"a portrait")
    before = log.issue_receipt(submission)
    sealed = json.loads(before.to_dict()["entries"][0]["body"])["sealed"]
    erasure = ledger.erase_subject(CAMPAIGN, "leaving", reason="GDPR Art. 17(1)(f)")
    assert ledger.grants(submission)[0].data["original_name"] == ERASED
    keys = parse_jwks(log.jwks())
    newer = log.checkpoint()
    assert (before.tree_size, newer.size) == (5, 6)
    verify_receipt(before.to_dict(), keys, newer=newer.note, consistency=log.consistency(5, 6))
    after = log.issue_receipt(submission).to_dict()
    assert json.loads(after["entries"][0]["body"])["sealed"] == sealed  # the ciphertext stays; its key is gone
    assert [entry["hash"] for entry in after["entries"]] == [entry["hash"] for entry in before.to_dict()["entries"]]
    verify_receipt(after, keys)
    assert verify_receipt(log.issue_receipt(erasure).to_dict(), keys).kind == "erasure"


def test_operator_commands(sqlite_ledger: Ledger, tmp_path: Path) -> None:
    acceptance = accept(sqlite_ledger, "a")
    accept(sqlite_ledger, "b")
    common = ["--ledger", sqlite_ledger.url, "--campaign", CAMPAIGN, "--host", "shop.example"]

    def output(*args: str) -> str:
        done = run_cli(*args, *common, cwd=tmp_path, secret=SECRET)
        assert done.returncode == 0, done.stderr
        return done.stdout

    keys = output("proof", "keys")
    assert json.loads(keys)["keys"][0]["kid"] == proof_log(sqlite_ledger).keys.current.kid
    assert verify_checkpoint(output("proof", "checkpoint"), ORIGIN, parse_jwks(keys)).size == 4
    assert verify_receipt(output("proof", "receipt", str(acceptance)), parse_jwks(keys)).entry_id == acceptance
    proof = json.loads(output("proof", "consistency", "2"))
    assert (proof["from"], proof["to"], len(proof["proof"])) == (2, 4, 1)
    for index in range(14):
        accept(sqlite_ledger, f"more{index}")
    checked = run_cli("proof", "tree", "--ledger", sqlite_ledger.url, cwd=tmp_path)
    root = base64.b64encode(proof_log(sqlite_ledger).checkpoint().root).decode()
    assert checked.returncode == 0 and checked.stdout == f"campaign {CAMPAIGN}: 32 entries, root {root}, stored tree matches\n"
    with sqlite_ledger._core.engine.begin() as connection:
        connection.execute(text("UPDATE ledger_tree_nodes SET hash = :forged WHERE level = 4"), {"forged": bytes(32)})
    damaged = run_cli("proof", "tree", "--ledger", sqlite_ledger.url, cwd=tmp_path)
    assert damaged.returncode == 1 and "STORED TREE DIFFERS (run with --rebuild)" in damaged.stdout
    rebuilt = run_cli("proof", "tree", "--rebuild", "--ledger", sqlite_ledger.url, cwd=tmp_path)
    assert rebuilt.returncode == 0 and rebuilt.stdout.endswith(f"root {root}, rebuilt\n")
    assert run_cli("proof", "tree", "--ledger", sqlite_ledger.url, cwd=tmp_path).returncode == 0
    missing = run_cli("proof", "keys", "--ledger", sqlite_ledger.url, cwd=tmp_path)
    assert missing.returncode == 1 and "without --policy pass --campaign, --host and set UGC_GUARD_SECRET" in missing.stderr


def test_a_policy_names_the_log_and_its_key(policy_file: Callable[..., Path], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'policy-ledger.sqlite3'}"
    path = policy_file({"ledger": {"url": url}, "campaign": {"origin": "https://upload.example.com:8443"}})
    policy = load_policy(path)
    ledger = Ledger.from_policy(policy)
    ledger.upgrade()
    log = ProofLog.from_policy(ledger, policy)
    assert log.origin == "upload.example.com:8443/ugc-guard/test-campaign" and log.campaign == "test-campaign"
    assert log.keys.current.kid == ProofLog(ledger, "test-campaign", log.origin, [os.environ["UGC_GUARD_SECRET"]]).keys.current.kid
    accept_id = ledger.record_acceptance("test-campaign", "s", TERMS, None, collection_method="click-wrap", policy_digest="p").entry_id
    done = run_cli("proof", "receipt", str(accept_id), "--policy", str(path), cwd=tmp_path, secret=os.environ["UGC_GUARD_SECRET"])
    assert done.returncode == 0, done.stderr
    assert verify_receipt(done.stdout, parse_jwks(log.jwks())).checkpoint.origin == log.origin
    ledger.close()
