"""Faults under a running site: PostgreSQL stopped and restarted, Redis stopped (fail open and fail
closed), a uvicorn worker killed mid-upload, a full disk for temporary files. Writes docs/reliability.md.

    python benchmarks/faults.py [--only postgres,redis,worker,disk] [--fuzz-seconds 60] [--no-write]

Each fault runs the example site (``uvicorn --workers 2``) on servers of its own: a private
PostgreSQL (initdb in a temp folder, a free port, run as the ``postgres`` user when root) and a
private Redis; the machine's shared servers are never touched. The full disk is a small tmpfs
mounted as ``uploads.temp_dir`` (root), or else RLIMIT_FSIZE on the server. Each scenario returns a
:class:`FaultOutcome` with what was observed; ``tests/proof/test_faults.py`` asserts on the same
functions. Exit status 1 when an expectation does not hold.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import git_revision, machine
from benchmarks._services import PrivatePostgres, PrivateRedis, SmallDisk
from benchmarks.proof import media
from benchmarks.proof.checks import check_run
from benchmarks.proof.clients import Recorder, UploadRecord, accept_json, new_client, upload
from benchmarks.proof.site import BROWSER_UA, SECRET, Site, write_policy
from ugc_guard.ledger import Ledger

DOC = Path(__file__).resolve().parent.parent / "docs" / "reliability.md"


@dataclass
class FaultOutcome:
    name: str
    setup: str
    expectation: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    """(phase or request, what was observed)."""
    problems: list[str] = field(default_factory=list)
    """Expectations that did not hold."""
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.problems

    def markdown(self) -> str:
        lines = [f"## {self.name}", "", f"**Setup.** {self.setup}", "", f"**Expected.** {self.expectation}", "",
                 "| phase | observed |", "|---|---|"]
        lines += [f"| {phase} | {seen} |" for phase, seen in self.rows]
        lines += ["", "**Outcome: " + ("as expected.**" if self.passed else "NOT as expected.**")]
        lines += [f"- {problem}" for problem in self.problems]
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines)


def _count(records: list[UploadRecord]) -> str:
    counts = Counter(f"{r.status} {r.code}" if r.code else str(r.status) for r in records)
    return ", ".join(f"{key}: {value}" for key, value in sorted(counts.items())) or "none"


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ugc-faults-") as folder:
        yield Path(folder)


def _new_database(pg: PrivatePostgres) -> str:
    import psycopg

    name = f"faults_{random.randrange(16**8):08x}"
    with psycopg.connect(f"host=127.0.0.1 port={pg.port} user=postgres dbname=postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:{pg.port}/{name}"


def _site(root: Path, ledger: str, rate_limits: str, *, temp_dir: Path | None = None, workers: int = 2,
          overrides: dict[str, Any] | None = None, preexec: Any = None) -> tuple[Site, Path, Path]:
    temp = temp_dir or root / "spool"
    temp.mkdir(exist_ok=True)
    stored = root / "stored"
    Ledger(ledger).upgrade()
    generous = {"rate_limits": {"rules": [  # the faults are the subject here; the load run measures the limits
        {"name": "pages", "limit": "100000/minute", "scope": "client", "group": "pages"},
        {"name": "uploads", "limit": "100000/hour", "scope": "subject", "group": "uploads"}]}}
    merged = {**generous, **(overrides or {})}
    if overrides and "rate_limits" in overrides:
        merged["rate_limits"] = {**generous["rate_limits"], **overrides["rate_limits"]}
    policy = write_policy(root / "policy", ledger=ledger, rate_limits=rate_limits, temp_dir=temp, overrides=merged)
    return Site(policy, stored, workers=workers, preexec=preexec), temp, stored


# -- PostgreSQL stopped and restarted ------------------------------------------------------------


async def _uploader(base_url: str, rec: Recorder, index: int, until: float, phases: list[tuple[float, str]],
                    phase_of: dict[int, str]) -> None:
    rng = random.Random(index)
    async with new_client(base_url, f"10.9.0.{index + 1}") as client:
        while not await accept_json(rec, client):
            if time.perf_counter() > until:
                return
            await asyncio.sleep(0.2)
        while time.perf_counter() < until:
            kind = rng.choice(["jpeg", "png", "wav", "mp4"])
            record = await upload(rec, client, kind, "ok", media.make(kind, rng), expected=(0, None))
            phase_of[id(record)] = phases[-1][1]
            await asyncio.sleep(0.1)


def postgres_restart(pg: PrivatePostgres, *, clients: int = 4, before: float = 4.0, down: float = 8.0, after: float = 8.0) -> FaultOutcome:
    """Stop the private PostgreSQL under a stream of uploads, start it again, and watch the answers."""
    outcome = FaultOutcome(
        "PostgreSQL stopped and restarted during uploads",
        f"Private PostgreSQL 15 ledger, private Redis, {clients} clients uploading in a loop (JPEG, PNG, WAV, MP4) for "
        f"{before:.0f} s, then `pg_ctl stop -m fast` for {down:.0f} s, then `pg_ctl start`, then {after:.0f} s more.",
        "While the database is down every upload is refused with 503 `ledger-unavailable` and nothing reaches the app; "
        "after the restart uploads are accepted again without restarting the site; every 201 has its ledger entries.",
    )
    with _scratch() as root, PrivateRedis() as redis:
        url = _new_database(pg)
        site, temp, stored = _site(root, url, redis.url)
        with site:
            rec = Recorder()
            phases: list[tuple[float, str]] = [(0.0, "before")]
            phase_of: dict[int, str] = {}
            restarted_at: list[float] = []

            async def drive() -> None:
                rec.t0 = start = time.perf_counter()
                until = start + before + down + after + 15  # the restart itself takes a few seconds
                tasks = [asyncio.create_task(_uploader(site.base_url, rec, i, until, phases, phase_of)) for i in range(clients)]
                await asyncio.sleep(before)
                await asyncio.to_thread(pg.stop, "fast")
                phases.append((time.perf_counter() - start, "down"))
                await asyncio.sleep(down)
                async with new_client(site.base_url, "10.9.9.9") as browser:  # pages do not need the ledger
                    page = await browser.get("/gallery/")
                    outcome.data["page_while_down"] = page.status_code
                phases.append((time.perf_counter() - start, "restarting"))
                await asyncio.to_thread(pg.start)
                restarted_at.append(time.perf_counter() - start)
                phases.append((restarted_at[0], "after"))
                await asyncio.wait_for(asyncio.gather(*tasks), before + down + after + 120)

            asyncio.run(drive())
            tracebacks = site.tracebacks()
            logged = site.logged_errors()
        by_phase: dict[str, list[UploadRecord]] = {"before": [], "down": [], "restarting": [], "after": []}
        for record in rec.uploads:  # the phase in which the upload was sent
            by_phase[[name for at, name in phases if at <= record.started][-1]].append(record)
        first_ok_after = min((r.finished for r in by_phase["after"] if r.status == 201), default=None)
        for phase in ("before", "down", "restarting", "after"):
            outcome.rows.append((f"uploads sent while {phase}", _count(by_phase[phase])))
        outcome.rows.append(("`GET /gallery/` while down", str(outcome.data.get("page_while_down"))))
        outcome.rows.append(("server log", f"{len(tracebacks)} unhandled exceptions; {logged} ERROR lines (ugc_guard logs each "
                                            "refused recording: 'recording a submission failed; the upload is refused')"))
        recovery = first_ok_after - restarted_at[0] if first_ok_after is not None and restarted_at else None
        outcome.rows.append(("first 201 after `pg_ctl start` returned", f"{recovery:.2f} s later" if recovery is not None else "never"))
        check = check_run(url, rec.uploads, temp, stored)
        outcome.rows.append(("ledger and files afterwards", check.summary() + f"; {check.app_files} files stored by the app, all covered"))
        outcome.data.update(recovery=recovery, check=check, by_phase=by_phase, tracebacks=len(tracebacks))
        bad_down = [r for r in by_phase["down"] if not (r.status == 503 and r.code == "ledger-unavailable")]
        if bad_down:
            outcome.problems.append(f"{len(bad_down)} uploads while down were not 503 ledger-unavailable: {_count(bad_down)}")
        if not by_phase["down"]:
            outcome.problems.append("no upload was sent while the database was down")
        if not any(r.status == 201 for r in by_phase["before"]):
            outcome.problems.append("no upload was accepted before the outage")
        if recovery is None:
            outcome.problems.append("uploads were not accepted again after the restart")
        if any(r.status == 500 for r in rec.uploads) or tracebacks:
            outcome.problems.append(f"500 answers or tracebacks: {tracebacks[:1]}")
        outcome.problems += check.problems
    return outcome


# -- Redis stopped --------------------------------------------------------------------------------


def redis_down(fail: str, *, pages: int = 20) -> FaultOutcome:
    """Stop the private Redis behind the rate limits; ``fail`` is the policy's ``rate_limits.fail``."""
    want = "200 (no RateLimit headers) and uploads accepted" if fail == "open" else "503 `rate-limit-unavailable` with Retry-After"
    outcome = FaultOutcome(
        f"Redis stopped, `rate_limits.fail: {fail}`",
        f"SQLite ledger, private Redis for the rate limits; a person accepts, then Redis is stopped (SIGTERM); {pages} page "
        "requests, one upload and `/robots.txt` are sent while it is down; then Redis is started again.",
        f"While Redis is down: pages and uploads {want}; `/robots.txt` always 200; after the restart the limits count again "
        "(RateLimit headers back) without restarting the site.",
    )
    with _scratch() as root:
        redis = PrivateRedis()
        redis.start()
        try:
            site, temp, stored = _site(root, f"sqlite:///{root / 'ledger.sqlite3'}", redis.url, overrides={"rate_limits": {"fail": fail}})
            with site:
                result = asyncio.run(_redis_phases(site, redis, pages))
                tracebacks = site.tracebacks()
        finally:
            redis.cleanup()
        up_ok = all(s == 200 and h for s, h, _ in result["before"])
        outcome.rows.append(("pages before", _pages(result["before"])))
        outcome.rows.append(("pages while down", _pages(result["down"])))
        outcome.rows.append(("latency while down, median / max ms", "{:.1f} / {:.1f}".format(
            statistics.median(x[2] for x in result["down"]) * 1000, max(x[2] for x in result["down"]) * 1000)))
        outcome.rows.append(("upload while down", f"{result['upload'].status} {result['upload'].code or ''}"))
        outcome.rows.append(("`/robots.txt` while down", str(result["robots"])))
        outcome.rows.append(("pages after restart", _pages(result["after"])))
        outcome.rows.append(("first answer with RateLimit headers after restart", f"{result['recovery']:.2f} s" if result["recovery"] else "never"))
        outcome.data.update(result)
        check = check_run(f"sqlite:///{root / 'ledger.sqlite3'}", [result["upload"]], temp, stored)
        outcome.rows.append(("ledger afterwards", check.summary()))
        if not up_ok:
            outcome.problems.append("pages before the stop were not all 200 with RateLimit headers")
        if fail == "open":
            if not all(s == 200 for s, _, _ in result["down"]) or result["upload"].status != 201:
                outcome.problems.append("fail: open did not let requests through")
        else:
            if not all(s == 503 for s, _, _ in result["down"]) or result["upload"].code != "rate-limit-unavailable":
                outcome.problems.append("fail: closed did not refuse with 503 rate-limit-unavailable")
            if not result["retry_after"]:
                outcome.problems.append("503 without Retry-After")
        if result["robots"] != 200:
            outcome.problems.append("/robots.txt was not served while Redis was down")
        if result["recovery"] is None:
            outcome.problems.append("the limits did not come back after Redis restarted")
        if tracebacks:
            outcome.problems.append(f"uvicorn logged tracebacks: {tracebacks[0][-300:]}")
        outcome.problems += check.problems
    return outcome


