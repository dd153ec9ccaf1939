"""Submissions are ``received`` until settled; what nobody settled is swept to ``not stored (unconfirmed)``.

Status changes are appended entries (the submission entry and its hash never change); a settlement
is checked under the chain lock; a sweep claims only what a dead worker left or what is older than
any request may take.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from ugc_guard.ledger import Ledger, LedgerError
from ugc_guard.ledger.unconfirmed import APP_TIME, UNCONFIRMED, Pending, claim_reason, unconfirmed_after
from ugc_guard.ledger.workers import this_worker, worker_state

from .conftest import CAMPAIGN, accept, submit

REPO = Path(__file__).resolve().parents[2]
GRACE = dt.timedelta(minutes=17)


def statuses(ledger: Ledger, submission_id: int) -> list[tuple[str, str | None]]:
    """The submission's status entries in chain order: (status, reason)."""
    return [(e.data["status"], e.data.get("reason")) for e in ledger.grants(submission_id) if e.kind == "submission_status"]


def current(ledger: Ledger, submission_id: int, subject: str = "s1") -> str:
    return ledger.subject_submissions(CAMPAIGN, subject)[submission_id]["status"]


def test_a_submission_is_received_first_and_stored_by_an_appended_entry(ledger: Ledger) -> None:
    acceptance = accept(ledger, "s1")
    result = submit(ledger, "s1", acceptance.entry_id, "photo")
    entry = ledger.entry(result.submission_id)
    assert entry is not None and entry.status == "received" and entry.data["status"] == "received"
    assert result.receipt.summary["status"] == "received"
    assert current(ledger, result.submission_id) == "received"
    assert [v.current_status for v in ledger.submissions(status="received").items] == ["received"]

    done = ledger.settle_submissions(CAMPAIGN, {result.submission_id: ("s1", "the app answered 201")}, "stored")
    assert done == [result.submission_id]
    assert statuses(ledger, result.submission_id) == [("stored", "the app answered 201")]
    again = ledger.entry(result.submission_id)
    assert again is not None and (again.status, again.hash) == ("received", entry.hash)  # never updated
    assert [(v.id, v.status, v.current_status) for v in ledger.submissions(status="stored").items] == [
        (result.submission_id, "received", "stored")]
    assert ledger.submissions(status="received").items == []
    assert ledger.verify().ok and ledger.verify_receipt(result.receipt).ok


def test_a_settlement_never_overwrites_a_status_it_does_not_start_from(ledger: Ledger) -> None:
    acceptance = accept(ledger, "s1")
    first = submit(ledger, "s1", acceptance.entry_id, "one").submission_id
    second = submit(ledger, "s1", acceptance.entry_id, "two").submission_id
    ledger.withdraw_consent(CAMPAIGN, "s1", "portrait", [first], reason="changed my mind")  # while the app still worked
    done = ledger.settle_submissions(CAMPAIGN, {first: ("s1", "the app answered 201"), second: ("s1", "the app answered 201")},
                                     "stored")
    assert done == [second]
    assert current(ledger, first) == "withdrawn" and current(ledger, second) == "stored"
    assert statuses(ledger, first) == [("withdrawn", "portrait consent withdrawn")]
    assert ledger.settle_submissions(CAMPAIGN, {second: ("s1", "again")}, "not stored") == []  # stored is not pending
    assert statuses(ledger, second) == [("stored", "the app answered 201")]
    with pytest.raises(LedgerError, match="unknown submission status"):
        ledger.settle_submissions(CAMPAIGN, {second: ("s1", "x")}, "lost")
    assert ledger.verify().ok


def test_concurrent_settlements_of_one_submission_append_one_status(ledger: Ledger) -> None:
    acceptance = accept(ledger, "s1")
    sid = submit(ledger, "s1", acceptance.entry_id, "race").submission_id
    results: list[list[int]] = []
    start = threading.Barrier(4)

    def settle(status: str) -> None:
        other = Ledger(ledger.url)
        start.wait()
        results.append(other.settle_submissions(CAMPAIGN, {sid: ("s1", status)}, status))
        other.close()

    threads = [threading.Thread(target=settle, args=(status,)) for status in ("stored", UNCONFIRMED, "stored", UNCONFIRMED)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(done) for done in results) == [0, 0, 0, 1]
    (only,) = statuses(ledger, sid)
    assert current(ledger, sid) == only[0]
    assert ledger.verify().ok


