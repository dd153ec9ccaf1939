"""``ugc-guard requests add|due|extend|close``: the log of privacy requests and their deadlines."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ugc_guard.cli import main
from ugc_guard.ledger import Ledger


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_add_due_extend_close(sqlite_url: str) -> None:
    Ledger(sqlite_url).upgrade()
    code, out, err = run("requests", "add", "--received", "2026-01-31", "--regime", "gdpr", "--kind", "erasure",
                         "--reference", "ticket-17", "--ledger", sqlite_url)
    assert code == 0, err
    (row,) = json.loads(out)
    assert row["answer_by"] == "2026-02-28" and row["extension_possible_until"] == "2026-04-30"
    code, out, _ = run("requests", "add", "--received", "2026-03-02", "--regime", "ccpa", "--ledger", sqlite_url)
    ccpa = json.loads(out)[0]
    assert ccpa["confirm_by"] == "2026-03-16" and ccpa["answer_by"] == "2026-04-16"

    code, out, _ = run("requests", "due", "--on", "2026-03-10", "--ledger", sqlite_url)
    rows = json.loads(out)
    assert [(r["id"], r["overdue"], r["days_left"]) for r in rows] == [(row["id"], True, -10), (ccpa["id"], False, 37)]
    code, out, _ = run("requests", "extend", str(row["id"]), "--ledger", sqlite_url)
    assert code == 0 and "answer by 2026-04-30" in out
    run("requests", "close", str(ccpa["id"]), "--outcome", "export sent", "--on", "2026-03-20", "--ledger", sqlite_url)
    code, out, _ = run("requests", "due", "--on", "2026-03-10", "--ledger", sqlite_url, "--format", "jsonl")
    (left,) = [json.loads(line) for line in out.splitlines()]
    assert left["id"] == row["id"] and left["extended"] and not left["overdue"]
    code, out, _ = run("requests", "due", "--all", "--ledger", sqlite_url, "--format", "csv")
    assert "export sent" in out and len(out.strip().splitlines()) == 3


def test_bad_input_is_one_line(sqlite_url: str) -> None:
    Ledger(sqlite_url).upgrade()
    code, _, err = run("requests", "add", "--received", "31-01-2026", "--regime", "gdpr", "--ledger", sqlite_url)
    assert code == 1 and err.startswith("Error: --received: '31-01-2026' is not a date")
    code, _, err = run("requests", "add", "--received", "2026-01-31", "--regime", "lgpd", "--ledger", sqlite_url)
    assert code == 2 and "'lgpd' is not one of 'gdpr', 'ccpa'" in err
    code, _, err = run("requests", "close", "99", "--outcome", "x", "--ledger", sqlite_url)
    assert code == 1 and err == "Error: no request with id 99\n"
