"""Signed checkpoints of a campaign's log (c2sp.org/tlog-checkpoint): origin, tree size, root hash,
signed as a C2SP signed note by the campaign's current key under the origin as key name.

A tree size is signed at most once per process (:class:`CheckpointCache`); Ed25519 signatures are
deterministic, so two processes signing the same size produce the same note.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from ..proof.note import checkpoint_text, sign_note
from . import tree
from .errors import LedgerError
from .signing import SigningKey

__all__ = ["CheckpointCache", "SignedCheckpoint", "log_origin", "sign_checkpoint", "tree_head"]

_ORIGIN = re.compile(r"[^\s+]+")


def log_origin(host: str, campaign: str) -> str:
    """Return the log's origin line ``<host>/ugc-guard/<campaign>`` (also the checkpoint key name).

    Use one stable host (the campaign's first), never the request's: witnesses and receipts name the
    log by it. Raises :class:`LedgerError` when the result holds spaces or ``+``.
    """
    origin = f"{host.strip().lower().rstrip('.')}/ugc-guard/{campaign}"
    if not host.strip() or not _ORIGIN.fullmatch(origin):
        raise LedgerError(f"log origin {origin!r} must be a host and campaign without spaces or '+'")
    return origin


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A signed checkpoint: its tree ``size``, ``root`` hash and the signed ``note`` text."""

    origin: str
    size: int
    root: bytes
    note: str


def tree_head(connection: Connection, campaign: str) -> tuple[int, bytes]:
    """Return the campaign's current tree size and root hash (from O(log n) stored nodes)."""
    size = tree.tree_size(connection, campaign)
    return size, tree.root(connection, campaign, size, size)


def sign_checkpoint(origin: str, size: int, root: bytes, key: SigningKey) -> SignedCheckpoint:
    """Return the checkpoint of ``size`` and ``root`` signed by ``key`` with ``origin`` as key name."""
    return SignedCheckpoint(origin, size, root, sign_note(checkpoint_text(origin, size, root), origin, key.private))


class CheckpointCache:
    """The newest checkpoints this process signed for one log, by tree size (thread-safe)."""

    def __init__(self, origin: str, key: SigningKey, keep: int = 32) -> None:
        self.origin = origin
        self.key = key
        self._keep = keep
        self._signed: OrderedDict[int, SignedCheckpoint] = OrderedDict()
        self._lock = threading.Lock()

    def sign(self, size: int, root: bytes) -> SignedCheckpoint:
        """Return the signed checkpoint of ``size`` and ``root``, signing only if this size is new.
        Raises :class:`LedgerError` if ``size`` was signed before with another root: the database changed
        under the log, and signing both would be a fork."""
        with self._lock:
            known = self._signed.get(size)
        if known is not None:
            if known.root != root:
                raise LedgerError(
                    f"log {self.origin}: tree size {size} already signed with another root; the ledger was rewritten (refusing to sign a fork)"
                )
            return known
        signed = sign_checkpoint(self.origin, size, root, self.key)
        with self._lock:
            self._signed[size] = signed
            self._signed.move_to_end(size)
            while len(self._signed) > self._keep:
                self._signed.popitem(last=False)
        return signed

    def covering(self, size: int, at_most: int | None = None) -> SignedCheckpoint | None:
        """Return the largest cached checkpoint of at least ``size`` entries (and at most ``at_most``), or None."""
        limit = at_most if at_most is not None else float("inf")
        with self._lock:
            best = max((signed for signed in self._signed.values() if size <= signed.size <= limit), key=lambda c: c.size, default=None)
        return best
