"""16 processes appending at once never fork, break or lose the chain."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ugc_guard.ledger import Ledger

from ._workers import SECRET

REPO = Path(__file__).resolve().parents[2]
WORKERS, EACH = 16, 500


@pytest.mark.slow
def test_sixteen_processes_append_exactly_8000_entries(ledger_url: str) -> None:
    ledger = Ledger(ledger_url, secret=SECRET)
    ledger.upgrade()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    workers = [
        subprocess.Popen([sys.executable, "-m", "tests.ledger._workers", "append", ledger_url, str(n), str(EACH)],
                         cwd=REPO, env=env)
        for n in range(WORKERS)
    ]
    assert [worker.wait() for worker in workers] == [0] * WORKERS
    result = ledger.verify()
    assert result.ok, result.findings
    assert result.entries == WORKERS * EACH
    stats = ledger.stats()["campaigns"][0]
    assert stats["entries"] == WORKERS * EACH and stats["kinds"] == {"terms_acceptance": WORKERS * EACH}
    positions = [entry.position for entry in ledger.iter_entries(campaign="load")]
    assert sorted(positions) == list(range(1, WORKERS * EACH + 1))
    assert all(ledger.subject_status("load", f"w{n}").acceptance_id is not None for n in range(WORKERS))
    ledger.close()