def _pages(items: list[tuple[int, bool, float]]) -> str:
    counts = Counter(f"{s}" + (" with RateLimit" if h else " without RateLimit") for s, h, _ in items)
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))


async def _redis_phases(site: Site, redis: PrivateRedis, pages: int) -> dict[str, Any]:
    rec = Recorder()
    result: dict[str, Any] = {}

    async def page(client: httpx.AsyncClient) -> tuple[int, bool, float]:
        started = time.perf_counter()
        response = await client.get("/gallery/")
        if response.status_code == 503:
            result["retry_after"] = response.headers.get("retry-after")
        return response.status_code, "ratelimit" in response.headers, time.perf_counter() - started

    async with new_client(site.base_url, "10.8.0.1") as client:
        assert await accept_json(rec, client)
        result["before"] = [await page(client) for _ in range(5)]
        await asyncio.to_thread(redis.stop)
        result["retry_after"] = None
        result["down"] = [await page(client) for _ in range(pages)]
        result["upload"] = await upload(rec, client, "jpeg", "ok", media.make("jpeg", random.Random(3)), expected=(0, None))
        result["robots"] = (await client.get("/robots.txt")).status_code
        await asyncio.to_thread(redis.start)
        restarted = time.perf_counter()
        result["recovery"] = None
        after = []
        for _ in range(100):
            item = await page(client)
            after.append(item)
            if item[0] == 200 and item[1]:
                result["recovery"] = time.perf_counter() - restarted
                break
            await asyncio.sleep(0.1)
        result["after"] = after
    return result


