"""Recompute the hash chains, streaming, and check receipts against the stored entries."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from . import _verify_range
from ._verify_range import TIME_SQL, check_rows, range_sql, run_job
from .canonical import PREFIX, header_json, utc_text
from .models import ChainHead, Entry
from .rawsql import Raw
from .receipts import Receipt, ReceiptCheck, summarise
from .views import ENTRY_COLUMNS

__all__ = ["Finding", "Verification", "check_receipt", "row_hash", "verify_chains"]

_BATCH = 10_000


@dataclass(frozen=True, slots=True)
class Finding:
    """The first entry of a campaign that does not verify, and why."""

    campaign: str
    entry_id: int | None
    position: int
    reason: str

    def __str__(self) -> str:
        entry = f"entry {self.entry_id}" if self.entry_id is not None else "the chain"
        return f"campaign {self.campaign}: {entry} at position {self.position}: {self.reason}"


@dataclass(slots=True)
class Verification:
    """What :func:`verify_chains` found: entries and campaigns checked, and the first finding per campaign."""

    entries: int = 0
    campaigns: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def row_hash(row: Any) -> str:
    """Return the hash an entry row should have, recomputed from its stored columns."""
    header = header_json(
        row.id, row.campaign, row.position, row.previous_hash, row.kind, row.subject, utc_text(row.recorded_at), row.ref,
        row.content_sha256, row.terms_version, row.status,
    )
    return hashlib.sha256(PREFIX + header.encode() + b"\n" + row.body.encode()).hexdigest()


_TIME_SQL = TIME_SQL

PARALLEL_FROM = 200_000
"""Chains (all campaigns' head positions summed) at least this long are verified by several processes."""


def verify_chains(connection: Connection, campaign: str | None = None,
                  progress: Callable[[int], None] | None = None, *, workers: int | None = None,
                  parallel_from: int = PARALLEL_FROM) -> Verification:
    """Recompute every chain (or one campaign's), in position order, in constant memory.

    Returns a :class:`Verification` naming, per campaign, the first entry whose position, previous
    hash or own hash does not match, and a chain head that disagrees with the last entry (entries
    removed from the end). Rows are read straight from the driver (times as canonical UTC text made
    by the database), so the loop does one JSON encode and one SHA-256 per entry.

    Chains of ``parallel_from`` entries or more are split into (campaign, position) ranges checked
    at once by ``workers`` processes (default: the CPUs this process may use; the caller's process
    takes the first range), all reading the caller's snapshot. The merged result is exactly what
    one sequential scan finds. If a worker cannot run, the sequential scan is used instead.
    """
    count = workers if workers is not None else len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if count > 1:
        length = connection.execute(
            select(func.coalesce(func.sum(ChainHead.position), 0)).where(*([ChainHead.campaign == campaign] if campaign else []))
        ).scalar_one()
        if length >= max(parallel_from, count):
            try:
                return _verify_parallel(connection, campaign, progress, min(count, 16))
            except _WorkerFailed:
                pass
    return _verify_sequential(connection, campaign, progress)


def _verify_sequential(connection: Connection, campaign: str | None,
                       progress: Callable[[int], None] | None) -> Verification:
    heads = {row.campaign: (row.position, row.hash) for row in connection.execute(select(ChainHead))}
    statement = range_sql(connection.dialect.name, campaign=campaign is not None, low=False, high=False, max_id=False)
    raw = Raw(connection)
    cursor = connection.connection.driver_connection.cursor(name="ugc_ledger_verify") if raw.postgres else raw.cursor  # type: ignore[union-attr]
    with raw.wrapped(statement):
        cursor.execute(raw.sql(statement), (campaign,) if campaign is not None else ())

    def batches() -> Iterator[Sequence[Any]]:
        while rows := cursor.fetchmany(_BATCH):
            yield rows

    checked = check_rows(batches(), None, progress)
    cursor.close()
    return _merge([checked], heads, campaign)


class _WorkerFailed(Exception):
    pass


def _verify_parallel(connection: Connection, campaign: str | None, progress: Callable[[int], None] | None,
                     count: int) -> Verification:
    dialect = connection.dialect.name
    raw = Raw(connection)
    job: dict[str, Any] = {"dialect": dialect, "campaign": campaign}
    snapshot_connection = None
    if raw.postgres:
        # the caller's transaction may be READ COMMITTED: export its snapshot and read everything,
        # heads included, in transactions that import it
        job["snapshot"] = raw.execute("SELECT pg_export_snapshot()").fetchone()[0]
        args, params = connection.engine.dialect.create_connect_args(connection.engine.url)
        job["connect"] = {key: value for key, value in params.items() if isinstance(value, str | int)}
        import psycopg

        snapshot_connection = psycopg.connect(**job["connect"])
        snapshot_connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot_connection.execute(f"SET TRANSACTION SNAPSHOT '{job['snapshot']}'")
        reader: Any = snapshot_connection
    else:
        args, _ = connection.engine.dialect.create_connect_args(connection.engine.url)
        job["connect"] = os.path.abspath(args[0])
        reader = connection.connection.driver_connection
    try:
        cursor = reader.cursor()
        cursor.execute("SELECT campaign, position, hash FROM ledger_chain_heads ORDER BY campaign")
        ordered = cursor.fetchall()
        if not raw.postgres:  # ids are given out in commit order under the write lock: this is the snapshot
            cursor.execute("SELECT max(id) FROM ledger_entries")
            job["max_id"] = cursor.fetchone()[0] or 0
        cursor.close()
        heads = {row[0]: (row[1], row[2]) for row in ordered}
        lengths = [(row[0], row[1]) for row in ordered if campaign is None or row[0] == campaign]
        keys = _split(lengths, sum(length for _, length in lengths), count)
        bounds = [None, *keys, None]
        jobs = [{**job, "low": bounds[index], "high": bounds[index + 1]} for index in range(len(bounds) - 1)]
        processes = [_start(item) for item in jobs[1:]]
        try:
            results = [run_job(jobs[0], reader, progress)]
            for process in processes:
                assert process.stdout is not None and process.stderr is not None
                out, err = process.stdout.read(), process.stderr.read()  # a worker writes to stderr only when it fails
                if process.wait() != 0:
                    raise _WorkerFailed(err.decode(errors="replace").strip().splitlines()[-1:] or process.returncode)
                results.append(json.loads(out))
                if progress is not None:
                    progress(results[-1]["entries"])
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        return _merge(results, heads, campaign)
    finally:
        if snapshot_connection is not None:
            snapshot_connection.close()


def _split(lengths: list[tuple[str, int]], total: int, count: int) -> list[list[Any]]:
    """Return up to ``count - 1`` increasing (campaign, position) keys cutting ``total`` entries into equal parts."""
    targets = [total * part // count for part in range(1, count)]
    keys: list[list[Any]] = []
    passed, index = 0, 0
    for name, length in lengths:
        while index < len(targets) and targets[index] < passed + length:
            key = [name, targets[index] - passed + 1]
            if targets[index] > 0 and (not keys or keys[-1] != key):
                keys.append(key)
            index += 1
        passed += length
    return keys


def _start(job: dict[str, Any]) -> subprocess.Popen[bytes]:
    loader = ("import sys, importlib.util as u; s = u.spec_from_file_location('_ugc_verify_range', sys.argv[1]); "
              "m = u.module_from_spec(s); s.loader.exec_module(m); m.main()")
    process = subprocess.Popen([sys.executable, "-c", loader, _verify_range.__file__], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdin is not None
    process.stdin.write(json.dumps(job).encode())
    process.stdin.close()
    return process


def _merge(results: list[dict[str, Any]], heads: dict[str, tuple[int, str]], campaign: str | None) -> Verification:
    """Join range results in key order: a campaign's later segments count only while it is unbroken."""
    result = Verification()
    state: dict[str, list[Any]] = {}
    for checked in results:
        result.entries += checked["entries"]
        for segment in checked["segments"]:
            earlier = state.get(segment[0])
            if earlier is None or not earlier[4]:
                state[segment[0]] = segment
    result.campaigns = len(state)
    for name, (_, finding, position, last, broken) in state.items():
        if finding is not None:
            result.findings.append(Finding(name, finding[0], finding[1], finding[2]))
        _check_head(result, name, heads, position, last, broken)
    seen = set(state)
    for name in sorted(seen.symmetric_difference(heads) if campaign is None else {campaign} - seen):
        if heads.get(name, (0, ""))[0] > 0:
            result.findings.append(Finding(name, None, 1, "the chain head records entries but none exist"))
    return result


def _check_head(result: Verification, campaign: str, heads: dict[str, tuple[int, str]], position: int, last: str,
                broken: bool) -> None:
    if broken:
        return
    head = heads.get(campaign)
    if head is None:
        result.findings.append(Finding(campaign, None, position, "the campaign has no chain head row"))
    elif head != (position, last):
        result.findings.append(Finding(
            campaign, None, head[0], f"the chain head says position {head[0]} but the last entry is at {position} "
            "(entries were removed from the end, or the head was changed)",
        ))


def check_receipt(connection: Connection, receipt: Receipt) -> ReceiptCheck:
    """Check every entry a receipt names against the ledger; return the mismatches found."""
    problems: list[str] = []
    for item in receipt.entries():
        name = f"entry {item['entry_id']}"
        row = connection.execute(select(*ENTRY_COLUMNS).where(Entry.id == item["entry_id"])).one_or_none()
        if row is None:
            problems.append(f"{name}: not in the ledger")
            continue
        stored = {
            "campaign": row.campaign, "position": row.position, "kind": row.kind, "subject": row.subject,
            "recorded_at": utc_text(row.recorded_at), "hash": row.hash,
            "summary": summarise(row.kind, json.loads(row.body)),
        }
        for key, value in stored.items():
            if item.get(key) != value:
                problems.append(f"{name}: {key} differs from the ledger")
        if row_hash(row) != row.hash:
            problems.append(f"{name}: the ledger row no longer matches its hash (run ugc-guard ledger verify)")
        follower = connection.execute(
            select(Entry.previous_hash).where(Entry.campaign == row.campaign, Entry.position == row.position + 1)
        ).scalar_one_or_none()
        if follower is not None and follower != row.hash:
            problems.append(f"{name}: the next entry in the chain does not link to it (run ugc-guard ledger verify)")
    return ReceiptCheck(not problems, problems)
