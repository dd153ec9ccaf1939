"""The PostgreSQL append path: array parameters as literals, one round trip before the lock,
and pooled connections tested only after sitting idle."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import event

from ugc_guard.ledger import Ledger, SubjectErased
from ugc_guard.ledger import engine as ledger_engine
from ugc_guard.ledger.pgappend import array_literal as _array_literal

from .conftest import SECRET, accept

TRICKY = ['plain', '', 'NULL', 'null', ' spaced ', 'quote " in', 'back\\slash', '\\"', '{braces,commas}', 'é ü 漢字 😀',
          'tab\tnew\nline', '"', '\\', '{}', None, '{"json":"body","x":[1,2]}']


def test_array_literals_round_trip(postgres_url: str) -> None:
    with psycopg.connect(postgres_url.replace("postgresql+psycopg", "postgresql")) as connection:
        texts = connection.execute("SELECT %s::text[]", (_array_literal(TRICKY),)).fetchone()
        numbers = connection.execute("SELECT %s::bigint[]", (_array_literal([1, None, 9_007_199_254_740_993, -4]),)).fetchone()
    assert texts is not None and texts[0] == TRICKY
    assert numbers is not None and numbers[0] == [1, None, 9_007_199_254_740_993, -4]


def test_tricky_text_appends_and_verifies(postgres_url: str) -> None:
    ledger = Ledger(postgres_url, secret=SECRET)
    ledger.upgrade()
    for index, text in enumerate(item for item in TRICKY if item):
        ledger.append_entry("c", "note", {"text": text, "n": index}, subject=f"s{index}")
    accept(ledger, 'subject "quoted" \\ é')
    assert ledger.verify().ok
    ledger.close()


def test_a_busy_connection_is_not_pinged_an_idle_one_is(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = Ledger(postgres_url, secret=SECRET)
    ledger.upgrade()
    engine = ledger._core.engine
    statements: list[str] = []
    pings: list[object] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    original = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda connection: pings.append(connection) or original(connection))
    accept(ledger, "a")
    accept(ledger, "a")
    assert pings == []
    monkeypatch.setattr(ledger_engine, "PING_AFTER", -1.0)  # every pooled connection counts as idle
    accept(ledger, "a")
    assert len(pings) == 2  # two checkouts: the append's transaction, then its WAL flush (group commit)
    ledger.close()


def test_a_dead_idle_connection_is_replaced(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = Ledger(postgres_url, secret=SECRET)
    ledger.upgrade()
    accept(ledger, "a")
    with ledger._core.engine.connect() as connection:
        backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    with psycopg.connect(postgres_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
    monkeypatch.setattr(ledger_engine, "PING_AFTER", -1.0)
    accept(ledger, "a")
    assert ledger.verify().ok
    ledger.close()


def test_erased_subject_is_refused_on_the_one_round_trip_path(postgres_url: str) -> None:
    ledger = Ledger(postgres_url, secret=SECRET)
    ledger.upgrade()
    accept(ledger, "gone")
    ledger.erase_subject("summer", "gone", reason="asked")
    with pytest.raises(SubjectErased):
        accept(ledger, "gone")
    assert ledger.verify().ok
    ledger.close()


def test_the_group_commit_flush_waits_for_the_wal(postgres_url: str) -> None:
    """A batch commits without waiting for its WAL flush; the flush that answers its callers must wait
    for the WAL up to then. A small commit with ``synchronous_commit`` off (less than a WAL page, so
    the WAL writer is not woken for it) is on disk once the flush returned."""
    ledger = Ledger(postgres_url, secret=SECRET)
    ledger.upgrade()
    with psycopg.connect(postgres_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as other:
        other.execute("CREATE TABLE scratch (note text)")
        other.execute("SET synchronous_commit TO off")
        for attempt in range(5):
            other.execute("INSERT INTO scratch VALUES (%s)", (f"unflushed {attempt}",))
            written = other.execute("SELECT pg_current_wal_insert_lsn()").fetchone()
            ledger._core.flush()
            flushed = other.execute("SELECT pg_current_wal_flush_lsn() >= %s::pg_lsn", written).fetchone()
            assert flushed == (True,), attempt
    ledger.close()
