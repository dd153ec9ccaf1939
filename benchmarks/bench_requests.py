"""Per-request cost of UGCGuard on a plain GET, next to a bare app and slowapi, in one run.

In-process ASGI calls (no server): (a) a bare Starlette app, (b) slowapi's pure-ASGI middleware
with one limit, (c) the bare app behind UGCGuard with agent classification and one limit — the
full pipeline, and only this issue's two stages. Then agent classification alone, and over a real
socket (uvicorn + wrk on loopback) the guarded/bare requests-per-second ratio.

Run: python benchmarks/bench_requests.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
LIMIT = "1000000/minute"
POLICY = {
    "campaign": {"hosts": ["testserver", "127.0.0.1"]},
    "rate_limits": {"strategy": "fixed-window", "rules": [{"name": "pages", "limit": LIMIT}]},
}


async def _home(request: Request) -> PlainTextResponse:
    return PlainTextResponse("hello")


def bare_app() -> Starlette:
    return Starlette(routes=[Route("/", _home)])


def slowapi_app() -> Any:
    from slowapi import Limiter
    from slowapi.middleware import SlowAPIASGIMiddleware
    from slowapi.util import get_remote_address

    app = bare_app()
    app.state.limiter = Limiter(key_func=get_remote_address, default_limits=[LIMIT])
    app.add_middleware(SlowAPIASGIMiddleware)  # slowapi reads scope["app"], which Starlette sets
    return app


def guarded_app(folder: Path, *, only_this_issue: bool = False) -> Any:
    from ugc_guard.middleware import UGCGuard
    from ugc_guard.ratelimit import RateLimitStage
    from ugc_guard.scraping import ScrapingStage

    guard = UGCGuard(bare_app(), policy=str(write_policy(folder, POLICY)))
    if only_this_issue:
        for site in guard.sites:
            guard.stages[site] = [stage for stage in guard.stages[site] if isinstance(stage, ScrapingStage | RateLimitStage)]
    return guard


def onscreen_app(folder: Path) -> Any:
    """The bare app behind the shipped example policy, policies/onscreen.yaml, as it ships (moving window, 120/minute)."""
    from ugc_guard.middleware import UGCGuard

    os.environ["UGC_GUARD_LEDGER"] = f"sqlite:///{folder}/ledger.sqlite3"
    folder.mkdir(parents=True, exist_ok=True)
    return UGCGuard(bare_app(), policy=str(REPO / "policies" / "onscreen.yaml"))


CLIENTS = [f"10.{n // 65536}.{n // 256 % 256}.{n % 256}" for n in range(4096)]
"""Callers take turns from 4,096 addresses: each stays under the shipped 120/minute, so every answer is a 200 and every
moving window holds up to ~100 entries, as a busy real one does (1/4,096 of the requests)."""
_turn = 0


def _scope() -> dict[str, Any]:
    global _turn
    _turn = (_turn + 1) % len(CLIENTS)
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"user-agent", BROWSER.encode()), (b"accept", b"text/html")],
        "client": (CLIENTS[_turn], 50000), "server": ("127.0.0.1", 80),
    }


async def _interleaved(apps: dict[str, Any], calls: int, rounds: int) -> dict[str, list[float]]:
    """µs per call of each app in each of ``rounds``, taking turns round by round so machine noise hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(rounds):
        for name, app in apps.items():
            samples[name].append(await _per_call(app, calls, 1))
    return samples


def _spread(values: list[float]) -> str:
    return f"{min(values):.1f}–{max(values):.1f}"


async def _per_call(app: Any, calls: int, rounds: int) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(calls):
            await app(_scope(), receive, send)
        best = min(best, (time.process_time() - started) / calls)
    if set(statuses) != {200}:
        raise SystemExit(f"benchmark app answered {sorted(set(statuses))}, not only 200")
    return best * 1e6


