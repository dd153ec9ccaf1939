"""``ProofLog``: one campaign's transparency log over a :class:`Ledger` — signed checkpoints, its
key set, inclusion and consistency proofs (hashes only) and signed receipts.

Build one per site at startup and keep it: it caches what it signed, so a tree size is signed once
and receipts issued close together share a checkpoint (the newest one already covering their
entries). :class:`AsyncProofLog` runs the same calls in worker threads.
"""

from __future__ import annotations

import base64
import functools
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import anyio.to_thread
from sqlalchemy import select

from ..proof.merkle import EMPTY_ROOT
from ..proof.note import NoteError, checkpoint_text, parse_checkpoint
from . import tree
from .aio import AsyncLedger
from .checkpoints import CheckpointCache, SignedCheckpoint, log_origin, tree_head
from .engine import WRITE, translate_errors
from .errors import EntryNotFound, LedgerError
from .ledger import Ledger
from .models import ChainHead
from .receipts import Receipt
from .signed_receipts import SignedReceipt, batch_of, build_receipt, entry_rows
from .signing import KeyRing, key_ring, retired_jwks

if TYPE_CHECKING:
    from ..policy import Policy

__all__ = ["AsyncProofLog", "ProofLog", "rebuild_trees"]

P = ParamSpec("P")
T = TypeVar("T")


def _b64(nodes: list[bytes]) -> list[str]:
    return [base64.b64encode(node).decode() for node in nodes]


class ProofLog:
    """The log of ``campaign`` in ``ledger``, named ``origin`` (see :func:`checkpoints.log_origin`),
    signed with keys derived from ``secrets`` (newest first; see :mod:`ugc_guard.ledger.signing`).

    Raises :class:`LedgerError` without a secret or for an origin a checkpoint cannot carry. Every method raises :class:`LedgerUnavailable`
    when the database cannot be reached.
    """

    def __init__(
        self,
        ledger: Ledger | AsyncLedger,
        campaign: str,
        origin: str,
        secrets: Sequence[bytes | str],
        *,
        retired: Iterable[Mapping[str, Any]] = (),
        generation: int = 1,
    ) -> None:
        self.ledger = ledger.sync if isinstance(ledger, AsyncLedger) else ledger
        self.campaign = campaign
        try:
            self.origin = parse_checkpoint(checkpoint_text(origin, 0, EMPTY_ROOT)).origin
        except NoteError:
            raise LedgerError(f"log origin {origin!r} must be non-empty, without spaces or '+'") from None
        self.keys: KeyRing = key_ring(secrets, campaign, generation=generation, retired=retired)
        self._cache = CheckpointCache(origin, self.keys.current)

    @classmethod
    def from_policy(cls, ledger: Ledger | AsyncLedger, policy: Policy, *, retired: Iterable[Mapping[str, Any]] = ()) -> ProofLog:
        """Return the log of the policy's campaign, named after the host of ``campaign.base_url``, signed
        with keys from the policy's secret (or secrets, newest first), publishing ``ledger.retired_keys``
        and ``retired`` as retired keys. Raises :class:`LedgerError` without a secret."""
        host = urllib.parse.urlsplit(policy.campaign.base_url).netloc
        kept = [*retired_jwks(policy), *retired]
        return cls(ledger, policy.campaign.id, log_origin(host, policy.campaign.id), policy.secrets(), retired=kept)

    def jwks(self) -> dict[str, Any]:
        """Return the log's public keys as a JWKS (current key first, retired ones marked)."""
        return self.keys.jwks()

    def checkpoint(self) -> SignedCheckpoint:
        """Return the signed checkpoint of the log as it is now. Raises :class:`LedgerError` if this
        process signed the same size with another root before (the database was rewritten)."""
        with self.ledger._core.connect() as connection:
            size, root = tree_head(connection, self.campaign)
        self.ledger._core.flush()  # never sign a tree head that a server crash could still take back
        return self._cache.sign(size, root)

    def inclusion(self, entry_id: int, size: int | None = None) -> dict[str, Any]:
        """Return the inclusion proof of entry ``entry_id`` in the tree of ``size`` entries (default: now):
        ``origin``, ``entry_id``, ``leaf_index``, ``tree_size``, ``entry_hash`` and base64 ``proof``.
        Raises :class:`EntryNotFound` for an entry not in this log and :class:`tree.TreeSizeError` for a
        size the log does not have or that does not include the entry."""
        with self.ledger._core.connect() as connection:
            row = self._rows(connection, [entry_id])[0]
            current = tree.tree_size(connection, self.campaign)
            size = current if size is None else size
            if row.position > size:
                raise tree.TreeSizeError(f"entry {entry_id} is at position {row.position}, after a tree of {size}")
            path = tree.inclusion(connection, self.campaign, row.position - 1, size, current)
        return {
            "origin": self.origin,
            "entry_id": entry_id,
            "leaf_index": row.position - 1,
            "tree_size": size,
            "entry_hash": row.hash,
            "proof": _b64(path),
        }

    def consistency(self, old: int, new: int | None = None) -> dict[str, Any]:
        """Return the consistency proof from the tree of ``old`` entries to that of ``new`` (default: now):
        ``origin``, ``from``, ``to`` and base64 ``proof``. Raises :class:`tree.TreeSizeError`."""
        with self.ledger._core.connect() as connection:
            current = tree.tree_size(connection, self.campaign)
            new = current if new is None else new
            proof = tree.consistency(connection, self.campaign, old, new, current)
        return {"origin": self.origin, "from": old, "to": new, "proof": _b64(proof)}

    def issue_receipt(self, entry: int | Receipt | Sequence[int]) -> SignedReceipt:
        """Return the signed receipt for an entry: an entry id (its batch is found: an acceptance's age
        result, a submission's grants), a :class:`Receipt` from a ``record_*`` call (exactly its
        entries), or entry ids (the main one first). Raises :class:`EntryNotFound` for an entry not in this log."""
        with self.ledger._core.connect() as connection:
            if isinstance(entry, Receipt):
                ids = [entry.entry_id, *(int(item["entry_id"]) for item in entry.related)]
            elif isinstance(entry, int):
                ids = batch_of(connection, entry)
            else:
                ids = list(entry)
            rows = self._rows(connection, ids)
            # Only a checkpoint this connection can prove against: on SQLite the read transaction is a
            # snapshot, and another thread may meanwhile have signed one over entries committed after it.
            visible = tree.tree_size(connection, self.campaign)
            checkpoint = self._cache.covering(max(row.position for row in rows), at_most=visible)
            if checkpoint is None:
                head = tree_head(connection, self.campaign)
                self.ledger._core.flush()
                checkpoint = self._cache.sign(*head)
            return build_receipt(connection, rows, checkpoint, self.keys.current)

    def _rows(self, connection: Any, ids: Sequence[int]) -> list[Any]:
        rows = entry_rows(connection, ids)
        for row in rows:
            if row.campaign != self.campaign:
                raise EntryNotFound(f"entry {row.id} is not in the log of campaign {self.campaign!r}")
        return rows