def test_a_killed_recording_worker_leaves_received_and_the_sweep_marks_it_unconfirmed(ledger: Ledger) -> None:
    acceptance = accept(ledger, "victim")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    worker = subprocess.Popen([sys.executable, "-m", "tests.ledger._workers", "record", ledger.url, str(acceptance.entry_id)],
                              cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout is not None
        sid = int(worker.stdout.readline())
        assert ledger.sweep_unconfirmed(CAMPAIGN, older_than=GRACE) == []  # its worker still runs
        assert current(ledger, sid, "victim") == "received"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert ledger.sweep_unconfirmed(CAMPAIGN, older_than=GRACE, dry_run=True) == [sid]
    assert current(ledger, sid, "victim") == "received"  # a dry run changes nothing
    assert ledger.sweep_unconfirmed(CAMPAIGN, older_than=GRACE) == [sid]
    assert ledger.sweep_unconfirmed(CAMPAIGN, older_than=GRACE) == []  # once
    entries = ledger.grants(sid)
    assert [e.kind for e in entries] == ["submission", "licence_grant", "portrait_grant", "submission_status"]  # grants kept
    assert entries[-1].data == {"submission_entry": sid, "status": UNCONFIRMED,
                                "reason": "the worker process that recorded it stopped before the app's answer was confirmed"}
    assert [v.current_status for v in ledger.submissions(status=UNCONFIRMED).items] == [UNCONFIRMED]
    assert ledger.submissions(status="not stored").items == []
    assert ledger.verify().ok


def test_the_sweep_leaves_a_live_workers_submission_until_it_is_older_than_any_request(ledger: Ledger) -> None:
    acceptance = accept(ledger, "s1")
    sid = submit(ledger, "s1", acceptance.entry_id, "slow app").submission_id  # recorded by this (live) process
    assert ledger.sweep_unconfirmed(CAMPAIGN, older_than=GRACE) == []
    assert ledger.sweep_unconfirmed(CAMPAIGN, older_than=dt.timedelta(0)) == [sid]
    assert statuses(ledger, sid) == [(UNCONFIRMED, "no answer from the app was confirmed within 0 s of recording")]
    # a very slow app's 201 still counts: stored may follow unconfirmed, as a new entry
    assert ledger.settle_submissions(CAMPAIGN, {sid: ("s1", "the app answered 201")}, "stored",
                                     only_from=("received", UNCONFIRMED)) == [sid]
    assert [s for s, _ in statuses(ledger, sid)] == [UNCONFIRMED, "stored"]


def test_claim_reason_decides_by_worker_and_age() -> None:
    now = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
    young = Pending(1, "s", "node:1:1", now - dt.timedelta(minutes=1))
    old = Pending(2, "s", None, now - GRACE - dt.timedelta(seconds=1))
    assert claim_reason(young, now, GRACE, lambda owner: "alive") is None
    assert claim_reason(young, now, GRACE, lambda owner: "unknown") is None
    assert claim_reason(young, now, GRACE, lambda owner: "dead") == (
        "the worker process that recorded it stopped before the app's answer was confirmed")
    assert claim_reason(old, now, GRACE, lambda owner: "alive") == "no answer from the app was confirmed within 17 min of recording"


def test_worker_state_knows_this_node_only() -> None:
    me = this_worker()
    node, pid, start = me.split(":")
    assert int(pid) == os.getpid() and worker_state(me) == "alive"
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    assert worker_state(f"{node}:{int(finished.stdout)}:{start}") == "dead"
    assert worker_state(f"{node}:{pid}:{int(start) + 1}") == "dead"  # this pid, but not the process that recorded
    assert worker_state(f"{'0' * 16}:{pid}:{start}") == "unknown"  # another host or container
    assert worker_state(None) == "unknown" and worker_state("garbage") == "unknown"


def test_only_what_is_older_than_the_longest_upload_deadline_plus_the_apps_time_is_claimed_by_age(make_policy: Any) -> None:
    policy = make_policy({"uploads": {"routes": [
        {"path": "/upload", "methods": ["POST"], "limits": {"deadline": "PT30M"}},
        {"path": "/raw/{name}", "methods": ["PUT"], "body": "raw"},
    ]}})
    assert unconfirmed_after(policy) == dt.timedelta(minutes=30) + APP_TIME == dt.timedelta(minutes=45)
    assert unconfirmed_after(make_policy()) == dt.timedelta(seconds=120) + APP_TIME
