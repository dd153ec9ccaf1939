"""``ugc-guard retention run``, ``ledger mark-used`` and ``ledger query takedowns`` as an operator runs them,
including two retention runs at once in two processes."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.conftest import REPO
from tests.pages.me.fill import SECRET, person
from ugc_guard.cli import main
from ugc_guard.ledger import Ledger
from ugc_guard.policy import load_policy

LATER = (dt.datetime.now(dt.UTC) + dt.timedelta(days=100)).isoformat()
HOOK = "tests.cli.test_retention_cli:blocking_hook"


def blocking_hook(event: dict[str, Any]) -> None:
    """Log the files; on the first call, say so and wait until the test releases it (two-process test)."""
    log = Path(os.environ["UGC_TEST_LOG"])
    with log.open("a") as handle:
        handle.write(json.dumps([item["submission_id"] for item in event["files"]]) + "\n")
    inside, release = os.environ.get("UGC_TEST_INSIDE"), os.environ.get("UGC_TEST_RELEASE")
    if inside and release and not Path(inside).exists():
        Path(inside).touch()
        for _ in range(600):  # bounded, so a broken test cannot hang the suite
            if Path(release).exists():
                return
            time.sleep(0.1)


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env={"UGC_GUARD_SECRET": SECRET, **(env or {})})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def filled(ledger_url: str, policy_file: Callable[..., Path], tmp_path: Path) -> tuple[Path, list[int], Path]:
    ledger = Ledger(ledger_url, secret=SECRET)
    ledger.upgrade()
    ids = person(ledger, "alice", 3) + person(ledger, "bob", 3)
    ledger.close()
    policy = policy_file({"retention": {"unused_submissions": {"period": "P3M"}}, "hooks": {"content_deletion": HOOK},
                          "ledger": {"url": ledger_url}})
    return policy, ids, tmp_path / "hook.log"


def deleted(log: Path) -> list[int]:
    return [sid for line in log.read_text().splitlines() for sid in json.loads(line)] if log.exists() else []


def test_dry_run_then_run_then_nothing_left(filled: tuple[Path, list[int], Path]) -> None:
    policy, ids, log = filled
    env = {"UGC_TEST_LOG": str(log)}
    code, out, err = run("retention", "run", "--policy", str(policy), "--now", LATER, "--dry-run", "--format", "jsonl", env=env)
    assert code == 0 and [json.loads(line)["target"] for line in out.splitlines()] == ids
    assert "nothing changed" in err and not log.exists()
    code, out, err = run("retention", "run", "--policy", str(policy), "--now", LATER, "--batch", "4", env=env)
    assert code == 0, err
    assert "6 submissions checked, 6 expired" in out and "rate-limit counters" in err
    assert "Checking submissions" not in err  # no progress bar when stderr is not a terminal
    assert deleted(log) == ids
    code, out, _ = run("retention", "run", "--policy", str(policy), "--now", LATER, env=env)
    assert code == 0 and "0 submissions checked, 0 expired" in out and deleted(log) == ids


def test_marked_used_is_exempt_and_withdrawn_ones_are_listed_for_takedown(filled: tuple[Path, list[int], Path]) -> None:
    policy, ids, log = filled
    code, out, err = run("ledger", "mark-used", str(ids[0]), "--production", "spot 12", "--policy", str(policy))
    assert code == 0 and "marked used" in out, err
    ledger = Ledger.from_policy(load_policy(policy))
    ledger.withdraw_consent("test-campaign", "bob", "portrait", [ids[3]])
    code, out, _ = run("ledger", "query", "takedowns", "--policy", str(policy), "--format", "jsonl")
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert row["submission_id"] == ids[3] and row["scope"] == "portrait" and row["subject"] == "bob"
    code, out, _ = run("retention", "run", "--policy", str(policy), "--now", LATER, env={"UGC_TEST_LOG": str(log)})
    assert code == 0 and "5 expired" in out and ids[0] not in deleted(log)
    code, out, _ = run("ledger", "query", "takedowns", "--policy", str(policy), "--format", "jsonl")
    assert out == ""  # expired: the file is gone, so it left the takedown list


def test_without_a_deletion_hook_the_run_refuses_unless_told(filled: tuple[Path, list[int], Path], policy_file: Callable[..., Path],
                                                            ledger_url: str) -> None:
    bare = policy_file({"retention": {"unused_submissions": {"period": "P3M"}}, "ledger": {"url": ledger_url}}, "bare.yaml")
    code, _, err = run("retention", "run", "--policy", str(bare), "--now", LATER)
    assert code == 1 and "hooks.content_deletion is not set" in err and len(err.strip().splitlines()) == 1
    code, out, _ = run("retention", "run", "--policy", str(bare), "--now", LATER, "--no-hook")
    assert code == 0 and "6 expired" in out
    code, _, err = run("retention", "run", "--ledger", ledger_url)
    assert code == 1 and "needs --policy FILE" in err


def test_two_runs_at_once_one_refuses_one_waits_and_nothing_is_done_twice(filled: tuple[Path, list[int], Path], tmp_path: Path) -> None:
    policy, ids, log = filled
    inside, release = tmp_path / "inside", tmp_path / "release"
    env = {**os.environ, "UGC_GUARD_SECRET": SECRET, "UGC_TEST_LOG": str(log), "UGC_TEST_INSIDE": str(inside),
           "UGC_TEST_RELEASE": str(release)}
    command = [sys.executable, "-c", "from ugc_guard.cli import main; main()", "retention", "run", "--policy", str(policy),
               "--now", LATER, "--batch", "2"]
    first = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while not inside.exists():
            assert first.poll() is None, first.communicate()
            time.sleep(0.05)
        refused = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        assert refused.returncode == 1
        assert "another retention run is running" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
        waiting = subprocess.Popen([*command, "--wait", "300"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
        assert waiting.poll() is None  # it waits for the lock
        release.touch()
        out, err = first.communicate()
        assert first.returncode == 0, err
        assert "6 expired" in out
        out, err = waiting.communicate()
        assert waiting.returncode == 0, err
        assert "0 expired" in out
    finally:
        first.kill()
    assert sorted(deleted(log)) == sorted(ids)  # each file handed to the hook exactly once
    ledger = Ledger.from_policy(load_policy(policy))
    actions = ledger.entries(kinds=["retention_action"], limit=100).items
    assert sorted(entry.ref for entry in actions if entry.ref is not None) == sorted(ids)
    assert ledger.verify().ok


def test_the_run_marks_what_a_killed_worker_left_not_stored_unconfirmed(filled: tuple[Path, list[int], Path],
                                                                         ledger_url: str) -> None:
    import signal

    policy, ids, log = filled
    ledger = Ledger(ledger_url, secret=SECRET)
    acceptance = ledger.acceptances(subject="alice").items[0].id
    worker = subprocess.Popen([sys.executable, "-m", "tests.ledger._workers", "record", ledger_url, str(acceptance),
                               "test-campaign", "alice", SECRET], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                              stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout is not None
        phantom = int(worker.stdout.readline())
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    env = {"UGC_TEST_LOG": str(log)}
    code, out, err = run("retention", "run", "--policy", str(policy), "--dry-run", "--format", "jsonl", env=env)
    assert code == 0 and out == "" and "1 unconfirmed uploads to mark 'not stored (unconfirmed)'; nothing changed" in err
    code, out, err = run("retention", "run", "--policy", str(policy), env=env)  # nothing is due yet: only the sweep acts
    assert code == 0, err
    assert "test-campaign: 1 unconfirmed uploads marked 'not stored (unconfirmed)', 7 submissions checked, 0 expired" in out
    code, out, _ = run("ledger", "query", "submissions", "--policy", str(policy), "--status", "not stored (unconfirmed)",
                       "--format", "jsonl")
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert (row["id"], row["status"], row["subject"]) == (phantom, "not stored (unconfirmed)", "alice")
    code, out, _ = run("retention", "run", "--policy", str(policy), env=env)
    assert code == 0 and "test-campaign: 0 unconfirmed uploads marked" in out  # once
    # the live ones (recorded by this test process, still "received") were left alone
    assert [v.id for v in ledger.submissions(status="received").items] == ids and not deleted(log)
    ledger.close()