class AsyncProofLog:
    """Async facade over :class:`ProofLog` (same methods, run in worker threads; ``limiter`` caps them)."""

    def __init__(self, log: ProofLog, *, limiter: anyio.CapacityLimiter | None = None) -> None:
        self.sync = log
        self._limiter = limiter

    async def _run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs), limiter=self._limiter)

    def jwks(self) -> dict[str, Any]:
        return self.sync.jwks()

    async def checkpoint(self) -> SignedCheckpoint:
        return await self._run(self.sync.checkpoint)

    async def inclusion(self, entry_id: int, size: int | None = None) -> dict[str, Any]:
        return await self._run(self.sync.inclusion, entry_id, size)

    async def consistency(self, old: int, new: int | None = None) -> dict[str, Any]:
        return await self._run(self.sync.consistency, old, new)

    async def issue_receipt(self, entry: int | Receipt | Sequence[int]) -> SignedReceipt:
        return await self._run(self.sync.issue_receipt, entry)


def rebuild_trees(ledger: Ledger, campaign: str | None = None, *, write: bool = True) -> dict[str, tuple[int, bytes, bool]]:
    """Recompute the Merkle tree of one campaign (or all) from the entries, holding each campaign's
    chain lock so no append runs meanwhile. Returns, per campaign, the size, the root computed from
    the entries and whether the stored nodes were exactly the computed ones. ``write=False`` only compares. The root
    changes only if stored nodes were damaged: checkpoints and witnesses, not the database, are the anchor."""
    core = ledger._core
    with core.connect() as connection:
        campaigns = [campaign] if campaign else [row[0] for row in connection.execute(select(ChainHead.campaign))]
    done = {}
    for name in campaigns:
        with translate_errors(core.url), core.engine.connect().execution_options(**WRITE) as connection, connection.begin():
            connection.execute(select(ChainHead.position).where(ChainHead.campaign == name).with_for_update())
            done[name] = tree.rebuild(connection, name, write=write)
    return done