# -- A worker killed mid-upload ------------------------------------------------------------------


def _holder(site: Site, temp: Path) -> tuple[int, str] | None:
    for pid in site.worker_pids():
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith(str(temp)) and target.endswith(".body"):
                        return pid, target
    return None


def worker_kill(pg: PrivatePostgres, *, background: int = 4, seconds: float = 10.0) -> FaultOutcome:
    """SIGKILL the worker that is receiving a large upload, while other clients keep uploading and browsing."""
    outcome = FaultOutcome(
        "A uvicorn worker killed (SIGKILL) mid-upload",
        f"Private PostgreSQL ledger, private Redis, `uvicorn --workers 2`. (1) A person starts a 40 MiB MP4 upload and sends "
        f"the first 8 MiB; as soon as its spool file appears, the worker holding it open gets SIGKILL. (2) Then a person "
        f"uploads a text file while the app's file for it is a named pipe (FIFO), so the app blocks storing it; as soon as "
        f"the ledger shows the submission `received`, the worker that recorded it (its owner in the status table) gets "
        f"SIGKILL. {background} other clients upload and browse in a loop for {seconds:.0f} s around it; afterwards one "
        f"upload every 0.5 s on a fresh connection until the killed worker's submission is swept (at most 40 s).",
        "(1) No submission for the interrupted upload. (2) The submission recorded before the kill keeps its grants and ends "
        "`not stored (unconfirmed)` (a worker sweeps what a dead worker left), never accepted or stored; its client never "
        "saw a 2xx; the app stored nothing for it. No unanswered upload stays `received`. The other worker keeps answering; "
        "uvicorn starts replacement workers; the chain verifies; every 201 has its entries.",
    )
    with _scratch() as root, PrivateRedis() as redis:
        url = _new_database(pg)
        site, temp, stored = _site(root, url, redis.url)
        with site:
            before_pids = site.worker_pids()
            data = media.mp4(40 * 1024 * 1024)
            rec = Recorder()
            info: dict[str, Any] = {}

            async def victim() -> None:
                async with new_client(site.base_url, "10.7.0.1") as client:
                    assert await accept_json(rec, client)
                    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
                body, form_type = media.multipart([("media", "clip.mp4", "video/mp4", data),
                                                   *((k, None, None, b"accept" if k != "ugc_portrait_others" else b"none")
                                                     for k in ("ugc_licence", "ugc_portrait_self", "ugc_portrait_others"))])
                reader, writer = await asyncio.open_connection("127.0.0.1", site.port)
                head = (f"POST /upload HTTP/1.1\r\nHost: 127.0.0.1:{site.port}\r\nUser-Agent: {BROWSER_UA}\r\n"
                        f"X-Forwarded-For: 10.7.0.1\r\nCookie: {cookie}\r\nContent-Type: {form_type}\r\n"
                        f"Content-Length: {len(body)}\r\nAccept: application/json\r\n\r\n").encode()
                writer.write(head + body[: 8 * 1024 * 1024])
                await writer.drain()
                for _ in range(200):
                    found = _holder(site, temp)
                    if found:
                        break
                    await asyncio.sleep(0.05)
                else:
                    info["error"] = "no spool file appeared"
                    writer.close()
                    return
                pid, path = found
                info.update(killed=pid, spool=path, worker_pids=before_pids)
                os.kill(pid, signal.SIGKILL)
                info["killed_at"] = time.perf_counter() - rec.t0
                try:
                    writer.write(body[8 * 1024 * 1024 :])
                    await writer.drain()
                    answer = await asyncio.wait_for(reader.read(4096), 30)
                    info["client_saw"] = answer.split(b"\r\n", 1)[0].decode(errors="replace") or "connection closed, no answer"
                except (ConnectionError, OSError) as error:
                    info["client_saw"] = f"{type(error).__name__} ({error.strerror or error})"
                finally:
                    writer.close()
                rec.uploads.append(UploadRecord(hashlib.sha256(data).hexdigest(), "mp4", "killed", len(data),
                                                None, None, None, 0.0, 0.0))

            async def others(index: int, until: float) -> None:
                rng = random.Random(100 + index)
                async with new_client(site.base_url, f"10.7.1.{index + 1}") as client:
                    await accept_json(rec, client)
                    while time.perf_counter() < until:
                        kind = rng.choice(["jpeg", "wav", "png"])
                        await upload(rec, client, kind, "ok", media.make(kind, rng), expected=(201, None))
                        await rec.request(client, "browse", "GET", "/gallery/")
                        await asyncio.sleep(0.05)

            async def victims() -> None:
                await victim()
                await _held_victim(site, url, stored, rec, info)

            async def drive() -> None:
                rec.t0 = time.perf_counter()
                until = rec.t0 + seconds
                await asyncio.wait_for(asyncio.gather(victims(), *(others(i, until) for i in range(background))), seconds + 120)
                if "held" in info:
                    info["held"].update(await _await_sweep(site, url, rec, info["held"]))

            asyncio.run(drive())
            time.sleep(2)
            after_pids = site.worker_pids()
            tracebacks = site.tracebacks()
            unanswered = _unanswered_statuses(url, rec.uploads)
        killed_at = info.get("killed_at", 0.0)
        second = info.get("held", {}).get("killed_at", float("inf")) - rec.t0  # in flight then, or sent on its closed
        later = [r for r in rec.results  # keep-alive connections within 0.5 s, they broke with the second kill
                 if r.started > killed_at + 0.5 and not r.started <= second + 0.5 <= r.started + r.latency + 0.6]
        broken = [r for r in rec.results if r.status is None]
        held = info.get("held", {})
        outcome.rows.append(("(1) worker killed mid-upload",
                             f"pid {info.get('killed')} of {info.get('worker_pids')} holding {Path(info.get('spool', '?')).name}"))
        outcome.rows.append(("(1) the interrupted client saw", str(info.get("client_saw", info.get("error")))))
        outcome.rows.append(("(2) worker killed after recording, the app blocked storing",
                             f"pid {held.get('pid')} (owner {held.get('owner')}), submission {held.get('submission')} "
                             f"`{held.get('status_at_kill')}` at the kill" if held else str(info.get("held_error"))))
        outcome.rows.append(("(2) that client saw", str(held.get("client_saw"))))
        outcome.rows.append(("(2) that submission afterwards",
                             f"`{held.get('status')}` {held.get('swept_after', 0):.1f} s after the kill, {held.get('nudges')} uploads "
                             f"later (reason: {held.get('reason')}); entries: {', '.join(held.get('kinds', []))}" if held else "—"))
        by_status = Counter(unanswered.values())
        outcome.rows.append(("unanswered uploads with a submission, by status",
                             ", ".join(f"{k}: {v}" for k, v in sorted(by_status.items())) or "none"))
        outcome.rows.append(("other requests after the kill (from 0.5 s)", _statuses(later)))
        outcome.rows.append(("requests whose connection broke", f"{len(broken)}" + (f" ({broken[0].detail[:80]})" if broken else "")))
        replaced = "yes" if set(after_pids) - set(before_pids) else "no"
        outcome.rows.append(("workers 2 s after the run", f"{after_pids} (replacement started: {replaced})"))
        check = check_run(url, rec.uploads, temp, stored)
        left = check.temp_left
        check.problems = [p for p in check.problems if not p.startswith("temporary files left")]
        outcome.rows.append(("ledger afterwards", check.summary().replace(f"; {len(left)} temporary files left", "")
                             + f"; {check.app_files} files stored by the app, all covered"))
        outcome.rows.append(("temporary files left", ", ".join(left) or "none"))
        outcome.data.update(info=info, check=check, after_pids=after_pids, before_pids=before_pids, left=left, later=later,
                            held=held, unanswered=unanswered)
        if "killed" not in info:
            outcome.problems.append(f"the upload was not caught mid-way: {info.get('error')}")
        if not held:
            outcome.problems.append(f"(2) the upload was not caught between recording and the app's answer: {info.get('held_error')}")
        else:
            if held.get("status_at_kill") != "received":
                outcome.problems.append(f"(2) the submission was {held.get('status_at_kill')!r} when its worker was killed, not 'received'")
            if held.get("status") != UNCONFIRMED or held.get("reason") != DEAD_WORKER:
                outcome.problems.append(f"(2) the killed worker's submission ended {held.get('status')!r} ({held.get('reason')}), "
                                        f"not {UNCONFIRMED!r} for a stopped worker")
            if not {"licence_grant", "portrait_grant"} <= set(held.get("kinds", [])):
                outcome.problems.append(f"(2) the killed worker's submission lost its grants: {held.get('kinds')}")
            if str(held.get("client_saw", "")).startswith("HTTP/1.1 2"):
                outcome.problems.append(f"(2) the client was told {held.get('client_saw')!r}")
            if any(path.name.startswith(held["sha256"]) for path in stored.iterdir()):
                outcome.problems.append("(2) the app stored a file for the killed worker's upload")
        pending = sorted(sha[:12] for sha, status in unanswered.items() if status not in (UNCONFIRMED, "stored"))
        if pending:
            outcome.problems.append(f"unanswered uploads not marked {UNCONFIRMED!r}: {pending} ({unanswered})")
        if by_status.get("stored"):
            outcome.notes.append(
                f"{by_status['stored']} unanswered upload(s) stand as `stored`: a worker was killed after the ledger had recorded "
                "the app's 201 and before the client read the answer. The app holds each of those files (checked), so `stored` "
                "is true; the client saw no confirmation and may send the file again.")
        if any(r.status != 201 for r in rec.uploads if r.plan == "ok" and r.status is not None and r.started > killed_at + 0.5):
            outcome.problems.append("uploads after the kill were not all accepted")
        if not later or any(r.status is None or r.status >= 500 for r in later):
            outcome.problems.append("the other worker did not keep answering")
        if tracebacks:
            outcome.problems.append(f"uvicorn logged tracebacks: {tracebacks[0][-300:]}")
        if left:
            outcome.notes.append(
                f"The killed worker's temporary files ({', '.join(left)}) stay in `uploads.temp_dir`: a process killed with SIGKILL "
                "runs no cleanup, and nothing removes orphaned `ugc-guard-*` files later. It holds no ledger entry and is never "
                "served, but it takes disk space until removed. (Proposal in the reply: unlink the spool file right after "
                "creating it, since it is only read through its descriptor.)")
            for name in left:
                with contextlib.suppress(OSError):
                    (temp / name).unlink()
        outcome.problems += check.problems
    return outcome


