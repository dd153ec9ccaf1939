"""Secret rotation speed: ``keys rotate`` (Ledger.rewrap_subject_keys) over 100,000 subject keys wrapped
with the old secret, then a second run that finds every key current, on SQLite and PostgreSQL; and what
one failed unwrap try costs (the price of listing an old secret). Writes section "rotate" of
docs/benchmarks.md.

    python benchmarks/bench_rotate.py [--quick] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import write_section
from benchmarks.bench_ledger import drop_pg, fresh_pg
from ugc_guard.ledger import Ledger
from ugc_guard.ledger.crypto import Sealer
from ugc_guard.ledger.models import SubjectKey

OLD, NEW = b"bench-old-secret-" + b"o" * 16, b"bench-new-secret-" + b"n" * 16
CAMPAIGN = "bench"


def fill(url: str, count: int) -> None:
    """Insert ``count`` subject keys wrapped with the old secret (as a ledger that never rotated has them)."""
    ledger = Ledger(url, secret=OLD, durability="normal")
    ledger.upgrade()
    sealer = Sealer([OLD])
    now = dt.datetime.now(dt.UTC)
    with ledger._core.engine.begin() as connection:
        for start in range(0, count, 10_000):
            rows = [{"campaign": CAMPAIGN, "subject": f"s{n:08d}", "wrapped_key": sealer.new_key(CAMPAIGN, f"s{n:08d}")[1],
                     "created_at": now, "erased_at": None} for n in range(start, min(count, start + 10_000))]
            connection.execute(SubjectKey.__table__.insert(), rows)
    ledger.close()


def rotate(url: str) -> tuple[float, float, int]:
    """Return seconds of the first run, of the second run, and how many keys the first re-wrapped."""
    ledger = Ledger(url, secret=[NEW, OLD])
    started = time.perf_counter()
    first = ledger.rewrap_subject_keys()
    middle = time.perf_counter()
    second = ledger.rewrap_subject_keys()
    ended = time.perf_counter()
    ledger.close()
    assert second.rewrapped == 0 and second.current == first.rewrapped
    return middle - started, ended - middle, first.rewrapped


def unwrap_costs() -> tuple[float, float]:
    """Median microseconds of an unwrap by the first listed secret and by the second (one failed try first)."""
    _, wrapped = Sealer([OLD]).new_key(CAMPAIGN, "s")
    first, second = Sealer([OLD]), Sealer([NEW, OLD])
    runs = 20_000

    def median(sealer: Sealer) -> float:
        return statistics.median(timeit.repeat(lambda: sealer.unwrap(CAMPAIGN, "s", wrapped), number=runs, repeat=5)) / runs * 1e6

    return median(first), median(second)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 keys instead of 100,000")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    count = 10_000 if args.quick else 100_000
    lines = []
    with tempfile.TemporaryDirectory() as folder:
        for name, url in (("SQLite", f"sqlite:///{folder}/rotate.sqlite3"), ("PostgreSQL", fresh_pg(args.postgres))):
            try:
                fill(url, count)
                first, second, rewrapped = rotate(url)
            finally:
                if name == "PostgreSQL":
                    drop_pg(url)
            million = first / rewrapped * 1_000_000 / 60
            lines.append(f"| {name} | {rewrapped:,} | {first:.1f} s ({rewrapped / first:,.0f} keys/s) | {second:.1f} s | "
                         f"{million:.1f} min |")
            print(lines[-1], flush=True)
    own, other = unwrap_costs()
    body = (
        f"`keys rotate` over {count:,} subject keys wrapped with the old secret (batches of 500, one transaction each, "
        "a compare-and-swap update per key), then again when all are current:\n\n"
        "| ledger | keys re-wrapped | first run | second run (nothing to do) | 1,000,000 keys at that rate |\n"
        "|---|---|---|---|---|\n" + "\n".join(lines) + "\n\n"
        f"Unwrapping a subject key (median): {own:.1f} µs with the first listed secret, {other:.1f} µs with the second "
        f"(one failed AES-GCM try first: {other - own:.1f} µs). Listing an old secret costs that much per key read "
        "until `keys rotate` ran. Limit: none; rotation runs beside the site and each batch holds its locks briefly."
    )
    print(body)
    write_section("rotate", "Secret rotation (keys rotate)", body,
                  "python benchmarks/bench_rotate.py" + (" --quick" if args.quick else ""))


if __name__ == "__main__":
    main()
