"""What the operator sees: Prometheus metrics, structured request logs and signed webhooks.

All three are off until the policy's ``observe:`` section asks for them (see docs/operations.md).
"""

from __future__ import annotations

from .delivery import DeliveryReport, deliver_due
from .events import emit, flush_events, record_events
from .logs import JsonFormatter, subject_hash
from .metrics import GuardMetrics, metrics_app
from .requests import OBSERVED, Observed, Observer, screening_done
from .webhooks import WebhookFailed, sign, signed_headers

__all__ = [
    "OBSERVED", "DeliveryReport", "GuardMetrics", "JsonFormatter", "Observed", "Observer", "WebhookFailed", "deliver_due",
    "emit", "flush_events", "metrics_app", "record_events", "screening_done", "sign", "signed_headers", "subject_hash",
]
