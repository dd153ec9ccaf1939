"""Group commit: appends to one campaign that arrive together in one process share one transaction.

Every append to a campaign's chain serialises on the campaign's chain head, so one append per
transaction makes the chain as fast as one lock hand-off and one commit per entry. Here a caller
queues its drafts and waits; the first caller finding no batch under way leads: it takes what is
queued (up to :data:`MAX_ENTRIES` entries), appends it in ONE transaction (one chain-head lock, one
function call on PostgreSQL, one commit and one fsync), and only after the commit returned hands each
caller its own entries. Then the first caller still queued leads the next batch, which holds
everything that arrived meanwhile. Nothing is acknowledged before it is durable.

When a batch fails, a database that cannot be reached (:class:`LedgerUnavailable`) fails every
caller of it (each with an exception of its own).

On PostgreSQL with durability=full the batch commits without waiting for its WAL flush, so the
chain-head lock is free for the next batch at once; the leader then waits for a durable flush
(:func:`pgappend.flush_wal`) and only then answers its callers, so batches in flight share WAL
flushes the way independent inserts do, and still nothing is acknowledged before it is on disk. Any other error is one caller's: the batch is
split in halves and each half tried again, down to the single caller whose drafts fail, so every
other caller's entries are recorded and each caller gets its own outcome. Across processes the
chain-head lock serialises the batches as before.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.engine import Connection

from .drafting import AfterAppend, CommittedButWrong, DerivedRows, Draft, Stored
from .errors import LedgerError, LedgerUnavailable
from .rawsql import Raw, Upsert

__all__ = ["MAX_ENTRIES", "GroupCommit"]

MAX_ENTRIES = 256
"""Entries per group transaction (a caller with more still gets one transaction of its own)."""

E = TypeVar("E", bound=LedgerError)
Commit = Callable[[str, Sequence[Draft], AfterAppend | None], list[Stored]]


class _Call:
    __slots__ = ("after", "done", "drafts", "error", "lead", "stored")

    def __init__(self, drafts: Sequence[Draft], after: AfterAppend | None) -> None:
        self.drafts, self.after = drafts, after
        self.done = threading.Lock()  # held until the caller may go on (led or answered): released exactly once
        self.done.acquire()
        self.lead = False
        self.stored: list[Stored] | None = None
        self.error: BaseException | None = None


class GroupCommit:
    """The group committer of one ledger object: ``commit`` appends drafts in one transaction
    (:func:`chain.append` bound to the ledger's engine); :meth:`append` is its thread-safe, batched form.

    ``observe`` (tests, metrics) is called with the campaign and the number of callers after each
    committed transaction. Thread-safe; the async API shares it through its worker threads.
    """

    def __init__(self, commit: Commit, *, flush: Callable[[], None] | None = None, max_entries: int = MAX_ENTRIES) -> None:
        self._commit = commit
        self._flush = flush
        self._max = max_entries
        self._lock = threading.Lock()
        self._queues: dict[str, deque[_Call]] = {}
        self.observe: Callable[[str, int], None] | None = None

    def waiting(self, campaign: str) -> int:
        """Return how many calls are queued for ``campaign`` (not yet taken into a transaction)."""
        with self._lock:
            return len(self._queues.get(campaign, ()))

    def append(self, campaign: str, drafts: Sequence[Draft], after: AfterAppend | None = None) -> list[Stored]:
        """Append ``drafts`` atomically, in a transaction shared with other callers; return the stored
        entries once that transaction committed. Raises what :func:`chain.append` raises for these drafts."""
        call = _Call(drafts, after)
        with self._lock:
            queue = self._queues.get(campaign)
            if queue is None:
                queue = self._queues[campaign] = deque()
                call.lead = True
            queue.append(call)
        if not call.lead:
            call.done.acquire()
        if call.lead:
            self._lead(campaign, queue)
        if call.error is not None:
            raise call.error
        assert call.stored is not None
        return call.stored

    def _lead(self, campaign: str, queue: deque[_Call]) -> None:
        with self._lock:
            batch = [queue.popleft()]
            count = len(batch[0].drafts)
            while queue and count + len(queue[0].drafts) <= self._max:
                count += len(queue[0].drafts)
                batch.append(queue.popleft())
        try:
            self._run(campaign, batch)
        finally:
            with self._lock:
                if queue:
                    queue[0].lead = True
                    queue[0].done.release()
                else:
                    del self._queues[campaign]
            self._durable(batch)  # the next batch runs meanwhile: commits share WAL flushes
            for index, call in enumerate(batch):
                if call.stored is None and call.error is None:  # the leader was interrupted (KeyboardInterrupt…)
                    call.error = LedgerError("the append was interrupted; it may or may not have been recorded")
                if index:  # batch[0] is the leader itself, already going on
                    call.done.release()

    def _run(self, campaign: str, batch: list[_Call]) -> None:
        drafts, after = _combined(batch)
        try:
            stored = self._commit(campaign, drafts, after)
        except (LedgerUnavailable, CommittedButWrong) as error:  # not one caller's fault: no retry
            for call in batch:
                call.error = _copy(error)
            return
        except Exception as error:
            if len(batch) == 1:
                batch[0].error = error
                return
            middle = len(batch) // 2
            self._run(campaign, batch[:middle])
            self._run(campaign, batch[middle:])
            return
        if self.observe is not None:
            self.observe(campaign, len(batch))
        offset = 0
        for call in batch:
            call.stored = stored[offset : offset + len(call.drafts)]
            offset += len(call.drafts)

    def _durable(self, batch: list[_Call]) -> None:
        """With a deferred flush (PostgreSQL, durability=full), wait until the batch's commit is on disk;
        when that fails, every caller whose entries were committed gets :class:`LedgerUnavailable`
        (they may or may not survive a crash of the server, like a commit whose answer was lost)."""
        committed = [call for call in batch if call.stored is not None]
        if self._flush is None or not committed:
            return
        try:
            self._flush()
        except Exception as error:
            unavailable = error if isinstance(error, LedgerUnavailable) else LedgerUnavailable(
                f"the ledger could not confirm that the entries reached the disk: {error}")
            for call in committed:
                call.stored, call.error = None, _copy(unavailable)


def _combined(batch: list[_Call]) -> tuple[list[Draft], AfterAppend | None]:
    """Return the drafts of all calls in order (a ref to the i-th draft of the same call shifted by the
    drafts before it) and one ``after`` that runs each call's own on its own entries, in order; the rows
    of consecutive :class:`DerivedRows` go to the database together, before the next other ``after``."""
    if len(batch) == 1:
        return list(batch[0].drafts), batch[0].after
    drafts: list[Draft] = []
    for call in batch:
        offset = len(drafts)
        drafts.extend(dataclasses.replace(draft, ref=draft.ref - offset) if draft.ref is not None and draft.ref < 0 else draft
                      for draft in call.drafts)

    def after(connection: Connection, stored: list[Stored]) -> None:
        offset = 0
        rows: list[Upsert] = []
        for call in batch:
            own = stored[offset : offset + len(call.drafts)]
            offset += len(call.drafts)
            if isinstance(call.after, DerivedRows):
                rows.extend(call.after.rows(own))
            elif call.after is not None:
                if rows:
                    Raw(connection).upsert_rows(rows)
                    rows = []
                call.after(connection, own)
        if rows:
            Raw(connection).upsert_rows(rows)

    return drafts, after


def _copy(error: E) -> E:
    clone = type(error)(*error.args)
    clone.__cause__ = error.__cause__
    return clone
