"""Portable proof: what anyone can check about a ugc_guard ledger without its database, policy or secret.

Pure functions over bytes and JSON (stdlib, ``cryptography`` and ``joserfc`` only): RFC 6962 Merkle
proofs (:mod:`.merkle`), C2SP signed notes and checkpoints (:mod:`.note`), RFC 8785 canonical JSON
(:mod:`.jcs`), signed receipts (:mod:`.receipt`) and a witness's checks (:mod:`.witness`).
See docs/evidence.md.
"""

from __future__ import annotations
