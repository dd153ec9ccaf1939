"""Delivering the outbox: due rows are signed and POSTed; failures back off, the last one is dead-lettered.

:func:`deliver_due` is one pass (the CLI's ``ugc-guard events deliver`` and tests call it);
:class:`DeliveryWorker` runs passes in a daemon thread while a site has events waiting, so delivery
never runs on the request path or the event loop.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from ..ledger import LedgerError
from ..ledger.outbox import Outbox, OutboxEvent
from .webhooks import WebhookFailed, post

__all__ = ["BACKOFF_CAP", "BACKOFF_START", "DeliveryReport", "DeliveryWorker", "deliver_due", "retry_at"]

logger = logging.getLogger("ugc_guard.events")
BACKOFF_START = 5.0
"""Seconds before the second attempt; each later wait doubles."""
BACKOFF_CAP = 3600.0
"""The longest wait between two attempts."""


def retry_at(attempts: int, max_attempts: int, now: dt.datetime, *, start: float = BACKOFF_START) -> dt.datetime | None:
    """Return when attempt ``attempts + 1`` is due after ``attempts`` failed ones, or None (dead) after the last."""
    if attempts >= max_attempts:
        return None
    return now + dt.timedelta(seconds=min(BACKOFF_CAP, start * 2 ** (attempts - 1)))


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0
    dead: int = 0


def deliver_due(outbox: Outbox, campaign: str, secrets: Mapping[str, str], max_attempts: int, *,
                now: dt.datetime | None = None, timeout: float = 10.0, limit: int = 50,
                start: float = BACKOFF_START) -> DeliveryReport:
    """Attempt every due row of ``campaign`` once; return what happened.

    ``secrets`` maps each configured endpoint URL to its ``whsec_`` secret: a row for a URL no
    longer configured is dead-lettered. Raises :class:`LedgerUnavailable` when the outbox cannot be read.
    """
    report = DeliveryReport()
    for row in outbox.claim(campaign=campaign, limit=limit, lease=timeout * 3 + 5, now=now):
        secret = secrets.get(row.endpoint)
        try:
            if secret is None:
                raise WebhookFailed("the endpoint is no longer in the policy")
            post(row.endpoint, secret, row.event_id, row.payload, timeout=timeout)
        except WebhookFailed as error:
            attempts = row.attempts + 1
            when = None if secret is None else retry_at(attempts, max_attempts, now or dt.datetime.now(dt.UTC), start=start)
            outbox.failed(row.id, str(error), retry_at=when)
            if when is None:
                report.dead += 1
                logger.error("ugc_guard: webhook %s %s to %s dead after %d attempt(s): %s", row.type, row.event_id,
                             row.endpoint, attempts, error)
            else:
                report.failed += 1
            continue
        outbox.delivered(row.id)
        report.delivered += 1
    return report


class DeliveryWorker:
    """Writes a site's emitted events to the outbox and delivers them, in a daemon thread that runs while
    there is work (events queued in memory, or rows pending in the outbox) and stops when there is none."""

    def __init__(self, outbox: Outbox, campaign: str, secrets: Mapping[str, str], max_attempts: int) -> None:
        self.outbox = outbox
        self.campaign = campaign
        self.secrets = dict(secrets)
        self.max_attempts = max_attempts
        self._queue: list[OutboxEvent] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def put(self, events: list[OutboxEvent]) -> None:
        """Queue events (no I/O: safe on the event loop) and make sure the thread runs."""
        with self._lock:
            self._queue.extend(events)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"ugc-guard-webhooks-{self.campaign}", daemon=True)
                self._thread.start()
        self._wake.set()

    @property
    def queued(self) -> int:
        """Events in memory, not yet in the outbox."""
        with self._lock:
            return len(self._queue)

    def flush(self) -> int:
        """Write the events queued in memory to the outbox now (blocking; at shutdown, so none is lost
        with the process); return how many rows were written. They are delivered by the next process
        or ``ugc-guard events deliver``. Raises :class:`~ugc_guard.ledger.LedgerError` (the events stay queued)."""
        with self._lock:
            batch, self._queue = self._queue, []
        if not batch:
            return 0
        try:
            self.outbox.add(batch)
        except LedgerError:
            with self._lock:
                self._queue[:0] = batch
            raise
        return len(batch)

    def join(self, timeout: float | None = None) -> None:
        """Wait until the thread has stopped (nothing queued, nothing pending); for tests and shutdown."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        pause = 1.0
        while True:
            self._wake.clear()
            with self._lock:
                batch, self._queue = self._queue, []
            try:
                if batch:
                    self.outbox.add(batch)
                    batch = []
                deliver_due(self.outbox, self.campaign, self.secrets, self.max_attempts)
                due = self.outbox.next_due(campaign=self.campaign)
                pause = 1.0
            except LedgerError as error:  # keep the events in memory and try again
                logger.warning("ugc_guard: webhook outbox unavailable (%s); retrying in %.0f s", error, pause)
                with self._lock:
                    self._queue[:0] = batch
                self._wake.wait(pause)
                pause = min(pause * 2, 60.0)
                continue
            with self._lock:
                if not self._queue and due is None:
                    self._thread = None
                    return
            wait = 60.0 if due is None else (due - dt.datetime.now(dt.UTC)).total_seconds()
            if wait > 0:
                self._wake.wait(min(wait, 60.0))
