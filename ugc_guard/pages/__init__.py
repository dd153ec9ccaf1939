"""The built-in pages under the policy prefix: the terms step (terms, status, accept, guardian
confirmation, Proof of Age) and the subject's own pages (me, export, withdraw), served by one stage.

:class:`Gate` is a site's shared page state (its ledger, standing service, form tokens, notifier);
:func:`set_notifier` replaces a running site's notifier (tests capture guardian links so).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..rules.standing import Standing
from .notifier import GuardianMessage, LogNotifier, Notifier, SmtpNotifier
from .service import Gate
from .stage import PagesStage

__all__ = [
    "Gate",
    "GuardianMessage",
    "LogNotifier",
    "Notifier",
    "PagesStage",
    "SmtpNotifier",
    "Standing",
    "find_gate",
    "set_notifier",
]


def find_gate(guard: Any, campaign: str | None = None) -> Gate:
    """Return the :class:`Gate` of a UGCGuard's only (or its named) campaign."""
    stages_by_site: dict[Any, Iterable[Any]] = guard.stages
    for site, stages in stages_by_site.items():
        if campaign is None or site.campaign == campaign:
            for stage in stages:
                if isinstance(stage, PagesStage):
                    return stage.gate
    raise LookupError(f"no pages stage found for campaign {campaign!r}; is it in ugc_guard.pipeline?")


def set_notifier(guard_or_site: Any, notifier: Notifier, campaign: str | None = None) -> None:
    """Make ``notifier`` deliver the guardian links of a UGCGuard's (or Site's) campaign."""
    find_gate(guard_or_site, campaign).notifier = notifier
