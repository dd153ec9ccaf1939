"""Standard Webhooks (https://www.standardwebhooks.com/): event payloads, signatures and one delivery attempt.

A message is ``{"type", "timestamp", "data"}`` as JSON. It is signed with the endpoint's
``whsec_`` secret: ``webhook-signature: v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">``.
Data holds ids and hashes only (a subject appears as the SHA-256 of its pseudonym), never personal data.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

__all__ = ["USER_AGENT", "WebhookFailed", "message", "new_event_id", "post", "sign", "signed_headers"]

USER_AGENT = "ugc-guard-webhooks/1"


class WebhookFailed(Exception):
    """The endpoint could not be reached or did not answer 2xx."""


def new_event_id() -> str:
    """Return a fresh message id (``msg_`` and 32 hex digits); receivers use it to drop duplicates."""
    return f"msg_{uuid.uuid4().hex}"


def message(event_type: str, data: dict[str, Any], *, at: dt.datetime | None = None) -> str:
    """Return the JSON body of an event (compact, keys in order)."""
    moment = (at or dt.datetime.now(dt.UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return json.dumps({"type": event_type, "timestamp": moment, "data": data}, separators=(",", ":"), ensure_ascii=False)


def sign(secret: str, event_id: str, timestamp: int, body: str) -> str:
    """Return the ``webhook-signature`` value for a body: ``v1,`` and the base64 HMAC-SHA256."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{event_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, event_id: str, body: str, *, timestamp: int | None = None) -> dict[str, str]:
    """Return the request headers of one delivery attempt (signed now, or at ``timestamp``)."""
    stamp = int(time.time()) if timestamp is None else timestamp
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": event_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign(secret, event_id, stamp, body),
    }


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failed attempt: urllib would follow a 301/302 with a GET and lose the body."""

    def redirect_request(self, *args: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post(url: str, secret: str, event_id: str, body: str, *, timeout: float = 10.0) -> int:
    """POST one signed message; return the status. Raises :class:`WebhookFailed` unless it is 2xx (redirects included)."""
    request = urllib.request.Request(url, data=body.encode(), headers=signed_headers(secret, event_id, body), method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        raise WebhookFailed(f"answered {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        raise WebhookFailed(str(getattr(error, "reason", error))) from None
    except http.client.HTTPException as error:  # a status line or headers that are not HTTP; their text is the endpoint's, not ours
        raise WebhookFailed(f"not an HTTP answer ({type(error).__name__})") from None
    if not 200 <= status < 300:
        raise WebhookFailed(f"answered {status}")
    return status
