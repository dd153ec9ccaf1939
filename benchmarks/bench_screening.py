"""Screening speed and memory: python -m benchmarks.bench_screening [--quick]

1. Throughput for one 200 MB video and for 1,000 two-megabyte JPEGs through the real middleware
   (screening stage only, replay drained by the app), each as a ratio to plain hashlib.sha256 over
   the same bytes in the same run (target for the large file: at least 0.5).
2. Peak resident memory growth while a 100 MB and a 1 GB upload stream through (each in its own
   subprocess; target: at most 32 MB, the same for both).
3. Event-loop health: p99 latency of plain GET requests over a real uvicorn socket, idle and with
   20 uploads in flight (target: within 5x idle).
Writes the "screening" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("UGC_GUARD_SECRET", "bench-secret-" + "x" * 32)

from benchmarks._report import write_section  # noqa: E402

GRANTS = {"ugc_licence": "accept", "ugc_portrait_self": "accept", "ugc_portrait_others": "none"}
BOUNDARY = "benchboundary7d3f"
CHUNK = 64 * 1024  # what uvicorn hands an app per message, roughly


def write_bench_policy(folder: Path, strip_metadata: bool = True, temp_dir: str | None = None) -> Path:
    from tests.conftest import write_policy

    limits = {"max_total_bytes": "3GiB", "max_file_bytes": "3GiB", "deadline": "PT1H"}
    return write_policy(
        folder,
        {"campaign": {"hosts": ["testserver", "127.0.0.1"]},  # the latency test goes over a real socket
         "uploads": {"routes": [{"path": "/upload", "limits": limits}], "images": {"strip_metadata": strip_metadata},
                     "content_types": ["image/jpeg", "video/mp4"], **({"temp_dir": temp_dir} if temp_dir else {})}},
    )  # fmt: skip


async def _record(ctx: Any, screened: Any) -> Any:
    from ugc_guard.screening import Submission

    first = screened.files[0]
    return Submission(str(uuid.uuid4()), first.sha256, first.type, first.size, screened.grants)


def build_app(policy_path: Path, fast: bool = False) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from ugc_guard import UGCGuard
    from ugc_guard.screening import ScreeningStage

    async def upload(request: Request) -> PlainTextResponse:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return PlainTextResponse(str(size))

    async def take_screened(request: Request) -> PlainTextResponse:  # the fast path: the body is never read
        item = request.state.ugc.files[0]
        kept = Path(await item.save_async(Path(tempfile.gettempdir()) / f"ugc-bench-kept-{uuid.uuid4()}"))
        await anyio.to_thread.run_sync(kept.unlink)
        return PlainTextResponse(item.delivered_hash)

    async def ping(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    routes = [Route("/upload", take_screened if fast else upload, methods=["POST"]), Route("/ping", ping)]
    guard = UGCGuard(Starlette(routes=routes), policy=policy_path)
    site = guard.sites[0]
    guard.stages[site] = [ScreeningStage(site.policy, record=_record)]
    return guard


def form_parts(filename: str, content_type: str, size: int) -> tuple[bytes, bytes, int]:
    """Return (head, tail, total length) of a form whose file part has ``size`` bytes."""
    head = (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    tail = b"".join(
        f"\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}".encode() for name, value in GRANTS.items()
    ) + f"\r\n--{BOUNDARY}--\r\n".encode()
    return head, tail, len(head) + size + len(tail)


def mp4_stream(size: int) -> Iterator[bytes]:
    """An MP4 of ``size`` bytes: a real H.264/AAC clip (screening decodes it) and a large ``free`` box of
    random-looking data, generated chunk by chunk."""
    from tests.screening.samples import mp4

    clip = mp4(0)
    free_len = size - len(clip)
    header = clip + (1).to_bytes(4, "big") + b"free" + free_len.to_bytes(8, "big")
    yield header
    block = random.Random(7).randbytes(CHUNK)
    remaining = size - len(header)
    while remaining > 0:
        piece = block[: min(CHUNK, remaining)]
        remaining -= len(piece)
        yield piece


def drive(app: Any, chunks: Iterator[bytes], length: int) -> int:
    """One POST /upload through the ASGI app; return the status."""
    statuses: list[int] = []
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/upload", "raw_path": b"/upload", "root_path": "", "query_string": b"", "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
        "headers": [(b"host", b"testserver"), (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
                    (b"content-length", str(length).encode())],
    }  # fmt: skip
    source = iter(chunks)
    pending: list[bytes] = []

    async def receive() -> dict[str, Any]:
        chunk = pending.pop() if pending else next(source, None)
        if chunk is None:
            await anyio.sleep_forever()
        following = next(source, None)
        if following is not None:
            pending.append(following)
        return {"type": "http.request", "body": chunk, "more_body": following is not None}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    anyio.run(app, scope, receive, send)
    return statuses[0]


def rechunk(parts: list[bytes]) -> Iterator[bytes]:
    for part in parts:
        for start in range(0, len(part), CHUNK):
            yield part[start : start + CHUNK]


def big_video(app: Any, size: int, runs: int = 3) -> tuple[float, float]:
    """Best of ``runs`` for each side (the machine may be shared; the best run is the least disturbed)."""
    head, tail, length = form_parts("clip.mp4", "video/mp4", size)
    video = b"".join(mp4_stream(size))
    plain = screened = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        hashlib.sha256(video).hexdigest()
        plain = min(plain, time.perf_counter() - started)
        started = time.perf_counter()
        status = drive(app, rechunk([head, video, tail]), length)
        screened = min(screened, time.perf_counter() - started)
        assert status == 200, status
    return plain, screened


def photo(size_bytes: int = 2 * 1024 * 1024) -> bytes:
    from PIL import Image

    side = 1000
    while True:
        image = Image.frombytes("RGB", (side, side), random.Random(side).randbytes(side * side * 3))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80)
        if out.tell() >= size_bytes * 0.95:
            return out.getvalue()
        side += 100


def many_photos(app: Any, count: int) -> tuple[float, float, int]:
    jpeg = photo()
    head, tail, length = form_parts("photo.jpg", "image/jpeg", len(jpeg))
    started = time.perf_counter()
    for _ in range(count):
        hashlib.sha256(jpeg).hexdigest()
    plain = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(count):
        assert drive(app, rechunk([head, jpeg, tail]), length) == 200
    return plain, time.perf_counter() - started, len(jpeg)


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def memory_child(size: int, folder: str) -> None:
    """In a subprocess: stream one ``size``-byte upload, print the growth of peak RSS in KiB."""
    app = build_app(write_bench_policy(Path(folder)))
    head, tail, length = form_parts("warm.mp4", "video/mp4", 4 * 1024 * 1024)
    drive(app, iter([head, *mp4_stream(4 * 1024 * 1024), tail]), length)  # warm up imports, threads, libmagic
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before_rss, before_hwm = _status_kib("VmRSS"), _status_kib("VmHWM")
    head, tail, length = form_parts("big.mp4", "video/mp4", size)
    assert drive(app, iter([head, *mp4_stream(size), tail]), length) == 200
    print(before_rss, before_hwm, _status_kib("VmHWM"))


def measure_memory(size: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        output = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_screening", "--memory-child", str(size), folder],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout.split()  # fmt: skip
    before_rss, before_hwm, after_hwm = (int(value) for value in output[-3:])
    return after_hwm - max(before_rss, before_hwm)


def serve(port: int, folder: str) -> None:
    import uvicorn

    uvicorn.run(build_app(write_bench_policy(Path(folder))), host="127.0.0.1", port=port, log_level="warning", lifespan="off")


def load(port: int, seconds: float, workers: int) -> None:
    """In a subprocess: keep ``workers`` uploads of a 2 MB JPEG in flight for ``seconds``."""
    jpeg = photo()
    head, tail, _length = form_parts("photo.jpg", "image/jpeg", len(jpeg))
    body = head + jpeg + tail
    deadline = time.monotonic() + seconds
    done = [0]

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port)
        while time.monotonic() < deadline:
            connection.request("POST", "/upload", body, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
            response = connection.getresponse()
            response.read()
            done[0] += 1
            if response.status != 200:  # a refused upload costs the server nothing: the figure would lie
                print(f"upload answered {response.status}", file=sys.stderr, flush=True)
                os._exit(1)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(done[0])


def latencies(port: int, count: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    result = []
    for _ in range(count):
        started = time.perf_counter()
        connection.request("GET", "/ping")
        response = connection.getresponse()
        response.read()
        result.append(time.perf_counter() - started)
        if response.status != 200:
            raise SystemExit(f"GET /ping answered {response.status}, not 200")
        time.sleep(0.005)
    return result


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def event_loop(count: int, workers: int) -> tuple[float, float, float, float, str]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as folder:
        server = subprocess.Popen([sys.executable, "-m", "benchmarks.bench_screening", "--serve", str(port), folder], cwd=ROOT)
        try:
            for _ in range(300):
                try:
                    latencies(port, 1)
                    break
                except OSError:
                    time.sleep(0.1)
            latencies(port, 50)
            idle = latencies(port, count)
            loader = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.bench_screening", "--load", str(port), "3600", str(workers)],
                cwd=ROOT, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            time.sleep(3.0)  # let the uploads get going
            busy = latencies(port, count)
            if loader.poll() is not None:
                raise SystemExit("the upload load stopped early (see its message above): the busy figures are void")
            loader.kill()
            loader.wait()
        finally:
            server.terminate()
            server.wait()
    return statistics.median(idle), p99(idle), statistics.median(busy), p99(busy), f"{workers} uploads of a 2 MB JPEG in flight"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs (50 JPEGs, 300 MB instead of 1 GB)")
    parser.add_argument("--memory-child", nargs=2, metavar=("SIZE", "FOLDER"), help=argparse.SUPPRESS)
    parser.add_argument("--serve", nargs=2, metavar=("PORT", "FOLDER"), help=argparse.SUPPRESS)
    parser.add_argument("--load", nargs=3, metavar=("PORT", "SECONDS", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        return memory_child(int(args.memory_child[0]), args.memory_child[1])
    if args.serve:
        return serve(int(args.serve[0]), args.serve[1])
    if args.load:
        return load(int(args.load[0]), float(args.load[1]), int(args.load[2]))

    load_before = os.getloadavg()[0]
    photos = 50 if args.quick else 1000
    large_memory = 300 * 1024**2 if args.quick else 1024**3
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        spools = [("system temp folder (disk)", None)] + ([("tmpfs, temp_dir: /dev/shm", "/dev/shm")] if Path("/dev/shm").is_dir() else [])
        for where, temp_dir in spools:
            for fast in (False, True):
                app = build_app(write_bench_policy(Path(folder) / f"video-{temp_dir is None}-{fast}", temp_dir=temp_dir), fast=fast)
                plain, screened = big_video(app, 200 * 1024**2)
                figures = f"{200 / screened:.0f} MB/s | {200 / plain:.0f} MB/s | **{plain / screened:.2f}**"
                app_does = "the app takes the screened file (fast path)" if fast else "the app drains the replayed body"
                verdict = "met" if plain / screened >= 0.5 else "NOT met"
                rows.append(f"| one 200 MB MP4, spooled to {where}; {app_does} | {figures} | ≥ 0.5: {verdict} |")
                print(rows[-1], flush=True)
        for strip in (True, False):
            app = build_app(write_bench_policy(Path(folder) / f"photos-{strip}", strip_metadata=strip))
            plain, screened, size = many_photos(app, photos)
            total = photos * size / 1024**2
            mode = "metadata stripped losslessly (strip_metadata)" if strip else "decoded, not cleaned"
            label = f"{photos} JPEGs of {size / 1024**2:.1f} MB, {mode}"
            figures = f"{total / screened:.0f} MB/s ({photos / screened:.1f}/s) | {total / plain:.0f} MB/s | {plain / screened:.3f}"
            rows.append(f"| {label} | {figures} | — |")
            print(rows[-1], flush=True)
    small = measure_memory(100 * 1024**2)
    large = measure_memory(large_memory)
    memory_rows = [
        f"| 100 MB | {small / 1024:.1f} MB | ≤ 32 MB |",
        f"| {large_memory // 1024**2} MB | {large / 1024:.1f} MB | ≤ 32 MB, same as 100 MB |",
    ]
    print(*memory_rows, sep="\n", flush=True)
    idle50, idle99, busy50, busy99, load_label = event_loop(200 if args.quick else 500, 20)
    loop_rows = [
        f"| idle | {idle50 * 1000:.2f} ms | {idle99 * 1000:.2f} ms | |",
        f"| {load_label} | {busy50 * 1000:.2f} ms | {busy99 * 1000:.2f} ms | **{busy99 / idle99:.1f}×** idle p99 (target ≤ 5×) |",
    ]
    print(*loop_rows, sep="\n", flush=True)
    body = "\n".join(
        [
            "Throughput through the real middleware (screening stage only; the app drains the replayed body, or takes the "
            "screened file from `request.state.ugc` without reading the body: README \"Fast path\"), as a ratio to "
            "`hashlib.sha256` over the same bytes in the same run (best of 3 runs each):",
            "",
            "| input | screening | sha256 alone | ratio | target |",
            "|---|---|---|---|---|",
            *rows,
            "",
            "Peak resident memory growth (VmHWM, reset before the upload) while one upload streams through, each in its own process:",
            "",
            "| upload | growth | target |",
            "|---|---|---|",
            *memory_rows,
            "",
            "Plain `GET` latency over a real uvicorn socket (libmagic, Pillow and hashing run in worker threads):",
            "",
            "| load | p50 | p99 | |",
            "|---|---|---|---|",
            *loop_rows,
            "",
            f"1-minute load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (2 cores, shared "
            "with other work; the socket test's load generator and probe run on the same cores).",
            "",
            "What limits the large-file ratio: the screening does sha256 over the file part plus, per byte, a copy into "
            "the batch buffer and multipart parsing on the event loop, a copy into the page cache (worker thread, "
            "beside the hash) and, unless the app takes the fast path, a read back when the body is replayed to it; "
            "about 2-3x the CPU of sha256 alone, on 2 cores shared with everything else. The page-cache copy is the variable part: on this VM a "
            "page the file has never used costs a fault to the host, so writing a new 200 MB file runs at 0.8-4.6 GB/s "
            "from run to run (overwriting an existing one at ~8 GB/s), and tmpfs is no faster for new pages. "
            "A spool thread needs the GIL to begin its batch, and the event loop parsing the next 4 MiB holds it: past "
            "4 MiB the loop therefore waits until the batch's threads have started (the wait hands the GIL over; "
            "`spool._Handover`), so hashing and writing run beside the parsing, not after it (measured alone, a 200 MB "
            "upload went from a median 0.26 to 0.37 of sha256's speed). The sha256 peer itself runs at 1.1-1.7 GB/s "
            "from one run of this VM to the next. GET latency under photo uploads: both cores are busy with the "
            "uploads (multipart parsing, the active-content scan, hashing, the ledger) and the load generator, so a "
            "GET waits its turn on the event loop; the idle p99 it is compared with is a quiet machine's.",
        ]
    )
    command = "python -m benchmarks.bench_screening" + (" --quick" if args.quick else "")
    write_section("screening", "Upload screening", body, command)


if __name__ == "__main__":
    main()
