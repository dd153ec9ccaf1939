"""Ledger speed: appends/s (SQLite one writer, PostgreSQL 16 writer processes), verify throughput and
subject / content-hash lookups on a ledger of one million entries. Writes section "ledger".

    python benchmarks/bench_ledger.py [--quick] [--postgres postgresql+psycopg://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import multiprocessing as mp
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import write_section
from ugc_guard.ledger import ClientInfo, Ledger, TermsShown
from ugc_guard.ledger.canonical import body_json, entry_hash, header_json, utc_text

SECRET = "bench-secret-" + "b" * 20
TERMS = TermsShown("terms", "1", "a" * 64, "en")
ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


def _append(url: str, durability: str, subject: str, count: int, barrier: object | None = None) -> None:
    ledger = Ledger(url, secret=SECRET, durability=durability)
    client = ClientInfo("198.51.100.7", "bench")
    ledger.record_acceptance("bench", subject, TERMS, collection_method="click-wrap", policy_digest="p", client=client)
    if barrier is not None:
        barrier.wait()  # type: ignore[attr-defined]
    for _ in range(count):
        ledger.record_acceptance("bench", subject, TERMS, collection_method="click-wrap", policy_digest="p", client=client)
    ledger.close()


def appends_per_second(url: str, durability: str, writers: int, each: int) -> float:
    Ledger(url).upgrade()
    if writers == 1:
        started = time.perf_counter()
        _append(url, durability, "solo", each)
        return each / (time.perf_counter() - started)
    barrier = mp.Barrier(writers + 1)
    processes = [mp.Process(target=_append, args=(url, durability, f"w{n}", each, barrier)) for n in range(writers)]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.perf_counter()
    for process in processes:
        process.join()
    return writers * each / (time.perf_counter() - started)


def synthetic_rows(count: int, subjects: int) -> tuple[list[tuple[object, ...]], list[str], list[str]]:
    """A valid chain of ``count`` entries (acceptances and submissions) over ``subjects`` subjects."""
    rows, previous, picks_subject, picks_content = [], "", [], []
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for index in range(1, count + 1):
        subject = f"s{index % subjects:07d}"
        moment = start + dt.timedelta(seconds=index)
        if index % 2:
            kind, content, terms, status = "terms_acceptance", None, "1", None
            payload = {"document_id": "terms", "version": "1", "text_sha256": "a" * 64, "language": "en"}
        else:
            kind, terms, status = "submission", None, "accepted"
            content = hashlib.sha256(index.to_bytes(8, "big")).hexdigest()
            payload = {"content_sha256": content, "size": index, "detected_type": "image/jpeg", "status": "accepted"}
        body = body_json(payload)
        header = header_json(index, "bench", index, previous, kind, subject, utc_text(moment), None, content, terms, status)
        digest = entry_hash(header, body)
        rows.append((index, "bench", index, kind, subject, moment, None, content, terms, status, body, previous, digest))
        previous = digest
        if index % 997 == 0:
            (picks_content if content else picks_subject).append(content or subject)
    return rows, picks_subject, picks_content


def bulk_load(url: str, rows: list[tuple[object, ...]]) -> None:
    ledger = Ledger(url)
    ledger.upgrade()
    engine = ledger._core.engine
    last = rows[-1]
    with engine.begin() as connection:
        driver = connection.connection.driver_connection
        if connection.dialect.name == "postgresql":
            with driver.cursor().copy(  # type: ignore[union-attr]
                "COPY ledger_entries (id, campaign, position, kind, subject, recorded_at, ref, content_sha256, "
                "terms_version, status, body, previous_hash, hash) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
            connection.exec_driver_sql("SELECT setval('ledger_entries_id_seq', %s)", (len(rows),))
            connection.exec_driver_sql(
                "INSERT INTO ledger_chain_heads VALUES ('bench', %s, %s, now())", (last[2], last[12]))
        else:
            cursor = driver.cursor()  # type: ignore[union-attr]
            cursor.executemany(
                "INSERT INTO ledger_entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(*row[:5], row[5].strftime("%Y-%m-%d %H:%M:%S.%f"), *row[6:]) for row in rows],  # type: ignore[attr-defined]
            )
            cursor.execute("INSERT INTO ledger_chain_heads VALUES ('bench', ?, ?, '2026-01-01 00:00:00.000000')", (last[2], last[12]))
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:  # statistics as autovacuum would gather them after a bulk load
            connection.exec_driver_sql("ANALYZE ledger_entries")
    ledger.close()


def lookups(url: str, subjects: list[str], contents: list[str]) -> tuple[float, float, float, float]:
    ledger = Ledger(url, secret=SECRET)
    ledger.history(subjects[0])
    times_subject, times_content = [], []
    for subject in subjects:
        started = time.perf_counter()
        assert ledger.history(subject, limit=100).items
        times_subject.append((time.perf_counter() - started) * 1000)
    for content in contents:
        started = time.perf_counter()
        assert ledger.by_content(content)
        times_content.append((time.perf_counter() - started) * 1000)
    ledger.close()
    p95 = lambda values: sorted(values)[int(len(values) * 0.95)]  # noqa: E731
    return statistics.median(times_subject), p95(times_subject), statistics.median(times_content), p95(times_content)


def verify_rate(url: str, count: int) -> float:
    ledger = Ledger(url)
    started = time.perf_counter()
    result = ledger.verify()
    elapsed = time.perf_counter() - started
    assert result.ok and result.entries == count, result.findings
    ledger.close()
    return count / elapsed


def fresh_pg(base: str) -> str:
    name = f"ugc_bench_{random.randrange(16**8):08x}"
    with psycopg.connect(ADMIN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def drop_pg(url: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs (100k-entry ledger, fewer appends)")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    size = 100_000 if args.quick else 1_000_000
    solo, each = (500, 100) if args.quick else (3000, 500)
    lines: list[tuple[str, str, str]] = []
    load_at_start = os.getloadavg()[0]

    def report(name: str, value: str, target: str) -> None:
        print(f"{name:<58} {value:>14}   target {target}", flush=True)
        lines.append((name, value, target))

    with tempfile.TemporaryDirectory() as folder:
        for durability in ("full", "normal"):
            url = f"sqlite:///{folder}/append-{durability}.sqlite3"
            report(f"SQLite appends/s, 1 writer, durability={durability}",
                   f"{appends_per_second(url, durability, 1, solo):,.0f}", "≥ 2,000/s")
        for durability in ("full", "normal"):
            url = fresh_pg(args.postgres)
            try:
                report(f"PostgreSQL appends/s, 16 writer processes, durability={durability}",
                       f"{appends_per_second(url, durability, 16, each):,.0f}", "≥ 2,000/s")
            finally:
                drop_pg(url)
        started = time.perf_counter()
        rows, subjects, contents = synthetic_rows(size, size // 10)
        print(f"(built a {size:,}-entry chain in {time.perf_counter() - started:.1f} s)", flush=True)
        sqlite_url, pg_url = f"sqlite:///{folder}/big.sqlite3", fresh_pg(args.postgres)
        try:
            for label, url in (("SQLite", sqlite_url), ("PostgreSQL", pg_url)):
                started = time.perf_counter()
                bulk_load(url, rows)
                print(f"(bulk-loaded {label} in {time.perf_counter() - started:.1f} s)", flush=True)
                report(f"{label} verify, entries/s ({size:,} entries)", f"{verify_rate(url, size):,.0f}", "≥ 200,000/s")
                subject_median, subject_p95, content_median, content_p95 = lookups(url, subjects[:200], contents[:200])
                report(f"{label} subject history lookup, median / p95 ms", f"{subject_median:.2f} / {subject_p95:.2f}", "< 5 ms")
                report(f"{label} content-hash lookup (who granted what), median / p95 ms",
                       f"{content_median:.2f} / {content_p95:.2f}", "< 5 ms")
        finally:
            drop_pg(pg_url)
    table = "| Measure | Result | Target |\n|---|---:|---|\n" + "\n".join(f"| {a} | {b} | {c} |" for a, b, c in lines)
    load = os.getloadavg()[0]
    notes = NOTES.format(size=f"{size:,}", load=f"{load_at_start:.1f} at the start, {load:.1f} at the end")
    command = "python benchmarks/bench_ledger.py" + (" --quick" if args.quick else "")
    write_section("ledger", "Acceptance ledger", table + "\n\n" + notes, command)


NOTES = """Each append is a realistic terms acceptance. Its client evidence is sealed under the subject's
key, and the subject-status row is updated in the same transaction. Lookups go through the public
`Ledger` API, including decoding the entries, on a {size}-entry chain bulk-loaded for the run
(half acceptances, half submissions, 10 entries per subject). The machine is shared with other
work: the 1-minute load average was {load}.

