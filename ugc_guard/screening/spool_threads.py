"""The spool's worker threads: where a body's batches are hashed and written while the event loop reads on."""

from __future__ import annotations

import concurrent.futures
import os
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["START_WAIT", "THREADS", "Handover", "submit"]

THREAD_COUNT = max(2, os.cpu_count() or 2)
THREADS = concurrent.futures.ThreadPoolExecutor(THREAD_COUNT, thread_name_prefix="ugc-guard-spool")
"""Where :meth:`BodySpool.flush_behind` hashes and writes: submitting starts a thread at once, which an
anyio task would only do once the event loop gets a turn. Hashing and writing release the GIL."""
START_WAIT = 0.005
"""Seconds the event loop waits at most for an idle spool thread to start its batch (the interpreter's switch interval)."""


class Handover:
    """Submits a batch's work to the spool threads and hands them the GIL to start it.

    After a batch is submitted the event loop goes on parsing the next one without a pause, holding
    the GIL, so a thread could start hashing or writing (both release the GIL inside) only after the
    interpreter's switch interval, or when the loop next waits: the work then runs after the
    parsing instead of beside it (measured: a 200 MB upload at 0.26 of SHA-256's speed, against 0.37
    with the hand-over, medians of 8; ``python -m benchmarks.bench_screening``). So when enough
    threads are free, the loop waits until the batch's threads have started: the wait itself hands
    over the GIL, and it lasts microseconds. When the threads are busy with other uploads' batches it
    does not wait (the work would queue, and the event loop would only be blocked). Small bodies are
    not handed over: with 20 photo uploads in flight the hand-over raised a plain GET's p99 from 22
    to 26 ms (``event_loop`` in ``benchmarks/bench_screening.py``).
    """

    def __init__(self, threads: int) -> None:
        self._threads = threads
        self._queued = 0
        self._lock = threading.Lock()

    def submit(self, work: list[tuple[Callable[..., None], tuple[Any, ...]]], *, hand_over: bool = True) -> list[concurrent.futures.Future[None]]:
        """Submit ``work`` (functions and their arguments); with ``hand_over``, wait for it to start while threads are free."""
        with self._lock:
            free = hand_over and self._queued + len(work) <= self._threads
            self._queued += len(work)
        started = [threading.Event() for _ in work]
        jobs = [THREADS.submit(self._run, event, function, args) for event, (function, args) in zip(started, work, strict=True)]
        if free:
            for event in started:
                if not event.wait(START_WAIT):
                    break
        return jobs

    def _run(self, started: threading.Event, function: Callable[..., None], args: tuple[Any, ...]) -> None:
        started.set()
        try:
            function(*args)
        finally:
            with self._lock:
                self._queued -= 1

    @property
    def queued(self) -> int:
        """Batch jobs submitted and not yet finished, of every upload."""
        with self._lock:
            return self._queued


HANDOVER = Handover(THREAD_COUNT)
submit = HANDOVER.submit
