"""Prometheus metrics of one :class:`~ugc_guard.UGCGuard`, in a registry of its own (or one you give).

Label values are campaign ids, problem codes and media kinds: never names, addresses or file names.
Children are cached per label pair, so a request costs a dict lookup and an increment.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_asgi_app

__all__ = ["GuardMetrics", "metrics_app"]

SCREENING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
LEDGER_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class GuardMetrics:
    """The metric families; ``registry`` defaults to a fresh :class:`CollectorRegistry`."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self.refused = Counter("ugc_guard_requests_refused", "Requests refused with an application/problem+json answer, by code",
                               ["campaign", "code"], registry=self.registry)
        self.accepted = Counter("ugc_guard_uploads_accepted", "Uploads screened, recorded and answered 2xx by the app, by media kind",
                                ["campaign", "kind"], registry=self.registry)
        self.screening = Histogram("ugc_guard_screening_seconds", "Time from the first body byte to the replay to the app",
                                   ["campaign"], buckets=SCREENING_BUCKETS, registry=self.registry)
        self.ledger_append = Histogram("ugc_guard_ledger_append_seconds", "Time of one ledger append (a worker-thread call)",
                                       ["campaign"], buckets=LEDGER_BUCKETS, registry=self.registry)
        self.ledger_available = Gauge("ugc_guard_ledger_available", "1 when the last ledger call succeeded, 0 when the ledger was unavailable",
                                      ["campaign"], registry=self.registry)
        self._children: dict[tuple[str, ...], Any] = {}

    def child(self, family: str, *labels: str) -> Any:
        """Return the cached child of ``family`` (an attribute name) for ``labels``."""
        key = (family, *labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = getattr(self, family).labels(*labels)
        return found


def metrics_app(guard: Any) -> Any:
    """Return an ASGI app that serves ``guard``'s metrics in the Prometheus text format.

    Mount it where only your Prometheus can reach it (another port, or an internal route): the
    numbers tell anyone how busy the campaign is. Raises ``ValueError`` when no policy sets
    ``observe.metrics: true``.
    """
    observer = getattr(guard, "observer", None)
    if observer is None or observer.metrics is None:
        raise ValueError("no metrics: set observe.metrics: true in the policy")
    return make_asgi_app(registry=observer.metrics.registry)
