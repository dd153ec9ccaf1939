"""Start-up: importing ugc_guard, the command line's --help, and building the middleware for 100 policies.

Run: python -m benchmarks.bench_startup [--quick]

Each command runs in a fresh interpreter (``-I`` is not used: the venv's site-packages are needed),
rounds interleaved; the figure is the child's CPU time (user + system, from ``wait4``), so time other
processes hold the cores is not counted, with wall-clock time beside it. Starlette's own import is
the peer. The 100 policies are written by the tests' policy writer (each its own campaign and host)
and built in one process: loading the files (``load_policy``) and building ``UGCGuard`` are timed
apart. Writes the "startup" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._report import write_section  # noqa: E402

PYTHON = sys.executable
CLI = str(Path(sys.executable).with_name("ugc-guard"))
COMMANDS: dict[str, tuple[list[str], str]] = {
    "import starlette (peer)": ([PYTHON, "-c", "import starlette.applications"], "peer"),
    "import ugc_guard": ([PYTHON, "-c", "import ugc_guard"], "≤ 0.3 s"),
    "ugc-guard --help": ([CLI, "--help"], "≤ 0.3 s"),
    "from ugc_guard import UGCGuard (the middleware and every stage)": ([PYTHON, "-c", "from ugc_guard import UGCGuard"], "–"),
}
BUILD = """
import os, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
os.environ.setdefault("UGC_GUARD_SECRET", "bench-secret-" + "x" * 32)
from starlette.applications import Starlette
from tests.conftest import write_policy
from ugc_guard import UGCGuard, load_policy
folder = Path({folder!r})
paths = [write_policy(folder / f"p{{n}}", {{"campaign": {{"id": f"c{{n}}", "hosts": [f"c{{n}}.example"]}}}}) for n in range(100)]
started = time.process_time()
policies = [load_policy(path) for path in paths]
loaded = time.process_time()
UGCGuard(Starlette(), policies=policies)
print(loaded - started, time.process_time() - loaded)
"""


def child(command: list[str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run of ``command``."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{command} failed: {process.stderr.read().decode() if process.stderr else ''}")
    return usage.ru_utime + usage.ru_stime, wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    rounds = 3 if parser.parse_args().quick else 11
    load_before = os.getloadavg()[0]
    for command, _ in COMMANDS.values():
        child(command)  # warm the page cache and the .pyc files
    cpu: dict[str, list[float]] = {name: [] for name in COMMANDS}
    wall: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(rounds):
        for name, (command, _) in COMMANDS.items():
            seconds, elapsed = child(command)
            cpu[name].append(seconds)
            wall[name].append(elapsed)
    rows = ["| what | CPU s, median (min–max) | wall s, median | target / peer |", "|---|---:|---:|---|"]
    for name, (_, target) in COMMANDS.items():
        median = statistics.median(cpu[name])
        verdict = target if not target.startswith("≤") else f"{target}: {'met' if median <= 0.3 else 'NOT met'}"
        rows.append(f"| `{name}` | {median:.3f} ({min(cpu[name]):.3f}–{max(cpu[name]):.3f}) | {statistics.median(wall[name]):.3f} | {verdict} |")
    loads: list[float] = []
    builds: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        for number in range(rounds):
            script = BUILD.format(root=str(ROOT), folder=str(Path(folder) / str(number)))
            out = subprocess.run([PYTHON, "-c", script], capture_output=True, text=True, check=True).stdout.split()
            loads.append(float(out[0]))
            builds.append(float(out[1]))
    build = statistics.median(builds)
    rows += [
        f"| load 100 policy files (`load_policy` × 100) | {statistics.median(loads):.3f} ({min(loads):.3f}–{max(loads):.3f}) | – | – |",
        f"| build `UGCGuard` for 100 policies | {build:.3f} ({min(builds):.3f}–{max(builds):.3f}) | – "
        f"| ≤ 0.3 s: {'met' if build <= 0.3 else 'NOT met'} |",
        "",
        f"{rounds} interleaved rounds, each command in a fresh interpreter after one warm-up run. `import ugc_guard` loads "
        "its public names on first use (PEP 562) and `ugc-guard --help` lists the command groups from their summaries "
        "without importing them; a group's modules load when it runs. `from ugc_guard import UGCGuard` still imports "
        "every stage the middleware is built from (the pages import SQLAlchemy through the ledger, Jinja and the policy "
        "models), which is what an app pays once at start. "
        f"1-minute load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (2 cores, shared with other work).",
    ]
    body = "\n".join(rows)
    print(body)
    write_section("startup", "Start-up", body, "python -m benchmarks.bench_startup")


if __name__ == "__main__":
    main()