def classification_cost(calls: int) -> tuple[float, float]:
    from ugc_guard.scraping.agents import SCRAPING_TOOLS, SEARCH_BOTS, AgentMatcher, ai_agent_tokens

    matcher = AgentMatcher(ai_crawlers=ai_agent_tokens(), scraping_tools=SCRAPING_TOOLS, search_bots=SEARCH_BOTS)
    started = time.perf_counter()
    for _ in range(calls):
        matcher.classify(BROWSER)
    cached = (time.perf_counter() - started) / calls * 1e6
    agents = [f"{BROWSER} build/{number}" for number in range(calls // 10)]
    started = time.perf_counter()
    for agent in agents:
        matcher.classify(agent)
    uncached = (time.perf_counter() - started) / len(agents) * 1e6
    return cached, uncached


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(kind: str, port: int, folder: str) -> None:
    import uvicorn

    app = bare_app() if kind == "bare" else guarded_app(Path(folder))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _wrk(kind: str, seconds: int, folder: Path) -> float:
    port = _free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port), "--folder", str(folder)])
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        output = subprocess.run(
            ["wrk", "-t2", "-c32", f"-d{seconds}s", "-H", f"User-Agent: {BROWSER}", f"http://127.0.0.1:{port}/"],
            capture_output=True, text=True, check=True,
        ).stdout
        if "Non-2xx" in output:
            raise SystemExit(f"{kind}: wrk saw non-2xx answers:\n{output}")
        return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer calls and shorter wrk runs")
    parser.add_argument("--serve", choices=["bare", "guarded"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--folder")
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve, args.port, args.folder)
        return
    calls, rounds, seconds = (5_000, 3, 3) if args.quick else (5_000, 21, 8)
    load_before = os.getloadavg()[0]
    folder = Path(tempfile.mkdtemp(prefix="ugc-bench-"))
    apps: dict[str, Callable[[], Any]] = {
        "bare": bare_app,
        "slowapi": slowapi_app,
        "ugc_guard (full pipeline)": lambda: guarded_app(folder / "full"),
        "ugc_guard, shipped policies/onscreen.yaml (moving window)": lambda: onscreen_app(folder / "onscreen"),
        "ugc_guard (scraping + rate-limit stages only)": lambda: guarded_app(folder / "mine", only_this_issue=True),
    }
    samples = asyncio.run(_interleaved({name: build() for name, build in apps.items()}, calls, rounds))
    timings = {name: statistics.median(values) for name, values in samples.items()}
    bare = timings["bare"]
    # the added cost per round (each app's round minus the bare app's round just before it): its spread
    added = {name: [value - base for value, base in zip(values, samples["bare"], strict=True)] for name, values in samples.items()}
    rows = [
        "| app | µs per request, median (min–max) | added over bare, median (min–max) | target / peer |", "|---|---:|---:|---|",
        f"| bare Starlette | {bare:.1f} ({_spread(samples['bare'])}) | – | – |",
        f"| slowapi SlowAPIASGIMiddleware, one fixed-window limit | {timings['slowapi']:.1f} ({_spread(samples['slowapi'])}) | "
        f"{timings['slowapi'] - bare:.1f} ({_spread(added['slowapi'])}) | peer |",
    ]
    for name in list(apps)[2:]:
        extra = timings[name] - bare
        label = name if "onscreen" in name else f"{name}, one fixed-window limit"
        verdict = f"≤ 10 µs: {'met' if extra <= 10 else 'NOT met'}; goal ≤ 5 µs: {'met' if extra <= 5 else 'not met'}"
        rows.append(f"| {label} | {timings[name]:.1f} ({_spread(samples[name])}) | {extra:.1f} ({_spread(added[name])}) | {verdict} |")
    cached, uncached = classification_cost(calls * 10)
    rows += [
        "", "| agent classification (full list) | µs per request | target |", "|---|---:|---|",
        f"| repeated agent string (LRU cache hit) | {cached:.2f} | ≤ 3 µs: {'met' if cached <= 3 else 'NOT met'} |",
        f"| every string new (no cache) | {uncached:.2f} | ≤ 3 µs: {'met' if uncached <= 3 else 'NOT met'} |",
    ]
    if shutil.which("wrk"):
        # alternate: the machine may be shared with other work; keep each one's best run and each pair's ratio
        bare_runs: list[float] = []
        guarded_runs: list[float] = []
        for _ in range(2 if args.quick else 3):
            bare_runs.append(_wrk("bare", seconds, folder / "srv"))
            guarded_runs.append(_wrk("guarded", seconds, folder / "srv"))
        ratio = max(guarded_runs) / max(bare_runs)
        paired = statistics.median(guarded / bare for guarded, bare in zip(guarded_runs, bare_runs, strict=True))
        rows += [
            "", f"Over a socket (uvicorn, 1 worker, wrk -t2 -c32 -d{seconds}s, loopback, {len(bare_runs)} alternating runs each; "
            "wrk shares the 2 cores with the server):", "",
            "| app | best requests/s | all runs |", "|---|---:|---|",
            f"| bare | {max(bare_runs):.0f} | {', '.join(f'{run:.0f}' for run in bare_runs)} |",
            f"| ugc_guard (full pipeline) | {max(guarded_runs):.0f} | {', '.join(f'{run:.0f}' for run in guarded_runs)} |",
            f"| ratio guarded/bare, best runs | {ratio:.2f} (target ≥ 0.85: {'met' if ratio >= 0.85 else 'NOT met'}) | |",
            f"| ratio guarded/bare, median of the paired runs | {paired:.2f} | |",
        ]
    else:
        rows += ["", "wrk not installed: socket figures skipped."]
    rows += [
        "",
        f"In-process figures are CPU time of this process (`time.process_time`: time other processes hold the cores is not counted), "
        f"medians of {rounds} interleaved rounds of {calls:,} calls, (min–max) over the rounds. 1-minute load average "
        f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (2 cores, shared with other work). "
        "Every app sees the same requests: a plain `GET /` from a browser agent, callers taking turns from 4,096 client "
        "addresses (slowapi counts them per address too). On such a GET the guard adds: the rate-limit stage (one "
        "synchronous call into the memory storage: a fixed-window count, or for the shipped policy's moving window "
        "`limits`' own per-client entries, cut to the limit, read and taken in one pass; then the RateLimit headers), "
        "agent classification (an LRU cache hit), the subject-cookie, pages, upload-gate and screening stages that "
        "return at once on a GET, the host and route lookups, and the `send` wrapper that adds the response headers. "
        "The moving window costs more than a fixed window mostly in memory traffic: 4,096 clients × up to 120 entries, "
        "so the list a request touches is rarely in cache (measured alone: 0.4 µs for one client, 0.9 µs across 4,096). "
        "Over a socket every guarded response carries five more headers (the no-AI signals and RateLimit), which uvicorn "
        "checks and serialises in Python and wrk parses, on the same two cores.",
    ]
    body = "\n".join(rows)
    print(body)
    write_section("requests", "Requests: ugc_guard vs bare Starlette and slowapi", body,
                  "python benchmarks/bench_requests.py" + (" --quick" if args.quick else ""))


if __name__ == "__main__":
    os.environ.setdefault("UGC_GUARD_SECRET", "benchmark-secret-" + "x" * 32)
    main()
