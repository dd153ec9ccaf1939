"""What the gate hands to its store, and what it gets back: plain records, no database types."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AcceptanceRecord", "GuardianConfirmation", "GuardianRequestRecord", "PendingGuardian", "Recorded"]


@dataclass(frozen=True, slots=True)
class AcceptanceRecord:
    """One click-wrap acceptance of the current terms (and licence) by the subject themselves."""

    subject: str
    terms_document: str
    terms_version: str
    terms_sha256: str
    licence_id: str | None
    licence_version: str | None
    licence_sha256: str | None
    language: str
    collection_method: str
    """``click-wrap:unticked-checkbox`` (the form) or ``api:json`` (a JSON post)."""
    policy_digest: str
    age_band: str | None
    age_method: str
    age_assurance: str
    guardian_required: bool
    guardians_required: int
    reconfirm_due: _dt.date | None
    """Set for minors: by this day they are of age and should confirm again (see :func:`age.reconfirm_due`)."""
    client_address: str | None = None
    """Raw; the ledger keeps only what ``policy.privacy`` allows (a keyed hash or a prefix)."""
    user_agent: str | None = None
    accepted_at: _dt.datetime = field(default_factory=lambda: _dt.datetime.now(_dt.UTC))


@dataclass(frozen=True, slots=True)
class Recorded:
    """What the person is shown: the ledger's id and hash of the entry, and when it was recorded."""

    entry_id: str
    entry_hash: str
    recorded_at: _dt.datetime
    kind: str = "acceptance"


@dataclass(frozen=True, slots=True)
class GuardianRequestRecord:
    subject: str
    acceptance_id: str
    token_hash: str
    expires_at: _dt.datetime
    guardian_email: str
    """Stored encrypted by the ledger (under the subject's key), never in the clear."""
    language: str
    guardian_index: int = 1
    """1 or 2: which holder of parental authority this request is for."""
    checks: Mapping[str, Any] = field(default_factory=dict)
    """What was checked when the address was given (``address_differs_from_minor``: true, or None when
    the minor's own address was not known); public, no personal data."""


@dataclass(frozen=True, slots=True)
class PendingGuardian:
    """A guardian request found by its token hash, in this campaign."""

    request_id: str
    subject: str
    acceptance_id: str
    terms_version: str | None
    expires_at: _dt.datetime
    used: bool
    language: str = "en"


@dataclass(frozen=True, slots=True)
class GuardianConfirmation:
    request_id: str
    subject: str
    acceptance_id: str
    guardian_name: str
    relationship: str
    terms_document: str
    terms_version: str
    terms_sha256: str
    licence_id: str
    licence_version: str
    licence_sha256: str
    language: str
    policy_digest: str
    client_address: str | None = None
    user_agent: str | None = None
    checks: Mapping[str, Any] = field(default_factory=dict)
    """What the gate checked (token possession, not the minor's session); the ledger adds its own."""
    confirmed_at: _dt.datetime = field(default_factory=lambda: _dt.datetime.now(_dt.UTC))
