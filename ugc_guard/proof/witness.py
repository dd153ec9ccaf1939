"""A witness: keeps the last checkpoint it accepted from each log and accepts a new one only if the
log grew consistently from it, so a fork or a rewritten history is refused and stays on record.

The store is a folder with one sub-folder per log origin (percent-encoded) holding ``keys.json``
(the key set trusted on first use or given), ``checkpoint`` (the last accepted signed note) and
``history`` (one line per accepted checkpoint: UTC time, size, base64 root).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import tempfile
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .keys import KeysError, PublicKey, parse_jwks
from .merkle import ProofError, verify_consistency
from .note import Checkpoint, NoteError, parse_checkpoint
from .receipt import ReceiptError, verify_checkpoint

__all__ = ["Accepted", "WitnessRefusal", "WitnessStore", "witness"]

ProofSource = Callable[[int, int], Any]
"""Returns the consistency proof JSON (``{"from", "to", "proof"}``) between two sizes."""


class WitnessRefusal(Exception):
    """The witness refuses the checkpoint (bad signature, fork, rollback, inconsistent); one-line reason."""


@dataclass(frozen=True, slots=True)
class Accepted:
    """A checkpoint the witness accepted, and the size it grew from (None on first use)."""

    checkpoint: Checkpoint
    previous: int | None


class WitnessStore:
    """The witness's folder of logs it follows."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _log(self, origin: str) -> Path:
        name = urllib.parse.quote(origin, safe="")
        return self.folder / ("%2E" + name[1:] if name.startswith(".") else name)  # "." and ".." name no folder of the store

    def keys(self, origin: str) -> dict[str, Any] | None:
        """Return the key set stored for ``origin``, or None."""
        path = self._log(origin) / "keys.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    def last(self, origin: str) -> str | None:
        """Return the last accepted signed checkpoint of ``origin``, or None."""
        path = self._log(origin) / "checkpoint"
        return path.read_text(encoding="utf-8") if path.exists() else None

    def save(self, origin: str, note: str, checkpoint: Checkpoint, jwks: dict[str, Any]) -> None:
        """Store the accepted checkpoint and key set, and add a history line."""
        folder = self._log(origin)
        folder.mkdir(parents=True, exist_ok=True)
        _write(folder / "keys.json", json.dumps(jwks, indent=2, sort_keys=True) + "\n")
        _write(folder / "checkpoint", note)
        moment = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with open(folder / "history", "a", encoding="utf-8") as history:
            history.write(f"{moment} {checkpoint.size} {base64.b64encode(checkpoint.root).decode()}\n")


def _write(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as handle:
        handle.write(text)
    os.replace(handle.name, path)


def _merge_keys(stored: dict[str, Any] | None, given: dict[str, Any] | None) -> dict[str, Any]:
    keys = [*(stored or {}).get("keys", []), *(given or {}).get("keys", [])]
    unique = {json.dumps(key, sort_keys=True): key for key in keys if isinstance(key, dict)}
    return {"keys": list(unique.values())}


def witness(store: WitnessStore, note: str, given_keys: dict[str, Any] | None, proof_source: ProofSource) -> Accepted:
    """Check signed checkpoint ``note`` and, if it extends the last one stored for its log, store it.

    Keys: those stored for the log on first use, plus ``given_keys`` (a JWKS) if passed. The new
    checkpoint must be signed by one of them; if it is larger than the stored one, ``proof_source``
    is asked for the consistency proof, which must verify. Returns what was accepted. Raises
    :class:`WitnessRefusal` for a bad signature, a rollback (smaller tree), a fork (same size,
    other root) or a failed consistency proof; nothing is stored then.
    """
    try:
        origin = parse_checkpoint(note.partition("\n\n")[0] + "\n").origin
    except NoteError as error:
        raise WitnessRefusal(f"checkpoint: {error}") from None
    stored = store.keys(origin)
    if stored is None and given_keys is None:
        raise WitnessRefusal(f"no keys stored for {origin}; pass --keys the first time")
    jwks = _merge_keys(stored, given_keys)
    try:
        keys: list[PublicKey] = parse_jwks(jwks)
        checkpoint = verify_checkpoint(note, origin, keys)
    except (KeysError, ReceiptError) as error:
        raise WitnessRefusal(str(error)) from None
    last_note = store.last(origin)
    if last_note is None:
        store.save(origin, note, checkpoint, jwks)
        return Accepted(checkpoint, None)
    try:
        last = verify_checkpoint(last_note, origin, keys)
    except ReceiptError as error:
        raise WitnessRefusal(f"the stored checkpoint no longer verifies: {error}") from None
    if checkpoint.size < last.size:
        raise WitnessRefusal(f"rollback: {origin} shows {checkpoint.size} entries after showing {last.size}")
    proof: Any = {"from": last.size, "to": checkpoint.size, "proof": []}
    if checkpoint.size > last.size:
        try:
            proof = proof_source(last.size, checkpoint.size)
        except OSError as error:
            raise WitnessRefusal(f"cannot get the consistency proof from {last.size} to {checkpoint.size}: {error}") from None
    try:
        hashes = [base64.b64decode(value, validate=True) for value in proof["proof"]]
        if (proof["from"], proof["to"]) != (last.size, checkpoint.size):
            raise ValueError("the proof is for other sizes")
        verify_consistency(last.size, checkpoint.size, last.root, checkpoint.root, hashes)
    except ProofError as error:
        raise WitnessRefusal(f"fork: {origin} at {checkpoint.size} is not an extension of {last.size}: {error}") from None
    except (KeyError, TypeError, ValueError) as error:
        raise WitnessRefusal(f"the consistency proof from {last.size} to {checkpoint.size} is malformed: {error}") from None
    store.save(origin, note, checkpoint, jwks)
    return Accepted(checkpoint, last.size)