UNCONFIRMED = "not stored (unconfirmed)"
DEAD_WORKER = "the worker process that recorded it stopped before the app's answer was confirmed"
HELD_GRANTS = [("ugc_licence", None, None, b"accept"), ("ugc_portrait_self", None, None, b"accept"),
               ("ugc_portrait_others", None, None, b"none")]


def _submission_state(url: str, digest: str) -> tuple[int, str, str | None] | None:
    """The submission of a file: its id, current status and the worker that recorded it (None before it is recorded)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.execute(text(
                "SELECT s.submission_id, s.status, s.owner FROM ledger_submission_status s JOIN ledger_entries e "
                "ON e.id = s.submission_id WHERE e.content_sha256 = :digest AND e.kind = 'submission'"), {"digest": digest}).first()
    finally:
        engine.dispose()
    return (int(row[0]), str(row[1]), row[2]) if row is not None else None


async def _held_victim(site: Site, url: str, stored: Path, rec: Recorder, info: dict[str, Any]) -> None:
    """Upload a text file whose stored name is a FIFO (the app blocks writing it), and SIGKILL the worker that
    recorded it once the ledger shows it ``received``: killed after recording, before the app answered."""
    async with new_client(site.base_url, "10.7.0.2") as client:
        assert await accept_json(rec, client)
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    data = ("a voice-over script " + os.urandom(16).hex() + "\n").encode()
    digest = hashlib.sha256(data).hexdigest()
    stored.mkdir(exist_ok=True)
    fifos = [stored / f"{digest}{ext}" for ext in (".txt", ".bin")]  # examples.common.store: <sha256 of the bytes><ext>
    for fifo in fifos:
        os.mkfifo(fifo)
    body, form_type = media.multipart([("media", "script.txt", "text/plain", data), *HELD_GRANTS])
    reader, writer = await asyncio.open_connection("127.0.0.1", site.port)
    try:
        writer.write((f"POST /upload HTTP/1.1\r\nHost: 127.0.0.1:{site.port}\r\nUser-Agent: {BROWSER_UA}\r\n"
                      f"X-Forwarded-For: 10.7.0.2\r\nCookie: {cookie}\r\nContent-Type: {form_type}\r\n"
                      f"Content-Length: {len(body)}\r\nAccept: application/json\r\n\r\n").encode() + body)
        await writer.drain()
        state = None
        for _ in range(300):
            state = await asyncio.to_thread(_submission_state, url, digest)
            if state is not None:
                break
            await asyncio.sleep(0.1)
        if state is None or not state[2]:
            info["held_error"] = f"the submission was not recorded within 30 s ({state})"
            return
        with contextlib.suppress(TimeoutError):  # the app is blocked on the FIFO: nothing may have been answered
            early = await asyncio.wait_for(reader.read(4096), 0.5)
            info["held_error"] = f"the app answered before the kill: {early[:60]!r}"
            return
        submission, status, owner = state[0], state[1], str(state[2])
        pid = int(owner.split(":")[1])
        os.kill(pid, signal.SIGKILL)
        info["held"] = {"pid": pid, "owner": owner, "submission": submission, "status_at_kill": status, "sha256": digest,
                        "killed_at": time.perf_counter()}
        try:
            answer = await asyncio.wait_for(reader.read(4096), 30)
            info["held"]["client_saw"] = answer.split(b"\r\n", 1)[0].decode(errors="replace") or "connection closed, no answer"
        except (ConnectionError, OSError) as error:
            info["held"]["client_saw"] = f"{type(error).__name__} ({error.strerror or error})"
    finally:
        writer.close()
        for fifo in fifos:
            with contextlib.suppress(FileNotFoundError):
                fifo.unlink()
        rec.uploads.append(UploadRecord(digest, "txt", "killed-after-recording", len(data), None, None, None, 0.0, 0.0))


async def _await_sweep(site: Site, url: str, rec: Recorder, held: dict[str, Any], limit: float = 40.0) -> dict[str, Any]:
    """Send one upload every 0.5 s, each on a new connection (so any worker may take it), until the killed
    worker's submission is no longer ``received``; return its status, the reason and how long it took."""
    started, nudges, status = time.perf_counter(), 0, "received"
    rng = random.Random(7)
    async with new_client(site.base_url, "10.7.3.1") as acceptor:
        assert await accept_json(rec, acceptor)
        cookies = dict(acceptor.cookies.items())
    while time.perf_counter() - started < limit:
        state = await asyncio.to_thread(_submission_state, url, held["sha256"])
        status = state[1] if state is not None else "missing"
        if status != "received":
            break
        async with new_client(site.base_url, "10.7.3.1") as client:
            client.cookies.update(cookies)
            await upload(rec, client, "jpeg", "ok", media.make("jpeg", rng), expected=(201, None))
        nudges += 1
        await asyncio.sleep(0.5)
    swept_after = time.perf_counter() - held["killed_at"]
    ledger = Ledger(url, secret=SECRET)
    try:
        entries = await asyncio.to_thread(ledger.grants, held["submission"])
    finally:
        ledger.close()
    reasons = [entry.data.get("reason") for entry in entries if entry.kind == "submission_status"]
    return {"status": status, "reason": reasons[-1] if reasons else None, "nudges": nudges, "kinds": [e.kind for e in entries],
            "swept_after": swept_after}


