"""Rights and retention speed: a subject export (1,000 entries) from a ledger of one million entries,
and a retention run over 100,000 due submissions (then a second run that finds nothing to do), on
SQLite and PostgreSQL. Writes section "rights" of docs/benchmarks.md.

    python benchmarks/bench_rights.py [--quick] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import write_section
from benchmarks.bench_ledger import bulk_load, drop_pg, fresh_pg, synthetic_rows
from tests.conftest import write_policy
from ugc_guard.ledger import ClientInfo, Ledger, LicenceGrant, PortraitGrant, SubmissionFacts, TermsShown
from ugc_guard.ledger.canonical import body_json, entry_hash, header_json, utc_text
from ugc_guard.pages.subjects import export_subject
from ugc_guard.policy import load_policy
from ugc_guard.retention import run_retention

SECRET = "bench-secret-" + "b" * 20
CAMPAIGN = "bench"
TERMS = TermsShown("terms", "1", "a" * 64, "en")
LICENCE = LicenceGrant("LicenseRef-bench", "1", "b" * 64, ("publish", "copy"), ("owns-rights",))
SUBJECT = "target-subject-000001"


def add_target_subject(url: str, entries: int) -> None:
    """Record the exported subject through the real API: one acceptance (2 entries) + submissions (3 each)."""
    ledger = Ledger(url, secret=SECRET, durability="normal")
    client = ClientInfo("198.51.100.7", "bench browser")
    acceptance = ledger.record_acceptance(CAMPAIGN, SUBJECT, TERMS, collection_method="click-wrap", policy_digest="p",
                                          client=client).entry_id
    for n in range((entries - 1) // 3):
        content = hashlib.sha256(f"target-{n}".encode()).hexdigest()
        ledger.record_submission(CAMPAIGN, SUBJECT, SubmissionFacts(content, 1000 + n, "image/jpeg", "image/jpeg", None, f"me-{n}.jpg"),
                                 LICENCE, PortraitGrant(True, True), acceptance_id=acceptance, client=client)
    ledger.close()


def export_times(url: str, runs: int = 7) -> tuple[float, float, int]:
    ledger = Ledger(url, secret=SECRET)
    export_subject(ledger, CAMPAIGN, SUBJECT)  # warm the pool and the schema check
    times, size = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        document = export_subject(ledger, CAMPAIGN, SUBJECT)
        times.append((time.perf_counter() - started) * 1000)
        size = len(document["entries"])
    ledger.close()
    return statistics.median(times), max(times), size


def submission_rows(count: int) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """A valid chain of ``count`` submissions uploaded 200 days ago, and their status-index rows."""
    rows: list[tuple[object, ...]] = []
    statuses: list[tuple[object, ...]] = []
    previous = ""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=200)
    for index in range(1, count + 1):
        subject = f"r{index % (count // 4 or 1):07d}"
        moment = start + dt.timedelta(milliseconds=index)
        content = hashlib.sha256(b"r" + index.to_bytes(8, "big")).hexdigest()
        payload = {"content_sha256": content, "size": index, "detected_type": "image/jpeg", "status": "accepted"}
        body = body_json(payload)
        header = header_json(index, CAMPAIGN, index, previous, "submission", subject, utc_text(moment), None, content, None, "accepted")
        digest = entry_hash(header, body)
        rows.append((index, CAMPAIGN, index, "submission", subject, moment, None, content, None, "accepted", body, previous, digest))
        statuses.append((index, CAMPAIGN, subject, "accepted", moment))
        previous = digest
    return rows, statuses


def load_statuses(url: str, statuses: list[tuple[object, ...]]) -> None:
    ledger = Ledger(url)
    engine = ledger._core.engine
    with engine.begin() as connection:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        if connection.dialect.name == "postgresql":
            with cursor.copy("COPY ledger_submission_status (submission_id, campaign, subject, status, updated_at) FROM STDIN") as copy:
                for row in statuses:
                    copy.write_row(row)
        else:
            cursor.executemany("INSERT INTO ledger_submission_status VALUES (?, ?, ?, ?, ?)",
                               [(*row[:4], row[4].strftime("%Y-%m-%d %H:%M:%S.%f")) for row in statuses])  # type: ignore[attr-defined]
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    ledger.close()


def retention_run(url: str, policy_path: Path) -> tuple[float, int, float, int, int, float]:
    policy = load_policy(policy_path)
    ledger = Ledger(url, secret=SECRET, durability="full")
    calls: list[int] = []

    def deliver(event: dict[str, Any]) -> None:  # the app's deletion hook, in process: what ugc_guard costs
        calls.append(len(event["files"]))

    started = time.perf_counter()
    first = run_retention(ledger, policy, deliver=deliver, batch=500)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    second = run_retention(ledger, policy, deliver=deliver, batch=500)
    second_s = time.perf_counter() - started
    started = time.perf_counter()
    verification = ledger.verify()
    verify_s = time.perf_counter() - started
    assert first.ok and verification.ok, verification.findings
    assert second.expired == 0 and second.due == []
    ledger.close()
    return first_s, first.expired, second_s, second.expired, len(calls), verify_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100k-entry ledger and 10k due submissions")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    size, due = (100_000, 10_000) if args.quick else (1_000_000, 100_000)
    lines: list[tuple[str, str, str]] = []
    load_at_start = os.getloadavg()[0]

    def report(name: str, value: str, target: str) -> None:
        print(f"{name:<66} {value:>16}   target {target}", flush=True)
        lines.append((name, value, target))

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        rows, _, _ = synthetic_rows(size - 1000, (size - 1000) // 10)
        print(f"(built a {len(rows):,}-entry chain in {time.perf_counter() - started:.1f} s)", flush=True)
        for label, url in (("SQLite", f"sqlite:///{folder}/export.sqlite3"), ("PostgreSQL", fresh_pg(args.postgres))):
            try:
                started = time.perf_counter()
                bulk_load(url, rows)
                add_target_subject(url, 1000)
                print(f"(loaded {label} in {time.perf_counter() - started:.1f} s)", flush=True)
                median, worst, entries = export_times(url)
                report(f"{label} export of a subject ({entries:,} entries; ledger {size:,}), median / max ms",
                       f"{median:.0f} / {worst:.0f}", "< 1 s")
            finally:
                if label == "PostgreSQL":
                    drop_pg(url)
        del rows
        policy_path = write_policy(Path(folder) / "policy", {"campaign": {"id": CAMPAIGN}, "secret": SECRET,
                                                             "retention": {"submissions": {"period": "P90D"}}})
        started = time.perf_counter()
        chain, statuses = submission_rows(due)
        print(f"(built {due:,} due submissions in {time.perf_counter() - started:.1f} s)", flush=True)
        for label, url in (("SQLite", f"sqlite:///{folder}/retention.sqlite3"), ("PostgreSQL", fresh_pg(args.postgres))):
            try:
                bulk_load(url, chain)
                load_statuses(url, statuses)
                first_s, expired, second_s, again, calls, verify_s = retention_run(url, policy_path)
                report(f"{label} retention run over {due:,} due submissions, s ({expired:,} expired, {calls} hook calls)",
                       f"{first_s:.1f} ({expired / first_s:,.0f}/s)", "finishes; < 5 min")
                report(f"{label} second run (nothing left to do), s", f"{second_s:.2f} ({again} expired)", "does nothing")
                report(f"{label} verify afterwards ({due * 3:,} entries), s", f"{verify_s:.1f}", "passes")
            finally:
                if label == "PostgreSQL":
                    drop_pg(url)
    table = "| Measure | Result | Target |\n|---|---:|---|\n" + "\n".join(f"| {a} | {b} | {c} |" for a, b, c in lines)
    notes = NOTES.format(size=f"{size:,}", due=f"{due:,}",
                         load=f"{load_at_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    write_section("rights", "Privacy rights and retention", table + "\n\n" + notes,
                  "python benchmarks/bench_rights.py" + (" --quick" if args.quick else ""))


NOTES = """The export ledger is the {size}-entry chain of the ledger benchmark (bulk-loaded) plus one subject
recorded through the real API: one acceptance and 333 submissions with their grants, 1,000 entries
with sealed client evidence and file names. The export is `ugc_guard.pages.subjects.export_subject`,
which is what `GET {{prefix}}/me/export` and `ugc-guard subject export` run. The retention ledger holds
{due} submissions uploaded 200 days ago under a `submissions: P90D` rule, with their status-index
rows. The run uses an in-process deletion hook, so the figure is what ugc_guard costs, not the app's
file deletion. Durability is `full`. The 1-minute load average was {load}.

What limits the figures:
- **Export** is one index range scan on `(subject, id)` (paged by 10,000), one key unwrap, and one
  AES-GCM open plus one JSON decode per entry with personal fields. It does not depend on the size of
  the ledger, only on the subject's number of entries, and it is Python CPU-bound.
- **Retention** appends two entries per expired submission (the retention action and the `expired`
  status), 1,000 per transaction. Each entry is hashed into the chain, so the chain's single writer
  bounds it. Per batch it costs one candidate query (a seek on the status index by campaign, status and
  id, limit pushed down), one `mark_used` lookup, one hook call, one append and one status update. With a webhook, add one HTTP
  round trip per 500 files. A second run reads only the status index, where expired submissions are
  skipped, so it finds nothing and costs one short query.
"""


if __name__ == "__main__":
    main()
