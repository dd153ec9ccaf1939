"""A database-wide lock for long jobs (the retention run), so two runs never act at once.

PostgreSQL: a session-level advisory lock on a connection held for the whole job; it is released
when the job ends or its process dies. SQLite: a row in ``ledger_locks`` naming the holder (host,
process id) with a heartbeat; a holder whose process is gone (same host) or whose heartbeat is
older than ``stale_after`` seconds is taken over, so a killed run never blocks the next one forever.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection

from .core import LedgerCore
from .engine import WRITE, translate_errors
from .errors import LedgerError
from .rawsql import Raw

__all__ = ["JobLock", "JobLocked", "job_lock"]

STALE_AFTER = 600.0


class JobLocked(LedgerError):
    """Another process holds the job's lock."""


class JobLock:
    """A held lock; :meth:`beat` refreshes the heartbeat on SQLite (call it between batches)."""

    def __init__(self, core: LedgerCore, name: str, holder: str) -> None:
        self.core, self.name, self.holder = core, name, holder

    def beat(self) -> None:
        if self.core.engine.dialect.name == "postgresql":
            return
        with translate_errors(self.core.url), self.core.engine.connect().execution_options(**WRITE) as connection, \
                connection.begin():
            raw = Raw(connection)
            raw.execute("UPDATE ledger_locks SET heartbeat_at = ? WHERE name = ? AND holder = ?",
                        (raw.time(dt.datetime.now(dt.UTC)), self.name, self.holder))


def _advisory_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(b"ugc-guard/job/" + name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def job_lock(core: LedgerCore, name: str, *, wait: float = 0.0, stale_after: float = STALE_AFTER) -> Iterator[JobLock]:
    """Hold the lock ``name`` for the ``with`` block, waiting up to ``wait`` seconds for it.

    Raises :class:`JobLocked` (naming the holder on SQLite) when it stays taken.
    """
    holder = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    deadline = time.monotonic() + wait
    if core.engine.dialect.name == "postgresql":
        with translate_errors(core.url), core.engine.connect() as connection:
            key = _advisory_key(name)
            while not connection.exec_driver_sql("SELECT pg_try_advisory_lock(%s)", (key,)).scalar_one():
                connection.commit()
                if time.monotonic() >= deadline:
                    raise JobLocked(f"another {name} is running on {core.where} (PostgreSQL advisory lock held); "
                                    "wait for it to finish or pass --wait SECONDS")
                time.sleep(0.2)
            connection.commit()
            try:
                yield JobLock(core, name, holder)
            finally:
                connection.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (key,))
                connection.commit()
        return
    while True:
        other = _take_sqlite(core, name, holder, stale_after)
        if other is None:
            break
        if time.monotonic() >= deadline:
            raise JobLocked(f"another {name} is running on {core.where} (held by {other}); "
                            "wait for it to finish or pass --wait SECONDS")
        time.sleep(0.2)
    try:
        yield JobLock(core, name, holder)
    finally:
        with translate_errors(core.url), core.engine.connect().execution_options(**WRITE) as connection, connection.begin():
            Raw(connection).execute("DELETE FROM ledger_locks WHERE name = ? AND holder = ?", (name, holder))


def _take_sqlite(core: LedgerCore, name: str, holder: str, stale_after: float) -> str | None:
    """Take the lock row (BEGIN IMMEDIATE serialises the check); return the other holder when taken."""
    now = dt.datetime.now(dt.UTC)
    with translate_errors(core.url), core.engine.connect().execution_options(**WRITE) as connection, connection.begin():
        raw = Raw(connection)
        row = raw.execute("SELECT holder, heartbeat_at FROM ledger_locks WHERE name = ?", (name,)).fetchone()
        if row is not None and not _abandoned(connection, row[0], row[1], now, stale_after):
            return str(row[0])
        raw.execute("DELETE FROM ledger_locks WHERE name = ?", (name,))
        raw.execute("INSERT INTO ledger_locks (name, holder, acquired_at, heartbeat_at) VALUES (?, ?, ?, ?)",
                    (name, holder, raw.time(now), raw.time(now)))
    return None


def _abandoned(connection: Connection, holder: str, heartbeat: object, now: dt.datetime, stale_after: float) -> bool:
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
        return True
    beat = dt.datetime.fromisoformat(str(heartbeat)).replace(tzinfo=dt.UTC)
    return (now - beat).total_seconds() > stale_after


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
