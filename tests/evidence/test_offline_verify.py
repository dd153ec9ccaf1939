"""``ugc-guard proof verify`` in an empty folder holding only the receipt and the key set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ugc_guard.ledger import Ledger
from ugc_guard.ledger.prooflog import ProofLog

from .conftest import CAMPAIGN, ORIGIN, accept, proof_log, run_cli, upload


def folder_with(tmp_path: Path, receipt: dict[str, Any], keys: dict[str, Any]) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "receipt.json").write_text(json.dumps(receipt, ensure_ascii=False, indent=1), encoding="utf-8")
    (folder / "keys.json").write_text(json.dumps(keys), encoding="utf-8")
    return folder


def test_a_receipt_and_the_keys_are_enough(sqlite_ledger: Ledger, tmp_path: Path) -> None:
    log = proof_log(sqlite_ledger)
    accept(sqlite_ledger, "early")
    submission = upload(sqlite_ledger, "uploader", b"jpeg bytes")
    folder = folder_with(tmp_path, log.issue_receipt(submission).to_dict(), log.jwks())
    sqlite_ledger.close()
    (tmp_path / "ledger.sqlite3").unlink()  # nothing but the two files is left
    result = run_cli("proof", "verify", "receipt.json", "--keys", "keys.json", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1 and result.stderr == ""
    assert result.stdout.startswith(f"valid: entry {submission} (submission) and 2 recorded with it in log {ORIGIN} at tree size 7")
    assert sorted(path.name for path in folder.iterdir()) == ["keys.json", "receipt.json"]


def test_one_changed_field_fails_with_one_line(sqlite_ledger: Ledger, tmp_path: Path) -> None:
    log = proof_log(sqlite_ledger)
    receipt = log.issue_receipt(accept(sqlite_ledger, "someone")).to_dict()
    receipt["entries"][0]["summary"]["language"] = "nl"
    folder = folder_with(tmp_path, receipt, log.jwks())
    result = run_cli("proof", "verify", "receipt.json", "--keys", "keys.json", cwd=folder)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("invalid: entries[0]")
    assert "summary field language" in result.stderr


def test_other_keys_or_an_unreadable_file_fail_with_one_line(sqlite_ledger: Ledger, tmp_path: Path) -> None:
    log = proof_log(sqlite_ledger)
    other = ProofLog(sqlite_ledger, CAMPAIGN, ORIGIN, ["another-secret-entirely-" + "o" * 8])
    folder = folder_with(tmp_path, log.issue_receipt(accept(sqlite_ledger, "x")).to_dict(), other.jwks())
    for args in (
        ["receipt.json", "--keys", "keys.json"],
        ["missing.json", "--keys", "keys.json"],
        ["keys.json", "--keys", "keys.json"],
        ["receipt.json", "--keys", "receipt.json"],
    ):
        result = run_cli("proof", "verify", *args, cwd=folder)
        assert result.returncode == 1 and result.stderr.count("\n") == 1, (args, result.stderr)


def test_a_newer_checkpoint_needs_the_consistency_proof(sqlite_ledger: Ledger, tmp_path: Path) -> None:
    log = proof_log(sqlite_ledger)
    folder = folder_with(tmp_path, log.issue_receipt(accept(sqlite_ledger, "first")).to_dict(), log.jwks())
    for index in range(3):
        accept(sqlite_ledger, f"later{index}")
    newer = log.checkpoint()
    (folder / "newer.txt").write_text(newer.note, encoding="utf-8")
    result = run_cli("proof", "verify", "receipt.json", "--keys", "keys.json", "--checkpoint", "newer.txt", cwd=folder)
    assert result.returncode == 1 and "needs a consistency proof from 2 to 8" in result.stderr
    (folder / "proof.json").write_text(json.dumps(log.consistency(2, 8)), encoding="utf-8")
    result = run_cli("proof", "verify", "receipt.json", "--keys", "keys.json", "--checkpoint", "newer.txt", "--consistency", "proof.json", cwd=folder)
    assert result.returncode == 0 and result.stdout.rstrip().endswith("consistent with the later checkpoint")
    (folder / "proof.json").write_text(json.dumps(log.consistency(1, 8)), encoding="utf-8")
    result = run_cli("proof", "verify", "receipt.json", "--keys", "keys.json", "--checkpoint", "newer.txt", "--consistency", "proof.json", cwd=folder)
    assert result.returncode == 1 and "not from 2 to 8" in result.stderr
