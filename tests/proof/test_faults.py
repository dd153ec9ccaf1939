"""Faults under a running site (the scenarios of benchmarks/faults.py, smaller): PostgreSQL stopped and
restarted, Redis stopped with fail open / closed, a worker killed mid-upload, a full temp disk.

Each runs the example site under uvicorn on servers these tests start themselves (private
PostgreSQL and Redis on free ports); the machine's shared servers are never stopped or filled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from benchmarks import faults
from benchmarks._services import PrivatePostgres, ServiceMissing
from tests.conftest import IN_CI


def _run(scenario: Callable[[], faults.FaultOutcome]) -> faults.FaultOutcome:
    try:
        return scenario()
    except ServiceMissing as missing:
        if IN_CI:
            pytest.fail(f"{missing} (CI=true: a missing server is a failure)")
        pytest.skip(str(missing))


def test_postgres_stopped_refuses_uploads_with_503_and_recovers_by_itself(private_postgres: PrivatePostgres) -> None:
    outcome = _run(lambda: faults.postgres_restart(private_postgres, clients=2, before=2.0, down=4.0, after=3.0))
    by_phase: dict[str, Any] = outcome.data["by_phase"]
    assert by_phase["down"] and {(r.status, r.code) for r in by_phase["down"]} == {(503, "ledger-unavailable")}
    assert outcome.data["recovery"] is not None
    assert outcome.data["check"].problems == []
    assert outcome.problems == []


@pytest.mark.parametrize("fail", ["open", "closed"])
def test_redis_stopped_holds_the_policys_fail_mode(fail: str) -> None:
    outcome = _run(lambda: faults.redis_down(fail, pages=6))
    down = outcome.data["down"]
    if fail == "open":
        assert {status for status, _, _ in down} == {200} and outcome.data["upload"].status == 201
    else:
        assert {status for status, _, _ in down} == {503} and outcome.data["upload"].code == "rate-limit-unavailable"
        assert outcome.data["retry_after"]
    assert outcome.data["robots"] == 200 and outcome.data["recovery"] is not None
    assert outcome.problems == []


@pytest.fixture(scope="module")
def killed(private_postgres: PrivatePostgres) -> faults.FaultOutcome:
    return _run(lambda: faults.worker_kill(private_postgres, background=2, seconds=5.0))


def test_worker_killed_mid_upload_records_nothing_and_the_other_worker_goes_on(killed: faults.FaultOutcome) -> None:
    info = killed.data["info"]
    assert "killed" in info, info
    assert killed.data["check"].problems == []  # no submission for the interrupted upload; the chain verifies
    assert killed.data["later"] and all(r.status is not None and r.status < 500 for r in killed.data["later"]), [
        (r.kind, r.status, r.started, r.latency, r.detail[:80]) for r in killed.data["later"]]
    assert killed.problems == []


def test_worker_killed_mid_upload_leaves_no_temporary_file(killed: faults.FaultOutcome) -> None:
    assert killed.data["left"] == []


def test_worker_killed_after_recording_leaves_no_phantom_submission(killed: faults.FaultOutcome) -> None:
    held = killed.data["held"]
    assert held, killed.data["info"].get("held_error")
    assert held["status_at_kill"] == "received"  # recorded with its grants, the app still storing
    assert not held["client_saw"].startswith("HTTP/1.1 2")
    assert held["status"] == "not stored (unconfirmed)" and held["reason"] == faults.DEAD_WORKER
    assert held["kinds"] == ["submission", "licence_grant", "portrait_grant", "submission_status"]
    assert set(killed.data["unanswered"].values()) <= {"not stored (unconfirmed)", "stored"}  # none left "received"


@pytest.fixture(scope="module")
def full_disk() -> faults.FaultOutcome:
    return _run(lambda: faults.full_disk(size_kib=2048))


def test_full_temp_disk_records_nothing_and_recovers(full_disk: faults.FaultOutcome) -> None:
    records = full_disk.data["records"]
    assert records["a"].status != 201 and records["b"].status != 201
    assert records["c"].status == 201
    assert full_disk.data["check"].problems == []  # nothing recorded for a and b, no temporary file left


def test_full_temp_disk_while_spooling_is_a_clear_refusal(full_disk: faults.FaultOutcome) -> None:
    record = full_disk.data["records"]["a"]
    assert record.status == 503 and record.code == "storage-unavailable"


def test_full_temp_disk_while_reencoding_is_not_blamed_on_the_content(full_disk: faults.FaultOutcome) -> None:
    record = full_disk.data["records"]["b"]
    assert record.status == 503 and record.code == "storage-unavailable"
