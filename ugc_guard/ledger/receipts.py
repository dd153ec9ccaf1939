"""Receipts: what an app hands to the person who accepted or uploaded, and how one is checked.

A receipt names its entry (id, campaign, chain position, hash) and repeats what was granted
(``summary``); ``related`` lists the entries recorded with it (the age result of an acceptance, the
licence and portrait grants of a submission). Checking one re-reads every named entry, recomputes
its hash from the stored row and compares every field, so an edited receipt or row fails.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from ..proof.receipt import FORMAT as SIGNED_FORMAT
from .chain import Stored
from .errors import ReceiptInvalid
from .kinds import kind as kind_of

__all__ = ["FORMAT", "Receipt", "ReceiptCheck", "receipt_for"]

FORMAT = "ugc-guard-ledger-receipt/1"
_ENTRY_KEYS = ("entry_id", "campaign", "position", "kind", "subject", "recorded_at", "hash", "summary")


@dataclass(frozen=True, slots=True)
class Receipt:
    """A receipt for an acceptance or submission; :meth:`to_json` is what the app hands out."""

    entry_id: int
    campaign: str
    position: int
    kind: str
    subject: str | None
    recorded_at: str
    hash: str
    summary: dict[str, Any]
    related: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the receipt as a JSON-ready dict (a copy: changing it leaves the receipt as it was)."""
        main = {key: getattr(self, key) for key in _ENTRY_KEYS}
        return copy.deepcopy({"format": FORMAT, **main, "related": list(self.related)})

    def to_json(self) -> str:
        """Return the receipt as indented JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def entries(self) -> list[dict[str, Any]]:
        """Return every entry the receipt names (the main one first) as dicts of the receipt keys."""
        return [{key: getattr(self, key) for key in _ENTRY_KEYS}, *self.related]

    @classmethod
    def from_dict(cls, data: Any) -> Receipt:
        """Return the receipt in ``data`` (this format, or the entries of a signed ``ugc-guard-receipt/2``).
        Raises :class:`ReceiptInvalid` naming the first bad field."""
        if isinstance(data, dict) and data.get("format") == SIGNED_FORMAT:
            entries = data.get("entries")
            if not isinstance(entries, list) or not entries or not isinstance(entries[0], dict):
                raise ReceiptInvalid("receipt field entries: must be a non-empty list of entries")
            data = {**entries[0], "format": FORMAT, "related": entries[1:]}
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ReceiptInvalid(f"not a ledger receipt: format must be {FORMAT!r}")
        related = data.get("related", [])
        if not isinstance(related, list):
            raise ReceiptInvalid("receipt field related: must be a list")
        for index, item in enumerate([data, *related]):
            where = "receipt" if index == 0 else f"receipt field related[{index - 1}]"
            if not isinstance(item, dict):
                raise ReceiptInvalid(f"{where}: must be an object")
            for key, kind in (("entry_id", int), ("position", int), ("campaign", str), ("kind", str), ("hash", str),
                              ("recorded_at", str), ("summary", dict)):
                if not isinstance(item.get(key), kind) or isinstance(item.get(key), bool):
                    raise ReceiptInvalid(f"{where}: field {key} is missing or not a {kind.__name__}")
                if kind is int and not -(2**63) <= item[key] < 2**63:  # no database column holds it
                    raise ReceiptInvalid(f"{where}: field {key} is out of range")
        return cls(
            data["entry_id"], data["campaign"], data["position"], data["kind"], data.get("subject"), data["recorded_at"],
            data["hash"], data["summary"], tuple(related),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Receipt:
        """Parse receipt JSON. Raises :class:`ReceiptInvalid` when it is not JSON or not a receipt."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ReceiptInvalid(f"receipt is not valid JSON: {error}") from None
        return cls.from_dict(data)


@dataclass(frozen=True, slots=True)
class ReceiptCheck:
    """The result of checking a receipt: ``ok``, and one line per mismatch found."""

    ok: bool
    problems: list[str] = field(default_factory=list)


def summarise(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Return the summary a receipt repeats for an entry of ``kind`` with public ``payload``."""
    return kind_of(kind).summary({key: value for key, value in payload.items() if key != "sealed"})


def entry_dict(entry: Stored) -> dict[str, Any]:
    from .canonical import utc_text

    return {
        "entry_id": entry.id, "campaign": entry.campaign, "position": entry.position, "kind": entry.kind,
        "subject": entry.subject, "recorded_at": utc_text(entry.recorded_at), "hash": entry.hash,
        "summary": summarise(entry.kind, entry.payload),
    }


def receipt_for(stored: list[Stored], main: int = 0) -> Receipt:
    """Return the receipt for a batch of appended entries; ``main`` is the index of the one it is for."""
    first = entry_dict(stored[main])
    related = tuple(entry_dict(entry) for index, entry in enumerate(stored) if index != main)
    return Receipt(**first, related=related)
