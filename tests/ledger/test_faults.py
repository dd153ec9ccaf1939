"""Unreachable databases, old schemas and a writer killed mid-append."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from ugc_guard.ledger import Ledger, LedgerError, LedgerUnavailable, SchemaOutdated
from ugc_guard.ledger.models import Entry

from .conftest import CAMPAIGN, SECRET, accept

REPO = Path(__file__).resolve().parents[2]


def test_unreachable_postgres_fails_fast() -> None:
    ledger = Ledger("postgresql+psycopg://postgres@127.0.0.1:1/nothing", connect_timeout=2)
    started = time.monotonic()
    with pytest.raises(LedgerUnavailable, match=r"127\.0\.0\.1:1/nothing is unavailable"):
        ledger.subject_status(CAMPAIGN, "s1")
    assert time.monotonic() - started < 10


def test_blackholed_host_is_bounded_by_the_connect_timeout() -> None:
    ledger = Ledger("postgresql+psycopg://postgres@192.0.2.1:5432/nothing", connect_timeout=2)
    started = time.monotonic()
    with pytest.raises(LedgerUnavailable):
        ledger.upgrade()
    assert time.monotonic() - started < 10


def test_bad_urls_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="unsupported ledger database 'mysql'"):
        Ledger("mysql://x/y")
    with pytest.raises(LedgerError, match="not a database URL"):
        Ledger("no url at all")
    with pytest.raises(LedgerError, match="needs a SQLite file"):
        Ledger("sqlite://")
    with pytest.raises(LedgerUnavailable, match="unable to open database file"):
        Ledger(f"sqlite:///{tmp_path}/missing/dir/ledger.sqlite3").upgrade()


def test_an_older_schema_is_refused_until_upgraded(ledger_url: str) -> None:
    ledger = Ledger(ledger_url, secret=SECRET)
    with pytest.raises(SchemaOutdated, match="no ledger tables; run ugc-guard db upgrade"):
        ledger.stats()
    ledger.upgrade("0001")
    stale = Ledger(ledger_url, secret=SECRET)
    with pytest.raises(SchemaOutdated, match=r"schema 0001.*run ugc-guard db upgrade"):
        accept(stale, "s1")
    ledger.upgrade()
    assert accept(stale, "s1").position == 2
    assert stale.current_revision() == Ledger.head_revision()


def _count(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(Entry)).scalar_one()
    engine.dispose()
    return count


def test_a_writer_killed_mid_transaction_leaves_nothing(ledger: Ledger) -> None:
    accept(ledger, "before")
    before = _count(ledger.url)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    worker = subprocess.Popen([sys.executable, "-m", "tests.ledger._workers", "hang", ledger.url], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "inside"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert worker.returncode == -signal.SIGKILL
    after = accept(ledger, "after")  # the lock died with the writer
    assert after.position == 4 and _count(ledger.url) == before + 2
    assert ledger.verify().ok
    assert ledger.history("victim").items == []
