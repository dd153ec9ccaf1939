"""Signed receipts (``ugc-guard-receipt/2``): the entry and the entries recorded with it, each with
its inclusion proof to a signed checkpoint, the checkpoint, and a JWS over the canonical receipt.

The format and how to check it are in :mod:`ugc_guard.proof.receipt` and docs/evidence.md; this
module builds one from the database. Everything a receipt holds is public evidence (personal
fields appear only as the sealed ciphertext that every hash covers), so it verifies for ever,
also after the subject's key was destroyed.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.engine import Connection

from ..proof.jws import sign_detached
from ..proof.merkle import inclusion_ranges, needed_nodes, range_hash
from ..proof.receipt import FORMAT, signed_part
from . import tree
from .canonical import utc_text
from .checkpoints import SignedCheckpoint
from .errors import EntryNotFound
from .models import Entry
from .receipts import summarise
from .signing import SigningKey
from .views import ENTRY_COLUMNS

__all__ = ["SignedReceipt", "batch_of", "build_receipt", "entry_rows"]


@dataclass(frozen=True, slots=True)
class SignedReceipt:
    """A signed receipt; :meth:`to_dict` / :meth:`to_json` are what the uploader keeps."""

    data: dict[str, Any]

    @property
    def entry_id(self) -> int:
        return int(self.data["entry_id"])

    @property
    def hash(self) -> str:
        """The chain hash of the entry the receipt is for."""
        return str(self.data["entries"][0]["hash"])

    @property
    def kind(self) -> str:
        return str(self.data["entries"][0]["kind"])

    @property
    def tree_size(self) -> int:
        return int(self.data["checkpoint"].split("\n")[1])

    def to_dict(self) -> dict[str, Any]:
        """Return the receipt as a JSON-ready dict (a copy)."""
        return copy.deepcopy(self.data)

    def to_json(self) -> str:
        """Return the receipt as indented JSON text (its signature covers the content, not the layout)."""
        return json.dumps(self.data, ensure_ascii=False, indent=2)


_ENTRY_ROWS = select(*ENTRY_COLUMNS).where(Entry.id.in_(bindparam("ids", expanding=True)))
"""Built once: building the statement anew cost more than running it (a receipt per upload reads its rows)."""


def entry_rows(connection: Connection, ids: Sequence[int]) -> list[Any]:
    """Return the entry rows of ``ids`` in that order. Raises :class:`EntryNotFound` for an unknown id."""
    rows = {row.id: row for row in connection.execute(_ENTRY_ROWS, {"ids": list(ids)})}
    missing = [entry_id for entry_id in ids if entry_id not in rows]
    if missing:
        raise EntryNotFound(f"no ledger entry with id {missing[0]}")
    return [rows[entry_id] for entry_id in ids]


def batch_of(connection: Connection, entry_id: int) -> list[int]:
    """Return ``entry_id`` and the entries appended with it that refer to it or that it refers to
    (an acceptance's age result, a submission's licence and portrait grants), main entry first."""
    main = entry_rows(connection, [entry_id])[0]
    linked = or_(Entry.ref == main.id, Entry.id == main.ref) if main.ref is not None else Entry.ref == main.id
    near = connection.execute(select(Entry.id, Entry.campaign, Entry.recorded_at).where(linked).order_by(Entry.position)).all()
    return [main.id, *(row.id for row in near if row.campaign == main.campaign and row.recorded_at == main.recorded_at)]


def _entry(row: Any, path: list[bytes]) -> dict[str, Any]:
    return {
        "entry_id": row.id,
        "campaign": row.campaign,
        "position": row.position,
        "previous_hash": row.previous_hash,
        "kind": row.kind,
        "subject": row.subject,
        "recorded_at": utc_text(row.recorded_at),
        "ref": row.ref,
        "content_sha256": row.content_sha256,
        "terms_version": row.terms_version,
        "status": row.status,
        "body": row.body,
        "hash": row.hash,
        "summary": summarise(row.kind, json.loads(row.body)),
        "inclusion": [base64.b64encode(node).decode() for node in path],
    }


def build_receipt(connection: Connection, rows: Sequence[Any], checkpoint: SignedCheckpoint, key: SigningKey) -> SignedReceipt:
    """Return the signed receipt for entry rows ``rows`` (the main one first), with their inclusion
    proofs to ``checkpoint`` (which must cover them), signed by ``key``."""
    paths = [inclusion_ranges(row.position - 1, checkpoint.size) for row in rows]
    nodes = tree.read_nodes(connection, rows[0].campaign, needed_nodes(pair for path in paths for pair in path))
    entries = [_entry(row, [range_hash(low, high, nodes) for low, high in path]) for row, path in zip(rows, paths, strict=True)]
    data: dict[str, Any] = {
        "format": FORMAT,
        "origin": checkpoint.origin,
        "entry_id": rows[0].id,
        "issued_at": utc_text(dt.datetime.now(dt.UTC)),
        "entries": entries,
        "checkpoint": checkpoint.note,
    }
    data["signature"] = sign_detached(signed_part(data), key.private, key.kid)
    return SignedReceipt(data)
