"""What the operator sees: Prometheus metrics, one log line per request, signed webhooks (``observe:``)."""

from __future__ import annotations

import base64
import binascii
from typing import Literal, get_args

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator

from .base import Section

__all__ = ["EVENT_TYPES", "Observe", "WebhookEndpoint"]

EventType = Literal[
    "acceptance.recorded", "submission.stored", "guardian.confirmed", "withdrawal.recorded", "subject.erased", "retention.deleted"
]
EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)
"""Every event ugc_guard sends to webhook endpoints (see docs/operations.md)."""


class WebhookEndpoint(Section):
    """One receiver of Standard Webhooks (https://www.standardwebhooks.com/)."""

    url: AnyHttpUrl
    """Where events are POSTed (https in production)."""
    secret: SecretStr
    """The endpoint's signing secret, ``whsec_`` + base64 of 24 to 64 random bytes; write ``${WEBHOOK_SECRET}``."""
    events: list[EventType] = Field(list(EVENT_TYPES), min_length=1)
    """The event types this endpoint receives (default: all of them)."""

    @field_validator("secret")
    @classmethod
    def _secret(cls, value: SecretStr) -> SecretStr:
        text = value.get_secret_value()
        try:
            key = base64.b64decode(text.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if not text.startswith("whsec_") or not 24 <= len(key) <= 64:
            raise ValueError("the secret must be whsec_ followed by base64 of 24 to 64 random bytes; generate one with: "
                             "python -c 'import base64, secrets; print(\"whsec_\" + base64.b64encode(secrets.token_bytes(32)).decode())'")
        return value


class Observe(Section):
    metrics: bool = False
    """Count requests, refusals, uploads, screening and ledger times in a Prometheus registry (``metrics_app(guard)``)."""
    log: Literal["off", "json", "text"] = "off"
    """One log record per request on the ``ugc_guard.requests`` logger; ``json`` installs the JSON formatter on it."""
    webhooks: list[WebhookEndpoint] = []
    """Endpoints that receive signed events; delivered from a durable outbox in the ledger, never on the request path."""
    max_attempts: int = Field(8, ge=1, le=30)
    """Delivery attempts per event and endpoint before it is dead-lettered (backoff doubles from 5 s, at most 1 h)."""
