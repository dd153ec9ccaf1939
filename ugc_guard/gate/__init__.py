"""The terms and age gate: subject cookie, terms page, accept, status, guardian consent, upload gate.

:func:`gate_stages` gives the pipeline its three stages for a site; :func:`set_notifier` and
:func:`set_store` replace a running site's notifier or store (tests capture guardian links so).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..rules.standing import SubjectStatus
from .enforce import UploadGate
from .notifier import GuardianMessage, LogNotifier, Notifier, SmtpNotifier
from .pages import PagesStage
from .service import Gate
from .store import GateStore

if TYPE_CHECKING:
    from ..sites import Site
    from .subject import SubjectStage

__all__ = [
    "Gate",
    "GateStore",
    "GuardianMessage",
    "LogNotifier",
    "Notifier",
    "PagesStage",
    "SmtpNotifier",
    "SubjectStatus",
    "UploadGate",
    "find_gate",
    "gate_stages",
    "set_notifier",
    "set_store",
]


def gate_stages(site: Site) -> tuple[SubjectStage, PagesStage, UploadGate]:
    """Return the subject stage (first in the pipeline), the pages stage and the upload gate of ``site``."""
    gate = Gate(site)
    return gate.subjects, PagesStage(gate), UploadGate(gate)


def find_gate(guard: Any, campaign: str | None = None) -> Gate:
    """Return the :class:`Gate` of a UGCGuard's only (or its named) campaign."""
    stages_by_site: dict[Any, Iterable[Any]] = guard.stages
    for site, stages in stages_by_site.items():
        if campaign is None or site.campaign == campaign:
            for stage in stages:
                if isinstance(stage, PagesStage):
                    return stage.gate
    raise LookupError(f"no gate found for campaign {campaign!r}; is the gate in ugc_guard.pipeline?")


def set_notifier(guard_or_site: Any, notifier: Notifier, campaign: str | None = None) -> None:
    """Make ``notifier`` deliver the guardian links of a UGCGuard's (or Site's) campaign."""
    find_gate(guard_or_site, campaign).notifier = notifier


def set_store(guard_or_site: Any, store: GateStore, campaign: str | None = None) -> None:
    """Replace the gate's store (and empty its cache)."""
    find_gate(guard_or_site, campaign).store = store
