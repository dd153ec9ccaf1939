"""Check one range of the chains, in (campaign, position) order: the work of one verify process.

Standard library only (psycopg imported when needed), so a worker started as
``python -c … _verify_range.py`` begins checking in a fraction of a second without importing ugc_guard.
The worker reads a JSON job on stdin and writes its :func:`check_rows` result as JSON on stdout.

A range starts at a (campaign, position) key; the entry just before that key (if it is in the same
campaign) gives the expected position and previous hash, exactly as a single scan would have them
when everything before was intact. The caller keeps a range's findings only while nothing earlier in
the same campaign failed, which makes the merged result identical to one sequential scan.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

PREFIX = "ugc-ledger/1\n"
TIME_SQL = {
    "postgresql": "to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
    "sqlite": "substr(recorded_at, 1, 10) || 'T' || substr(recorded_at, 12) || 'Z'",
}
COLUMNS = "id, campaign, position, previous_hash, kind, subject, {time}, ref, content_sha256, terms_version, status, body, hash"
BATCH = 10_000

# A segment: one campaign's rows inside a range, in row order:
# [campaign, finding ([entry_id, position, reason]) or None, last expected position, last hash, broken]
Segment = list[Any]


def _header_encoder() -> Callable[[Sequence[Any]], str]:
    """The canonical header encoder (compact JSON, non-ASCII kept), without json's per-call set-up."""
    try:
        from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - CPython always has it
        c_make_encoder = None
    if c_make_encoder is None:  # pragma: no cover
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    def refuse(value: Any) -> Any:
        raise TypeError(f"{type(value).__name__} in a ledger row")

    encoder = c_make_encoder(None, refuse, encode_basestring, None, ":", ",", False, False, False)
    join = "".join
    return lambda values: join(encoder(values, 0))


def range_sql(dialect: str, *, campaign: bool, low: bool, high: bool, max_id: bool) -> str:
    """The SELECT for a range; placeholders ``?`` in the order campaign, low key, high key, max id."""
    where = []
    if campaign:
        where.append("campaign = ?")
    if low:
        where.append("(campaign, position) >= (?, ?)")
    if high:
        where.append("(campaign, position) < (?, ?)")
    if max_id:
        where.append("id <= ?")
    return (f"SELECT {COLUMNS.format(time=TIME_SQL[dialect])} FROM ledger_entries"
            + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY campaign, position")


BEFORE_SQL = ("SELECT campaign, position, hash FROM ledger_entries WHERE (campaign, position) < (?, ?){max_id} "
              "ORDER BY campaign DESC, position DESC LIMIT 1")


def check_rows(batches: Iterable[Sequence[Sequence[Any]]], before: Sequence[Any] | None,
               progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Check rows (``COLUMNS`` order, in key order) arriving in batches; ``before`` is the
    (campaign, position, hash) of the entry just before the first row, or None.

    Returns ``{"entries": n, "segments": [Segment, …]}``.
    """
    sha256, encode = hashlib.sha256, _header_encoder()
    segments: list[Segment] = []
    entries = 0
    current: str | None = None
    expected_position, expected_previous, broken = 0, "", False
    finding: list[Any] | None = None
    first = True
    for rows in batches:
        entries += len(rows)
        for row in rows:
            if row[1] != current:
                if current is not None:
                    segments.append([current, finding, expected_position, expected_previous, broken])
                current, expected_position, expected_previous, broken, finding = row[1], 0, "", False, None
                if first and before is not None and before[0] == current:
                    expected_position, expected_previous = before[1], before[2]
            first = False
            if broken:
                continue
            expected_position += 1
            reason = None
            if row[2] != expected_position:
                reason = f"expected position {expected_position} (an entry is missing or was moved)"
            elif row[3] != expected_previous:
                reason = "its previous-hash does not match the entry before it (an entry was removed or replaced)"
            elif sha256(f"{PREFIX}{encode(row[:11])}\n{row[11]}".encode()).hexdigest() != row[12]:
                reason = "its hash does not match its content (the row was changed)"
            if reason is not None:
                finding, broken = [row[0], row[2], reason], True
            expected_previous = row[12]
        if progress is not None:
            progress(len(rows))
    if current is not None:
        segments.append([current, finding, expected_position, expected_previous, broken])
    return {"entries": entries, "segments": segments}


def run_job(job: dict[str, Any], connection: Any = None, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Check the range a job describes, on ``connection`` (a DBAPI connection) or a new one.

    ``job``: dialect, connect (sqlite path or psycopg keyword arguments), snapshot (PostgreSQL
    exported snapshot), max_id (SQLite: the last id the caller's snapshot saw), campaign, low, high.
    """
    postgres = job["dialect"] == "postgresql"
    own = connection is None
    if own:
        if postgres:
            import psycopg

            connection = psycopg.connect(**job["connect"])
            connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            if job.get("snapshot"):
                connection.execute(f"SET TRANSACTION SNAPSHOT '{job['snapshot']}'")
        else:
            import sqlite3

            connection = sqlite3.connect(f"file:{job['connect']}?mode=ro", uri=True, isolation_level=None)
            connection.execute("BEGIN")

    def sql(statement: str) -> str:
        return statement.replace("%", "%%").replace("?", "%s") if postgres else statement

    try:
        low, high, max_id, campaign = job.get("low"), job.get("high"), job.get("max_id"), job.get("campaign")
        before = None
        if low is not None:
            cursor = connection.cursor()
            cursor.execute(sql(BEFORE_SQL.format(max_id=" AND id <= ?" if max_id is not None else "")),
                           (*low, *((max_id,) if max_id is not None else ())))
            before = cursor.fetchone()
            cursor.close()
        params = ((campaign,) if campaign is not None else ()) + tuple(low or ()) + tuple(high or ()) + \
            ((max_id,) if max_id is not None else ())
        statement = range_sql(job["dialect"], campaign=campaign is not None, low=low is not None, high=high is not None,
                              max_id=max_id is not None)
        cursor = connection.cursor(name="ugc_ledger_verify") if postgres else connection.cursor()
        cursor.execute(sql(statement), params)

        def batches() -> Iterable[Sequence[Sequence[Any]]]:
            while rows := cursor.fetchmany(BATCH):
                yield rows

        result = check_rows(batches(), before, progress)
        cursor.close()
        return result
    finally:
        if own:
            connection.close()


def main() -> None:
    job = json.loads(sys.stdin.read())
    json.dump(run_job(job), sys.stdout)


if __name__ == "__main__":
    main()