def _unanswered_statuses(url: str, uploads: list[UploadRecord]) -> dict[str, str]:
    """SHA-256 -> current status of every unanswered upload that has a submission."""
    found = {}
    for record in uploads:
        if record.status is None:
            state = _submission_state(url, record.sha256)
            if state is not None:
                found[record.sha256] = state[1]
    return found


def _statuses(results: list[Any]) -> str:
    counts = Counter(str(r.status) for r in results)
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "none"


# -- A full disk for temporary files -------------------------------------------------------------


def full_disk(*, size_kib: int = 2048) -> FaultOutcome:
    """Point ``uploads.temp_dir`` at a tiny filesystem and upload more than fits."""
    with _scratch() as root, SmallDisk(size_kib) as disk, PrivateRedis() as redis:
        outcome = FaultOutcome(
            "A full disk for temporary files",
            f"`uploads.temp_dir` on {disk.how}; SQLite ledger elsewhere; private Redis. A person accepts and uploads "
            f"(a) a 6 MiB MP4 (spools past 1 MiB to the temp folder, which holds {size_kib} KiB), (b) with the temp "
            "filesystem filled completely, a 200 KB JPEG (spooled in memory; the re-encoded image goes to a temp file), "
            "(c) after space is freed, an MP4 of 3/4 of the temp filesystem (spooled to it).",
            "(a) and (b) are refused with a clear `application/problem+json` (e.g. 503 or 507) and no traceback, nothing "
            "recorded, no temporary file left; (c) is accepted.",
        )
        url = f"sqlite:///{root / 'ledger.sqlite3'}"
        site, temp, stored = _site(root, url, redis.url, temp_dir=disk.folder, preexec=disk.limit_file_size if disk.method == "fsize" else None)
        records: dict[str, UploadRecord] = {}
        answers: dict[str, str] = {}
        with site:
            async def drive() -> None:
                rec = Recorder()
                rng = random.Random(5)
                async with new_client(site.base_url, "10.6.0.1") as client:
                    assert await accept_json(rec, client)
                    for label, kind, size, fill in (("a", "mp4", 6 * 1024, False), ("b", "jpeg", 0, True), ("c", "mp4", size_kib * 3 // 4, False)):
                        if fill:
                            disk.fill()
                        elif label == "c":
                            with contextlib.suppress(FileNotFoundError):
                                (disk.folder / "filler").unlink()
                        data = media.mp4(size * 1024) if size else media.make(kind, rng)
                        records[label] = await upload(rec, client, kind, "ok", data, expected=(0, None))
                        last = rec.results[-1]
                        answers[label] = f"{last.status} {last.code or ''} {last.detail[:160]!r}"
                        with contextlib.suppress(FileNotFoundError):
                            (disk.folder / "filler").unlink() if fill else None
            asyncio.run(drive())
            time.sleep(1)
            tracebacks = site.tracebacks()
            outcome.data["log"] = site.log_path.read_text(errors="replace")
        for label, title in (("a", "(a) 6 MiB MP4, temp fs too small"), ("b", "(b) JPEG, temp fs full"), ("c", "(c) MP4 that fits, space freed")):
            outcome.rows.append((title, answers.get(label, "no answer")))
        outcome.rows.append(("tracebacks in the server log", f"{len(tracebacks)}" + (f": {_last_line(tracebacks[0])}" if tracebacks else "")))
        check = check_run(url, list(records.values()), temp, stored, temp_ignore=["filler"])
        outcome.rows.append(("ledger afterwards", check.summary()))
        outcome.data.update(records=records, tracebacks=tracebacks, method=disk.method, check=check)
        for label in ("a", "b"):
            record = records.get(label)
            if record is None or record.status is None or record.status == 500 or record.code is None:
                where = _last_line(tracebacks[0]) if tracebacks else "?"
                outcome.problems.append(
                    f"({label}) answered {record.status if record else None} without a problem code (an unhandled OSError: "
                    f"{where}); expected a clear refusal such as 503/507 — bug in ugc_guard (xfail in tests/proof/test_faults.py)")
        if records.get("b") is not None and records["b"].code == "content-rejected":
            outcome.problems.append(
                "(b) answered 422 content-rejected ('the image cannot be decoded (OSError)'): a full temp disk while writing the "
                "re-encoded image is blamed on the person's image; the decoder's catch-all in ugc_guard/screening/images.py "
                "(`except Exception` around `_reencode`) swallows the OSError — bug in ugc_guard (xfail in tests/proof/test_faults.py)")
        if records.get("c") is None or records["c"].status != 201:
            outcome.problems.append("(c) was not accepted after space was freed")
        outcome.problems += check.problems
    return outcome


def _last_line(traceback: str) -> str:
    """The innermost ugc_guard frame and the exception of a logged traceback."""
    lines = [line.strip(" |+-") for line in traceback.strip().splitlines() if line.strip(" |+-")]
    ours = [line for line in lines if line.startswith("File ") and "/ugc_guard/" in line]
    error = next((line for line in reversed(lines) if "Error" in line.split(":", 1)[0]), lines[-1] if lines else "")
    where = ours[-1].split("/ugc_guard/", 1)[1].replace('", line ', ":").split(",")[0] if ours else "?"
    return f"ugc_guard/{where}: {error}"


# -- the report -----------------------------------------------------------------------------------

HEADER = """# Reliability: faults under a running site

Written by `python benchmarks/faults.py`; re-run it to refresh this page (`--only worker,disk` refreshes
those sections and keeps the others, each stamped with its run). Each fault runs the example
site (`examples/starlette_site`, `uvicorn --workers 2`, loopback) on servers of its own — a private
PostgreSQL 15 (initdb in a temp folder, a free port) and a private Redis — so the machine's shared
servers are never stopped or filled. The same scenarios run, smaller, in `tests/proof/test_faults.py`.
For the behaviour under load see [benchmarks.md](benchmarks.md#end-to-end-the-example-site-under-load);
for hostile input, the fuzz tests in `tests/proof/` and `fuzz/fuzz_multipart.py` (summary at the end).
"""


def write_doc(outcomes: list[FaultOutcome], fuzz_note: str | None = None) -> None:
    """Write docs/reliability.md: the faults of this run replace their sections; faults not run this time
    (``--only``) keep theirs from the page, each section naming the run it comes from."""
    stamp = f"commit {git_revision()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    existing = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    sections = _sections(existing)
    for outcome in outcomes:
        sections[outcome.name] = f"{outcome.markdown()}\n\n_Run: {stamp}._"
    parts = [HEADER, f"Machine: {machine()}; each section names the run it comes from (latest: {stamp}).", ""]
    parts += ["| fault | outcome |", "|---|---|"]
    findings: list[str] = []
    for name, text in sections.items():
        found = _findings(text)
        findings += found
        problems = [item for item in found if "**Outcome: NOT" in text]
        parts.append(f"| {name} | {'NOT as expected: ' + problems[0][:140] if problems else 'as expected'} |")
    parts.append("")
    parts += [text + "\n" for text in sections.values()]
    if findings:
        parts += ["## Findings to fix in ugc_guard", ""] + [f"- {item}" for item in findings] + [""]
    marker = "<!-- fuzz -->"
    if fuzz_note is None and marker in existing:
        fuzz_note = existing[existing.index(marker):]
    if fuzz_note:
        parts.append(fuzz_note.strip() + "\n")
    DOC.write_text("\n".join(parts), encoding="utf-8")


def _sections(page: str) -> dict[str, str]:
    """The fault sections of an existing page, by name, in page order (stamped with the page's run when they have none)."""
    import re

    body = page.split("<!-- fuzz -->", 1)[0]
    run = re.search(r"commit (\w+); (\d{4}-\d\d-\d\d \d\d:\d\d UTC)", body)
    found: dict[str, str] = {}
    for chunk in body.split("\n## ")[1:]:
        name, _, rest = chunk.partition("\n")
        if name.startswith("Findings to fix") or "**Outcome:" not in rest:
            continue
        text = f"## {name}\n{rest}".rstrip()
        if "_Run: " not in text and run is not None:
            text += f"\n\n_Run: commit {run.group(1)}, {run.group(2)}._"
        found[name] = text
    return found


def _findings(section: str) -> list[str]:
    """The problems and notes listed under a section's outcome line."""
    tail = section.split("**Outcome:", 1)[1].split("\n", 1)[1] if "**Outcome:" in section else ""
    return [line[2:] for line in tail.splitlines() if line.startswith("- ")]


def fuzz_summary(seconds: int) -> str:
    """Run the hypothesis fuzz tests and the atheris harness (bounded); return the doc section."""
    import re
    import subprocess

    repo = DOC.parent.parent
    lines = ["<!-- fuzz -->", "## Hostile input (fuzzing)", ""]
    tests = ["tests/proof/test_fuzz_requests.py", "tests/proof/test_fuzz_policy.py"]
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests], cwd=repo,
                         capture_output=True, text=True, timeout=1800)
    tail = (run.stdout.strip().splitlines() or ["(no output)"])[-1]
    lines.append(f"- Hypothesis (`python -m pytest {' '.join(tests)}`, {time.perf_counter() - started:.0f} s): `{tail}`. "
                 "Multipart bodies (random boundaries, part headers, file names and types, real media, truncations, CRLF soup, "
                 "LF-only, spliced bytes, preambles, random chunking; a third well-formed so the success path is fuzzed), "
                 "headers (Host, User-Agent, X-Forwarded-For, Content-Length, Cookie on every kind of path) and accept posts "
                 "(random JSON and forms) through the real middleware on a SQLite ledger, 120 examples each: never a 5xx, "
                 "never an exception, each request bounded (60 s), and the ledger counts change only with a 201 / 303 that "
                 "reports them. Policy files (random mappings, mutations of policies/onscreen.yaml, damaged YAML text), "
                 "150 examples each: only `PolicyError`, one line per problem naming the file (the fuzzing found keys with line breaks splitting "
                 "error lines; fixed in `ugc_guard/policy/loader.py`, commit 18c8dcf).")
    try:
        import atheris  # noqa: F401
    except ImportError:
        lines.append("- atheris is not installed (`pip install atheris`); the harness `fuzz/fuzz_multipart.py` was not run.")
    else:
        run = subprocess.run([sys.executable, "fuzz/fuzz_multipart.py", "-dict=fuzz/multipart.dict", f"-max_total_time={seconds}"],
                             cwd=repo, capture_output=True, text=True, timeout=seconds + 120)
        done = re.findall(r"Done (\d+) runs in (\d+) second", run.stderr)
        crashed = "ERROR" in run.stderr or run.returncode != 0
        result = f"{int(done[-1][0]):,} inputs in {done[-1][1]} s" if done else "no summary line"
        lines.append(f"- atheris (`python fuzz/fuzz_multipart.py -dict=fuzz/multipart.dict -max_total_time={seconds}`): "
                     f"{result}, {'a CRASH (see its output)' if crashed else 'no crash'}. The harness feeds the streaming "
                     "multipart reader (`ugc_guard.screening.multipart`) in random chunks; only `Problem` (a 4xx refusal) may escape, and "
                     "file parts must lie inside the body, fields within their limit.")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="postgres,redis,worker,disk")
    parser.add_argument("--fuzz-seconds", type=int, default=60, help="atheris run time; 0 skips the fuzzing summary")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    wanted = set(args.only.split(","))
    outcomes: list[FaultOutcome] = []
    with PrivatePostgres() as pg:
        if "postgres" in wanted:
            outcomes.append(postgres_restart(pg))
        if "redis" in wanted:
            outcomes += [redis_down("open"), redis_down("closed")]
        if "worker" in wanted:
            outcomes.append(worker_kill(pg))
    if "disk" in wanted:
        outcomes.append(full_disk())
    for outcome in outcomes:
        print(outcome.markdown(), "\n", flush=True)
    fuzz = fuzz_summary(args.fuzz_seconds) if args.fuzz_seconds else None
    if fuzz:
        print(fuzz, flush=True)
    if not args.no_write:
        write_doc(outcomes, fuzz)
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
