"""The spool's batches: handed to its threads (hash and write side by side), every job accounted for."""

from __future__ import annotations

import hashlib
import os
import random
import threading

import anyio
import pytest

from ugc_guard.screening import spool_threads
from ugc_guard.screening.spool import BATCH_BYTES, BodySpool
from ugc_guard.screening.tempfiles import TempFiles


def _receive(spool: BodySpool, body: bytes, hasher: object) -> None:
    async def run() -> None:
        for start in range(0, len(body), 64 * 1024):
            chunk = body[start : start + 64 * 1024]
            spool.queue(chunk)
            spool.queue_hash(hasher, chunk, spool.size - len(chunk))
            if spool.batch_full:
                await spool.flush_behind()
        await spool.flush()

    anyio.run(run)


def test_a_large_body_is_stored_and_hashed_exactly_and_no_job_is_left_queued() -> None:
    body = random.Random(3).randbytes(3 * BATCH_BYTES + 12345)
    temp = TempFiles(None)
    try:
        spool = BodySpool(temp, 1024)
        hasher = hashlib.sha256()
        _receive(spool, body, hasher)
        assert hasher.hexdigest() == hashlib.sha256(body).hexdigest()
        assert spool.pread(len(body) + 1, 0) == body
        assert spool_threads.HANDOVER.queued == 0
    finally:
        temp.remove()


def test_a_failing_batch_is_reported_and_its_jobs_are_no_longer_counted() -> None:
    temp = TempFiles(None)
    try:
        spool = BodySpool(temp, 0)
        spool.queue(b"x" * 100)
        anyio.run(spool.flush)  # the temporary file exists now
        assert spool._fd is not None
        os.close(spool._fd)  # the next write fails (EBADF), as a full disk would
        body = b"y" * (BATCH_BYTES + 1)
        with pytest.raises(OSError):
            _receive(spool, body, hashlib.sha256())
        spool._fd = None
        assert spool_threads.HANDOVER.queued == 0
    finally:
        temp.remove()


class _CountingEvent(threading.Event):
    waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        _CountingEvent.waits.append(timeout)
        return super().wait(timeout)


@pytest.mark.parametrize(("threads", "waits"), [(4, 1), (0, 0)])
def test_the_loop_waits_for_a_start_only_while_threads_are_free(monkeypatch: pytest.MonkeyPatch, threads: int, waits: int) -> None:
    gate = threading.Semaphore(0)  # holds the job until the test has looked
    ran: list[int] = []

    def job() -> None:
        gate.acquire(timeout=10)
        ran.append(1)

    monkeypatch.setattr(threading, "Event", _CountingEvent)
    _CountingEvent.waits = []
    handover = spool_threads.Handover(threads)
    jobs = handover.submit([(job, ())])
    assert handover.queued == 1 and ran == []
    assert _CountingEvent.waits == [spool_threads.START_WAIT] * waits
    gate.release()
    jobs[0].result(timeout=10)
    assert ran == [1] and handover.queued == 0
