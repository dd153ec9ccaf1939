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


def test_query_submissions_by_status_lists_rows_whose_status_column_says_it(ledger_url: str) -> None:
    sqlite_url = ledger_url  # SQLite and PostgreSQL
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
    code, out, _ = run("ledger", "query", "submissions", "--ledger", sqlite_url, "--status", "not stored", "--format", "table",
                       env={"COLUMNS": "120"})
    header, _, line = out.splitlines()
    start = header.index("  status ") + 2
    assert code == 0 and line.split()[0] == str(refused) and line[start:start + 11] == "not stored "
    code, _, err = run("ledger", "query", "submissions", "--ledger", sqlite_url, "--status", "lost")
    assert code == 2 and "'lost' is not one of" in err
    code, out, _ = run("ledger", "query", "subject", "alice", "--ledger", sqlite_url, "--format", "jsonl")
    history = {row["id"]: row for row in map(json.loads, out.splitlines()) if row["kind"] == "submission"}
    assert code == 0 and {sid: (row["status"], row["recorded_status"]) for sid, row in history.items()} == {
        stored: ("stored", "received"), refused: ("not stored", "received"),
        lost: ("not stored (unconfirmed)", "received"), pending: ("received", "received")}
    ledger = Ledger(sqlite_url, secret=SECRET)
    try:
        found = ledger.by_content(sha("refused"))
    finally:
        ledger.close()
    assert [item["status"] for item in found] == ["not stored"]


READ_COMMANDS = [
    ["ledger", "query", "submissions"], ["ledger", "query", "acceptances"], ["ledger", "query", "subject", "alice"],
    ["ledger", "query", "grants", "1"], ["ledger", "query", "takedowns"], ["ledger", "stats"], ["ledger", "verify"],
    ["ledger", "export", "--campaign", "summer", "--out", "-"], ["ledger", "mark-used", "1"], ["db", "current"],
    ["requests", "due"], ["subject", "export", "alice", "--campaign", "summer"], ["subject", "find", "--email", "a@b.example"],
]


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda command: " ".join(command[:3]))
def test_a_missing_ledger_file_is_named_and_never_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           command: list[str]) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, err = run(*command, "--ledger", "sqlite:///data/ledger.sqlite3")
    expected = elsewhere / "data" / "ledger.sqlite3"
    assert code == 1 and out == ""
    assert err == (f"Error: the ledger file {expected} does not exist (relative to {elsewhere}); check "
                   "sqlite:///data/ledger.sqlite3, or create a new ledger with: ugc-guard db upgrade\n")
    assert list(tmp_path.rglob("*")) == [elsewhere]


def test_db_upgrade_still_creates_the_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run("db", "upgrade", "--ledger", "sqlite:///new.sqlite3")
    assert code == 0 and out.startswith("ledger schema at revision ") and (tmp_path / "new.sqlite3").is_file()
    code, out, _ = run("ledger", "stats", "--ledger", "sqlite:///new.sqlite3")
    assert code == 0 and json.loads(out) == []


def test_a_table_fits_the_terminal_and_json_keeps_every_value(filled: tuple[str, int]) -> None:
    url, _ = filled
    for width in (50, 80, 120):
        for command in (["submissions"], ["acceptances"], ["subject", "alice"], ["grants", "--content-sha256",
                                                                                   sha("alice-photo")]):
            code, out, _ = run("ledger", "query", *command, "--ledger", url, "--format", "table",
                               env={"COLUMNS": str(width)})
            lines = out.splitlines()
            assert code == 0 and len(lines) >= 3 and max(len(line) for line in lines) <= width, (width, command, out)
    code, out, _ = run("ledger", "query", "submissions", "--ledger", url, "--format", "table", env={"COLUMNS": "120"})
    header, _rule, first, _second = out.splitlines()
    assert header.split() == ["id", "campaign", "subject", "recorded_at", "status", "content_sha256", "original_name",
                              "detected_type", "size"]
    assert f" {sha('alice-photo')[:12]}… " in first and "alice at the beach.jpg" in first and sha("alice-photo") not in out
    code, out, _ = run("ledger", "query", "submissions", "--ledger", url, "--format", "json", env={"COLUMNS": "50"})
    assert json.loads(out)[0]["content_sha256"] == sha("alice-photo")
    code, out, err = run("ledger", "query", "grants", "--content-sha256", sha("alice-photo"), "--ledger", url, "--format",
                         "table", env={"COLUMNS": "50"})
    assert code == 0 and "column(s) left off to fit 50 characters" in err and "use --format json or csv" in err


def test_verify_shows_progress_only_on_a_terminal(filled: tuple[str, int]) -> None:
    import os
    import pty
    import subprocess
    import sys

    url, _ = filled
    command = [sys.executable, "-c", "from ugc_guard.cli import main; main()", "ledger", "verify", "--ledger", url]
    env = {**os.environ, "UGC_GUARD_SECRET": SECRET, "COLUMNS": "100"}
    leader, follower = pty.openpty()
    try:
        process = subprocess.run(command, stdout=subprocess.PIPE, stderr=follower, env=env, timeout=120, check=False)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed: everything was read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert process.returncode == 0 and process.stdout.decode() == "ok: 10 entries in 1 campaign chain(s) verified\n"
    assert b"Verifying entries" in shown and b"100%" in shown
    piped = subprocess.run(command, capture_output=True, env=env, timeout=120, check=False)
    assert piped.returncode == 0 and piped.stderr == b""  # not a terminal: no progress bar in logs
