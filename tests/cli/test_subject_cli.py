"""``ugc-guard subject find|export|erase`` for requests that arrive by e-mail."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.pages.me.fill import CAMPAIGN, SECRET, person, sha
from ugc_guard.cli import main
from ugc_guard.ledger import ERASED, Ledger

DELETED: list[dict[str, Any]] = []


def delete_files(event: dict[str, Any]) -> None:
    DELETED.append(event)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env={"UGC_GUARD_SECRET": SECRET})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def filled(ledger_url: str) -> tuple[str, dict[str, list[int]]]:
    ledger = Ledger(ledger_url, secret=SECRET)
    ledger.upgrade()
    ids = {"alice": person(ledger, "alice", 2, guardian_email="Mum@Example.org"), "bob": person(ledger, "bob", 1)}
    ledger.close()
    return ledger_url, ids


def test_find_by_guardian_email_content_hash_and_receipt(filled: tuple[str, dict[str, list[int]]], tmp_path: Path) -> None:
    url, ids = filled
    code, out, _ = run("subject", "find", "--email", "mum@example.ORG", "--ledger", url)
    assert code == 0 and [(row["subject"], row["matched_by"]) for row in json.loads(out)] == [("alice", "guardian_email")]
    code, out, _ = run("subject", "find", "--content-sha256", sha("bob-0"), "--ledger", url)
    assert code == 0 and json.loads(out)[0]["subject"] == "bob"
    receipt = Ledger(url, secret=SECRET).grants(ids["bob"][0])
    receipt_file = tmp_path / "receipt.json"
    receipt_file.write_text(json.dumps({"format": "ugc-guard-ledger-receipt/1", "entry_id": receipt[0].id,
                                        "campaign": CAMPAIGN, "position": receipt[0].position, "kind": "submission",
                                        "subject": "bob", "recorded_at": receipt[0].recorded_at.isoformat(),
                                        "hash": receipt[0].hash, "summary": {}, "related": []}))
    code, out, err = run("subject", "find", "--receipt", str(receipt_file), "--ledger", url, "--format", "jsonl")
    assert code == 0, err
    assert json.loads(out.splitlines()[0])["subject"] == "bob"
    code, _, err = run("subject", "find", "--email", "nobody@example.org", "--ledger", url)
    assert code == 1 and err.strip() == "Error: no subject matches"


def test_export_writes_the_documented_document_for_one_subject(filled: tuple[str, dict[str, list[int]]], tmp_path: Path) -> None:
    import jsonschema

    from ugc_guard.pages.export import export_schema

    url, ids = filled
    out = tmp_path / "alice.json"
    code, _, err = run("subject", "export", "alice", "--ledger", url, "--out", str(out))
    assert code == 0 and "alice" in err
    document = json.loads(out.read_text())
    jsonschema.validate(document, export_schema())
    assert [item["submission_id"] for item in document["submissions"]] == ids["alice"]
    assert "bob" not in out.read_text() and sha("bob-0") not in out.read_text()
    guardian = next(entry for entry in document["entries"] if entry["kind"] == "guardian_requested")
    assert guardian["data"]["guardian_email"] == "Mum@Example.org"  # the address the subject gave


def test_erase_destroys_the_key_fires_the_deletion_hook_and_verify_passes(
    filled: tuple[str, dict[str, list[int]]], policy_file: Callable[..., Path]
) -> None:
    url, ids = filled
    DELETED.clear()
    policy = policy_file({"hooks": {"content_deletion": "tests.cli.test_subject_cli:delete_files"}, "ledger": {"url": url}})
    code, out, err = run("subject", "erase", "alice", "--policy", str(policy), "--yes")
    assert code == 0, err
    assert "erased alice" in out
    (event,) = DELETED
    assert event["reason"] == "erasure" and [item["submission_id"] for item in event["files"]] == ids["alice"]
    code, out, _ = run("ledger", "verify", "--ledger", url)
    assert code == 0 and out.startswith("ok:")
    code, out, _ = run("ledger", "query", "subject", "alice", "--ledger", url, "--format", "jsonl")
    entries = [json.loads(line) for line in out.splitlines()]
    fields = [entry["data"][name] for entry in entries for name in ("client_address", "user_agent", "original_name", "guardian_email")
              if name in entry["data"]]
    assert fields and set(fields) == {ERASED}
    assert "Mum@Example.org" not in out and "alice 0.jpg" not in out
    statuses = Ledger(url).subject_submissions(CAMPAIGN, "alice")
    assert {item["status"] for item in statuses.values()} == {"erased"}
    code, out, _ = run("subject", "erase", "alice", "--policy", str(policy), "--yes")  # again: nothing left to do
    assert code == 0 and "already erased" in out and len(DELETED) == 1


def test_erase_of_an_unknown_subject_is_a_one_line_error(filled: tuple[str, dict[str, list[int]]]) -> None:
    url, _ = filled
    code, out, err = run("subject", "erase", "nobody", "--ledger", url, "--yes")
    assert code == 1 and out == ""
    assert err == "Error: no subject 'nobody' in this ledger\n"


def test_erase_with_a_failing_hook_erases_nothing(filled: tuple[str, dict[str, list[int]]], policy_file: Callable[..., Path]) -> None:
    url, _ = filled
    policy = policy_file({"hooks": {"content_deletion": "tests.cli.test_subject_cli:absent_function"}, "ledger": {"url": url}})
    code, _, err = run("subject", "erase", "alice", "--policy", str(policy), "--yes")
    assert code == 1 and "nothing was erased" in err and len(err.strip().splitlines()) == 1
    assert not Ledger(url).subject_status(CAMPAIGN, "alice").erased
