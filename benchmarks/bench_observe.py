"""Per-request cost of ``observe:`` on a plain GET through UGCGuard, next to the same guard without it.

In-process ASGI calls (no server) of ``GET /`` answered by a bare Starlette app behind UGCGuard:
(a) no ``observe:`` section, (b) ``metrics: true``, (c) metrics and ``log: json`` (lines written to
/dev/null), (d) a refusal (``unknown-host``) with and without them. The cases alternate round by round; medians.

Run: python benchmarks/bench_observe.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import PlainTextResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from benchmarks._report import write_section  # noqa: E402
from tests.conftest import write_policy  # noqa: E402
from ugc_guard import UGCGuard  # noqa: E402
from ugc_guard.observe import JsonFormatter  # noqa: E402
from ugc_guard.observe.logs import REQUEST_LOGGER  # noqa: E402


async def _home(request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


def _scope(host: bytes) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": "/", "raw_path": b"/", "root_path": "", "query_string": b"", "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80), "headers": [(b"host", host), (b"user-agent", b"Mozilla/5.0 bench")]}


async def _run(app: Any, host: bytes, count: int) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    started = time.perf_counter()
    for _ in range(count):
        await app(_scope(host), receive, send)
    return (time.perf_counter() - started) / count * 1e6


def build(observe: dict[str, Any], folder: Path) -> UGCGuard:
    app = Starlette(routes=[Route("/", _home)])
    return UGCGuard(app, policy=write_policy(folder / "policy", {"observe": observe}), ledger=f"sqlite:///{folder / 'ledger.sqlite3'}")


def measure(guards: list[tuple[UGCGuard, bytes]], count: int, rounds: int) -> list[float]:
    """Interleave the cases round by round (a busy machine slows them alike); return each case's median."""
    for guard, host in guards:
        asyncio.run(_run(guard, host, max(count // 10, 10)))  # warm caches
    timings: list[list[float]] = [[] for _ in guards]
    for _ in range(rounds):
        for index, (guard, host) in enumerate(guards):
            timings[index].append(asyncio.run(_run(guard, host, count)))
    return [statistics.median(values) for values in timings]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer requests (a smoke run)")
    args = parser.parse_args()
    count, rounds = (500, 3) if args.quick else (3000, 15)
    logger = logging.getLogger(REQUEST_LOGGER)
    handler = logging.FileHandler("/dev/null")
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)  # ours: log: json then adds no stderr handler
    cases = [
        ("no observe section", {}, b"testserver"),
        ("metrics: true", {"metrics": True}, b"testserver"),
        ("metrics + log: json", {"metrics": True, "log": "json"}, b"testserver"),
        ("refusal (unknown-host), metrics + json log", {"metrics": True, "log": "json"}, b"elsewhere.example"),
        ("refusal (unknown-host), no observe section", {}, b"elsewhere.example"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        guards = [(build(observe, Path(tmp) / str(index)), host) for index, (_, observe, host) in enumerate(cases)]
        rows = list(zip([name for name, _, _ in cases], measure(guards, count, rounds), strict=True))
    base = rows[0][1]
    lines = ["| case | µs per request (median) | vs no observe |", "|---|---|---|"]
    for name, micro in rows:
        lines.append(f"| {name} | {micro:.1f} | {micro - base:+.1f} µs |" if not name.startswith("refusal") else f"| {name} | {micro:.1f} | |")
    table = "\n".join(lines)
    print(table)
    load = os.getloadavg()[0]
    print(f"load average (1 min) at the end: {load:.1f} on {os.cpu_count()} cores")
    write_section("observe", "observe: metrics and request logs per request", f"{count} in-process GET / per round, "
                  f"median of {rounds} rounds; load average {load:.1f} on {os.cpu_count()} cores when it ended "
                  f"(a busy machine inflates every figure alike).\n\n{table}\n", "python benchmarks/bench_observe.py")


if __name__ == "__main__":
    main()
