"""Standard Webhooks (https://www.standardwebhooks.com/): event payloads, signatures and one delivery attempt.

A message is ``{"type", "timestamp", "data"}`` as JSON. It is signed with the endpoint's
``whsec_`` secret: ``webhook-signature: v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">``.
Data holds ids and hashes only (a subject appears as the SHA-256 of its pseudonym), never personal data.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import http.client
import json
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
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


_TLS = ssl.create_default_context()


class _Deadline:
    """The whole of one attempt's time: at its end the attempt's connections are shut down (a socket
    timeout is per read, so an endpoint that sends a byte just inside it could hold the worker forever)."""

    def __init__(self) -> None:
        self.expired = False
        self._connections: list[http.client.HTTPConnection] = []
        self.lock = threading.Lock()

    def track(self, kind: type[http.client.HTTPConnection]) -> Callable[..., http.client.HTTPConnection]:
        def make(*args: Any, **kwargs: Any) -> http.client.HTTPConnection:
            connection = kind(*args, **kwargs)
            with self.lock:
                self._connections.append(connection)
            return connection

        return make

    def expire(self) -> None:
        with self.lock:
            self.expired = True
            for connection in self._connections:
                if connection.sock is not None:
                    with contextlib.suppress(OSError):
                        connection.sock.shutdown(socket.SHUT_RDWR)


class _TimedHTTP(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self.deadline.track(http.client.HTTPConnection), req)


class _TimedHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__(context=_TLS)
        self.deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self.deadline.track(http.client.HTTPSConnection), req, context=_TLS)


def post(url: str, secret: str, event_id: str, body: str, *, timeout: float = 10.0) -> int:
    """POST one signed message; return the status. Raises :class:`WebhookFailed` unless it is 2xx (redirects included)."""
    request = urllib.request.Request(url, data=body.encode(), headers=signed_headers(secret, event_id, body), method="POST")
    deadline = _Deadline()  # ``timeout`` is also the whole attempt's time, until the status and headers are in
    opener = urllib.request.build_opener(_NoRedirect, _TimedHTTP(deadline), _TimedHTTPS(deadline))
    timer = threading.Timer(timeout, deadline.expire)
    timer.daemon = True
    timer.start()
    late = WebhookFailed(f"no complete answer within {timeout:g} s")
    try:
        with opener.open(request, timeout=timeout) as response:
            status = int(response.status)
            timer.cancel()
            with deadline.lock:
                if deadline.expired:  # the headers were cut short: an end of input reads as their end
                    raise late
    except urllib.error.HTTPError as error:
        raise (late if deadline.expired else WebhookFailed(f"answered {error.code}")) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        if deadline.expired:
            raise late from None
        if isinstance(error, OSError):
            raise WebhookFailed(str(getattr(error, "reason", error))) from None
        raise WebhookFailed(f"not an HTTP answer ({type(error).__name__})") from None  # their text is the endpoint's
    finally:
        timer.cancel()
    if not 200 <= status < 300:
        raise WebhookFailed(f"answered {status}")
    return status
