"""Events for the operator's webhook endpoints: what happened, as ids and hashes, for each configured endpoint.

In the middleware, :func:`emit` queues an event in memory (no I/O on the request path); the site's
:class:`~ugc_guard.observe.delivery.DeliveryWorker` writes it to the ledger's outbox and delivers it.
Synchronous callers (a retention run, the CLI) use :func:`record_events`, which writes the outbox
rows at once; ``ugc-guard events deliver`` (or a running middleware) sends them.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..ledger import LedgerError
from ..ledger.outbox import Outbox, OutboxEvent
from .delivery import DeliveryWorker
from .logs import subject_hash
from .webhooks import message, new_event_id

if TYPE_CHECKING:
    from ..ledger import Ledger
    from ..policy import Policy

__all__ = [
    "emit", "endpoint_secrets", "events_for", "file_refs", "flush_events", "outbox_rows",
    "record_events", "start_events", "stored_files", "subject_hash",
]

logger = logging.getLogger("ugc_guard.events")
_WORKERS: weakref.WeakKeyDictionary[Any, DeliveryWorker] = weakref.WeakKeyDictionary()
"""The delivery worker of each site (a :class:`~ugc_guard.sites.Site`) whose policy has webhooks."""


def endpoint_secrets(policy: Policy) -> dict[str, str]:
    """Return each configured endpoint URL with its secret."""
    return {str(endpoint.url): endpoint.secret.get_secret_value() for endpoint in policy.observe.webhooks}


def outbox_rows(policy: Policy, event_type: str, data: Mapping[str, Any]) -> list[OutboxEvent]:
    """Return one outbox row per endpoint that takes ``event_type`` (the same message id and body for each)."""
    targets = [str(endpoint.url) for endpoint in policy.observe.webhooks if event_type in endpoint.events]
    if not targets:
        return []
    event_id, body = new_event_id(), message(event_type, {"campaign": policy.campaign.id, **data})
    return [OutboxEvent(policy.campaign.id, event_id, event_type, url, body) for url in targets]


def start_events(site: Any, ledger: Ledger) -> DeliveryWorker | None:
    """Give ``site`` (anything with a ``policy``) a delivery worker when its policy has webhooks; return it."""
    policy: Policy = site.policy
    if not policy.observe.webhooks:
        return None
    worker = DeliveryWorker(Outbox(ledger), policy.campaign.id, endpoint_secrets(policy), policy.observe.max_attempts)
    _WORKERS[site] = worker
    return worker


def flush_events(sites: Iterable[Any]) -> None:
    """Write every site's queued events to its outbox (blocking: at shutdown, in a worker thread).
    A ledger that cannot take them is logged at error level with the number of events lost."""
    for site in sites:
        worker = _WORKERS.get(site)
        if worker is None:
            continue
        try:
            worker.flush()
        except LedgerError as error:
            logger.error("ugc_guard: campaign %s: %d webhook event(s) could not be written to the outbox at shutdown: %s",
                         worker.campaign, worker.queued, error)


def events_for(site: Any) -> DeliveryWorker | None:
    """Return the site's delivery worker, or None when its policy has no webhooks."""
    return _WORKERS.get(site)


def emit(site: Any, event_type: str, **data: Any) -> None:
    """Queue an event of ``site`` for its endpoints; nothing (one dict lookup) when the policy has no webhooks.

    ``data`` must hold ids and hashes only: pass a subject as ``subject=`` and it is sent as ``subject_hash``.
    """
    worker = _WORKERS.get(site)
    if worker is None:
        return
    rows = outbox_rows(site.policy, event_type, _safe(data))
    if rows:
        worker.put(rows)


def record_events(ledger: Ledger, policy: Policy | None, event_type: str, **data: Any) -> int:
    """Write an event's outbox rows now (synchronous callers); return how many (0 without webhooks).

    Raises :class:`~ugc_guard.ledger.LedgerUnavailable` when the outbox cannot be written.
    """
    if policy is None or not policy.observe.webhooks:
        return 0
    rows = outbox_rows(policy, event_type, _safe(data))
    if rows:
        Outbox(ledger).add(rows)
    return len(rows)


def file_refs(files: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return submission id and content hashes of each file (what the app needs to find it; nothing personal)."""
    return [{"submission_id": item.get("submission_id"), "content_sha256": item.get("content_sha256"),
             "canonical_sha256": item.get("canonical_sha256")} for item in files]


def stored_files(submission: Any) -> list[dict[str, Any]]:
    """Return id, hashes, type and size of each file of a screened :class:`~ugc_guard.screening.Submission`."""
    ids = submission.extra.get("submission_ids", [submission.id])
    return [{"submission_id": int(sid), "content_sha256": item.sha256, "canonical_sha256": item.canonical_sha256,
             "type": item.type, "size": item.size} for sid, item in zip(ids, submission.files, strict=False)]


def _safe(data: Mapping[str, Any]) -> dict[str, Any]:
    safe = dict(data)
    if "subject" in safe:
        safe["subject_hash"] = subject_hash(safe.pop("subject"))
    return safe
