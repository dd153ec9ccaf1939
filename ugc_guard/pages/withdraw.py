"""Deciding what a withdrawal covers, and the events the app's hooks receive (plain functions).

A subject may withdraw portrait consent for one of their submissions or for all of them, or
withdraw consent to processing altogether (which covers all their submissions too). A submission
that is not theirs is answered exactly like one that does not exist, so nobody can probe for
others' submission ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from .export import GONE

__all__ = ["NotTheirs", "Scope", "Target", "deletion_event", "file_refs", "parse_target", "plan_withdrawal", "withdrawal_event"]

Scope = Literal["portrait", "processing"]
Target = int | Literal["all"]


class NotTheirs(LookupError):
    """The named submission does not exist or belongs to someone else (the caller answers 404 either way)."""


def parse_target(value: Any) -> Target:
    """Return ``"all"`` or a submission id from form or JSON input; raises ValueError otherwise."""
    if value == "all":
        return "all"
    if isinstance(value, bool):
        raise ValueError("submission must be a submission id or 'all'")
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 19 and int(value) > 0:
        return int(value)
    raise ValueError("submission must be a submission id or 'all'")


def plan_withdrawal(own: Mapping[int, Mapping[str, Any]], scope: Scope, target: Target) -> list[int]:
    """Return the ids of the subject's submissions (``own``: id -> status…) the withdrawal covers,
    skipping those already withdrawn, expired or erased. Raises :class:`NotTheirs` for a single
    target that is not in ``own``."""
    if scope == "processing" or target == "all":
        return [sid for sid, item in own.items() if item["status"] not in GONE]
    if target not in own:
        raise NotTheirs(target)
    return [] if own[target]["status"] in GONE else [target]


def file_refs(own: Mapping[int, Mapping[str, Any]], ids: Sequence[int]) -> list[dict[str, Any]]:
    """Return what the app needs to find each file: submission id and both content hashes."""
    return [{"submission_id": sid, "content_sha256": own[sid].get("content_sha256"),
             "canonical_sha256": own[sid].get("canonical_sha256")} for sid in ids]


def withdrawal_event(campaign: str, subject: str, scope: Scope, files: list[dict[str, Any]], entry_id: int,
                     recorded_at: str) -> dict[str, Any]:
    """Return the ``hooks.withdrawal`` event: unpublish these files (the licence stays, the portrait consent is gone)."""
    return {"event": "withdrawal", "campaign": campaign, "subject": subject, "scope": scope, "submissions": files,
            "entry_id": entry_id, "recorded_at": recorded_at}


def deletion_event(campaign: str, reason: str, files: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the ``hooks.content_deletion`` event: delete these files (``reason`` ``retention`` or ``erasure``).
    The hook must treat a file that is already gone as deleted: after a failure the same files come again."""
    return {"event": "content-deletion", "campaign": campaign, "reason": reason, "files": files}
