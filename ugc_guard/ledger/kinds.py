"""Entry kinds: what each kind's payload holds, which of its fields are personal (sealed) and what a
receipt summarises. A new kind is one :func:`register` call; nothing else in the chain changes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["KINDS", "Kind", "kind", "register"]

Summary = Callable[[Mapping[str, Any]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of entry. ``personal`` fields are sealed with the subject key; ``summary`` returns the
    part of the public payload a receipt repeats (what was granted)."""

    name: str
    personal: frozenset[str] = frozenset()
    summary: Summary = field(default=lambda payload: dict(payload))
    description: str = ""


KINDS: dict[str, Kind] = {}


def register(new: Kind) -> Kind:
    """Add an entry kind; returns it. Raises :class:`ValueError` if the name is taken by another kind."""
    existing = KINDS.get(new.name)
    if existing is not None and existing != new:
        raise ValueError(f"entry kind {new.name!r} is already registered")
    KINDS[new.name] = new
    return new


def kind(name: str) -> Kind:
    """Return a registered kind; an unknown name (a newer ugc_guard wrote it) gets a default with no personal fields."""
    return KINDS.get(name) or Kind(name)


def _pick(*keys: str) -> Summary:
    return lambda payload: {key: payload[key] for key in keys if key in payload}


EVIDENCE = frozenset({"client_address", "user_agent"})

TERMS_ACCEPTANCE = register(Kind(
    "terms_acceptance",
    EVIDENCE,
    _pick("document_id", "version", "text_sha256", "language", "collection_method", "capacity", "guardian_entries",
          "policy_digest", "licence"),
    "Acceptance of a terms text (its SHA-256), by the subject or through guardian entries.",
))
AGE_RESULT = register(Kind(
    "age_result", frozenset(), _pick("band", "method", "assurance", "reconfirm_at_majority", "issuer", "attestation_expires"),
    "Result of an age check: band, method, assurance level, and for an attestation its issuer and expiry "
    "(never the date of birth, nor the attestation).",
))
GUARDIAN_REQUESTED = register(Kind(
    "guardian_requested", EVIDENCE | {"guardian_email"}, _pick("token_sha256", "expires_at", "guardian_index", "channel"),
    "A parent or guardian was asked to confirm; the link's one-time token only as a hash.",
))
GUARDIAN_CONFIRMED = register(Kind(
    "guardian_confirmed", EVIDENCE | {"guardian_name", "relationship", "guardian_address"},
    _pick("request_entry", "covers", "terms_version", "licence_id", "licence_version", "guardian_index", "channel", "checks"),
    "A parent or guardian confirmed the terms and licence on the minor's behalf.",
))
GUARDIAN_WITHDRAWN = register(Kind(
    "guardian_withdrawn", EVIDENCE, _pick("request_entry", "reason"),
    "A parent or guardian withdrew their consent.",
))
SUBMISSION = register(Kind(
    "submission", EVIDENCE | {"original_name"},
    _pick("content_sha256", "canonical_sha256", "size", "declared_type", "detected_type", "acceptance_entry", "status",
          "cleaning", "stripped", "kept"),
    "An uploaded file, by content hash, relying on an acceptance.",
))
SUBMISSION_STATUS = register(Kind(
    "submission_status", frozenset(), _pick("submission_entry", "status", "reason"),
    "A later status of a submission (stored, not stored, withdrawn, expired, erased).",
))
LICENCE_GRANT = register(Kind(
    "licence_grant", frozenset(),
    _pick("licence_id", "licence_version", "text_sha256", "rights", "territory", "exclusive",
          "royalty_free", "sublicensable", "irrevocable", "warranties"),
    "The copyright licence granted for one submission.",
))
PORTRAIT_GRANT = register(Kind(
    "portrait_grant", frozenset(), _pick("own_consent", "others_declaration", "withdrawable"),
    "Portrait-right consent for one submission (consent plus a promise not to object; not a transfer).",
))
WITHDRAWAL = register(Kind(
    "withdrawal", EVIDENCE, _pick("scope", "target_entry", "reason"),
    "The subject withdrew a consent (portrait, terms, a submission).",
))
ERASURE = register(Kind(
    "erasure", frozenset(), _pick("reason", "requested_by"),
    "The subject's personal data was erased: their key was destroyed.",
))
RETENTION_ACTION = register(Kind(
    "retention_action", frozenset(), _pick("action", "target_entry", "rule", "period", "anchor"),
    "A retention rule acted on a submission or on personal data.",
))
MARK_USED = register(Kind(
    "mark_used", frozenset(), _pick("submission_entry", "production", "used_on"),
    "A submission was used in a production (the anchor for 'last use' retention).",
))
