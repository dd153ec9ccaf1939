"""The ledger CLI as a legal officer uses it: query, export, verify, receipts, with one-line errors."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine

from tests.ledger.conftest import SECRET, accept, sha, submit
from ugc_guard.cli import main
from ugc_guard.ledger import Ledger


@pytest.fixture
def filled(sqlite_url: str) -> tuple[str, int]:
    ledger = Ledger(sqlite_url, secret=SECRET)
    ledger.upgrade()
    first = accept(ledger, "alice")
    submission = submit(ledger, "alice", first.entry_id, "alice-photo", name="alice at the beach.jpg").submission_id
    second = accept(ledger, "bob")
    submit(ledger, "bob", second.entry_id, "bob-photo")
    ledger.close()
    return sqlite_url, submission


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env={"UGC_GUARD_SECRET": SECRET, **(env or {})})
    return result.exit_code, result.stdout, result.stderr


def test_query_acceptances_and_submissions_in_every_format(filled: tuple[str, int]) -> None:
    url, _ = filled
    code, out, _ = run("ledger", "query", "acceptances", "--ledger", url, "--subject", "alice")
    assert code == 0
    rows = json.loads(out)
    assert [(r["subject"], r["version"], r["language"]) for r in rows] == [("alice", "2", "nl")]
    code, out, _ = run("ledger", "query", "submissions", "--ledger", url, "--format", "csv")
    parsed = list(csv.DictReader(io.StringIO(out)))
    assert [r["original_name"] for r in parsed] == ["alice at the beach.jpg", "holiday.jpg"]
    code, out, _ = run("ledger", "query", "submissions", "--ledger", url, "--format", "jsonl", "--status", "received",
                       "--since", "2000-01-01", "--until", "2100-01-01T00:00:00Z", "--limit", "1")
    assert code == 0 and len(out.splitlines()) == 1 and json.loads(out)["status"] == "received"
    code, out, _ = run("ledger", "query", "acceptances", "--ledger", url, "--format", "table", "--terms-version", "9")
    assert code == 0 and out == ""


def test_who_granted_what_for_a_file(filled: tuple[str, int]) -> None:
    url, submission = filled
    code, out, _ = run("ledger", "query", "grants", "--ledger", url, "--content-sha256", sha("alice-photo"))
    kinds = [row["kind"] for row in json.loads(out)]
    assert code == 0 and kinds == ["terms_acceptance", "submission", "licence_grant", "portrait_grant"]
    code, out, _ = run("ledger", "query", "grants", str(submission), "--ledger", url, "--format", "jsonl")
    assert [json.loads(line)["kind"] for line in out.splitlines()] == ["submission", "licence_grant", "portrait_grant"]
    code, _, err = run("ledger", "query", "grants", "--ledger", url)
    assert code == 1 and err.strip() == "Error: name a submission id or --content-sha256 HEX (one of the two)"


def test_subject_history_and_export(filled: tuple[str, int], tmp_path: Path) -> None:
    url, _ = filled
    code, out, _ = run("ledger", "query", "subject", "alice", "--ledger", url)
    assert [row["kind"] for row in json.loads(out)] == ["age_result", "terms_acceptance", "submission", "licence_grant",
                                                         "portrait_grant"]
    target = tmp_path / "summer.jsonl"
    code, _, err = run("ledger", "export", "--campaign", "summer", "--out", str(target), "--ledger", url)
    assert code == 0 and err.strip() == f"{target}: 10 entries of campaign summer"
    positions = [json.loads(line)["position"] for line in target.read_text().splitlines()]
    assert positions == list(range(1, 11))


def test_verify_names_a_changed_row(filled: tuple[str, int]) -> None:
    url, submission = filled
    code, out, _ = run("ledger", "verify", "--ledger", url)
    assert code == 0 and out.strip() == "ok: 10 entries in 1 campaign chain(s) verified"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"UPDATE ledger_entries SET content_sha256 = '{'0' * 64}' WHERE id = {submission}")
    engine.dispose()
    code, _, err = run("ledger", "verify", "--ledger", url)
    assert code == 1
    assert err.strip() == (f"FAILED campaign summer: entry {submission} at position {submission}: "
                           "its hash does not match its content (the row was changed)")


def test_verify_receipt_file(sqlite_url: str, tmp_path: Path) -> None:
    ledger = Ledger(sqlite_url, secret=SECRET)
    ledger.upgrade()
    receipt = submit(ledger, "carol", accept(ledger, "carol").entry_id, "carol-photo").receipt
    ledger.close()
    good = tmp_path / "receipt.json"
    good.write_text(receipt.to_json())
    code, out, _ = run("ledger", "verify-receipt", str(good), "--ledger", sqlite_url)
    assert code == 0 and "matches the ledger" in out
    edited = tmp_path / "edited.json"
    edited.write_text(receipt.to_json().replace('"irrevocable": true', '"irrevocable": false'))
    code, _, err = run("ledger", "verify-receipt", str(edited), "--ledger", sqlite_url)
    assert code == 1 and err.strip().endswith("summary differs from the ledger")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    code, _, err = run("ledger", "verify-receipt", str(broken), "--ledger", sqlite_url)
    assert code == 1 and err.startswith(f"Error: {broken}: receipt is not valid JSON") and err.count("\n") == 1


def test_stats_and_policy_option(filled: tuple[str, int], policy_file: Callable[..., Path]) -> None:
    url, _ = filled
    policy = policy_file({"ledger": {"url": url}})
    code, out, _ = run("ledger", "stats", "--policy", str(policy))
    stats = json.loads(out)[0]
    assert code == 0 and stats["campaign"] == "summer" and stats["entries"] == 10 and stats["kinds"]["submission"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ledger", "query", "acceptances", "--since", "yesterday"],
         "Error: --since: 'yesterday' is not an ISO 8601 date or time; write e.g. 2026-03-01 or 2026-03-01T12:00:00Z"),
        (["ledger", "stats", "--ledger", "mysql://db/x"], "Error: mysql://db/x: unsupported ledger database 'mysql'; "
                                                          "use sqlite:/// or postgresql+psycopg://"),
        (["ledger", "verify", "--ledger", "postgresql+psycopg://postgres:pw@127.0.0.1:1/x"],
         "Error: the ledger database postgresql+psycopg://postgres:***@127.0.0.1:1/x is unavailable: "),
        (["ledger", "stats", "--policy", "/nonexistent/policy.yaml"], "Error: /nonexistent/policy.yaml: file not found"),
    ],
)
def test_errors_are_one_line(filled: tuple[str, int], args: list[str], message: str) -> None:
    url, _ = filled
    code, _, err = run(*args, env={"UGC_GUARD_LEDGER": url})
    assert code == 1 and err.startswith(message) and err.count("\n") == 1 and "Traceback" not in err


def test_no_ledger_named() -> None:
    code, _, err = run("ledger", "stats", env={"UGC_GUARD_LEDGER": ""})
    assert code == 1 and "pass --ledger URL" in err


def test_query_submissions_by_status_lists_rows_whose_status_column_says_it(sqlite_url: str) -> None:
    ledger = Ledger(sqlite_url, secret=SECRET)
    ledger.upgrade()
    acceptance = accept(ledger, "alice").entry_id
    stored, refused, lost, pending = (submit(ledger, "alice", acceptance, name).submission_id
                                      for name in ("stored", "refused", "lost", "pending"))
    ledger.settle_submissions("summer", {stored: ("alice", "the app answered 201")}, "stored")
    ledger.settle_submissions("summer", {refused: ("alice", "the app answered 500")}, "not stored")
    ledger.settle_submissions("summer", {lost: ("alice", "the worker stopped")}, "not stored (unconfirmed)")
    ledger.close()
    expected = {"stored": [stored], "not stored": [refused], "not stored (unconfirmed)": [lost], "received": [pending]}
    for status, ids in expected.items():
        code, out, _ = run("ledger", "query", "submissions", "--ledger", sqlite_url, "--status", status, "--format", "jsonl")
        rows = [json.loads(line) for line in out.splitlines()]
        assert code == 0 and [(row["id"], row["status"], row["recorded_status"]) for row in rows] == [
            (sid, status, "received") for sid in ids]
    code, out, _ = run("ledger", "query", "submissions", "--ledger", sqlite_url, "--format", "csv")
    assert [(row["id"], row["status"]) for row in csv.DictReader(io.StringIO(out))] == [
        (str(stored), "stored"), (str(refused), "not stored"), (str(lost), "not stored (unconfirmed)"), (str(pending), "received")]
    code, out, _ = run("ledger", "query", "submissions", "--ledger", sqlite_url, "--status", "not stored", "--format", "table")
    header, _, line = out.splitlines()
    start = header.index("  status ") + 2
    assert code == 0 and line.split()[0] == str(refused) and line[start:start + 11] == "not stored "
    code, _, err = run("ledger", "query", "submissions", "--ledger", sqlite_url, "--status", "lost")
    assert code == 2 and "'lost' is not one of" in err