What limits the figures:
- **SQLite, durability=full** is bounded by the disk's fsync latency. The chain is one sequence, so
  one commit must reach the disk before the next entry can be chained, and commits cannot overlap.
  **durability=normal** (`synchronous=NORMAL`) removes the wait and is bound by Python CPU per
  append. An OS crash may then drop the newest entries, but the chain is never broken or forked.
- **PostgreSQL, 16 writer processes on 2 cores** is CPU-bound: 16 Python writers and their 16
  server backends share 2 cores. An append costs about 0.9 ms of client CPU (psycopg's Python
  pipeline and cursor machinery is about half of it, then evidence hashing, sealing and canonical
  JSON) and about 0.6-0.7 ms of server CPU (the id and key read, the function with five index
  updates, the status upsert, the commit). That is ~1.5 ms per append, so 2 cores top out near
  1,300/s before lock hand-off costs. Each append makes two round trips: ids and key (no lock), then
  the function call, status upsert and COMMIT pipelined; the chain lock is held only inside that
  second one. With durability=full the lock is also held while the commit's WAL flush completes,
  so the disk's flush latency adds to every append's turn. More cores would raise the figure; more
  writers on the same cores would not.
- **Verify** cuts the chain into one (campaign, position) range per CPU and checks them in
  parallel processes (the caller takes the first range), each doing one JSON encode and one
  SHA-256 per entry on rows streamed from the driver. It is bound by CPU: Python per row, plus, on
  PostgreSQL, the server backends formatting and sending the rows on the same 2 cores.
"""


if __name__ == "__main__":
    main()
