"""One structured log record per guarded request, and a JSON formatter for it.

Records go to the ``ugc_guard.requests`` logger with the request's fields in ``record.ugc``:
method, path (never the query string), status, problem code, campaign, a hash of the subject id,
duration in milliseconds and the request id. No address, user agent, cookie or file name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import sys
from typing import Any

__all__ = [
    "LOGGED_MAX", "REQUEST_LOGGER", "JsonFormatter", "enable_request_log", "install_json_handler", "loggable", "printable", "request_id",
    "subject_hash",
]

REQUEST_LOGGER = "ugc_guard.requests"
LOGGED_MAX = 1024
"""The longest method or path a record carries; a longer one is cut there and ends in ``…``."""
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def subject_hash(subject: str | None) -> str | None:
    """Return the first 32 hex digits of the SHA-256 of a subject id (the id is random: the hash cannot be reversed)."""
    return hashlib.sha256(subject.encode()).hexdigest()[:32] if subject else None


def request_id(value: bytes | None, make: Any) -> str:
    """Return the client's ``X-Request-ID`` when it is 1–128 safe characters, else a fresh one from ``make()``."""
    if value is not None:
        text = value.decode("latin-1")
        if _REQUEST_ID.fullmatch(text):
            return text
    return str(make())


def loggable(value: Any) -> Any:
    """Return a client-chosen string (method, path) cut to :data:`LOGGED_MAX` characters; anything else as it is."""
    return value[:LOGGED_MAX] + "…" if isinstance(value, str) and len(value) > LOGGED_MAX else value


def printable(text: str) -> str:
    """Return ``text`` with every character that is not printable (line breaks, NUL, escape, surrogates) as a backslash escape."""
    return text if text.isprintable() else "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: time, level, logger, message, and the ``ugc`` fields of request records.

    Use it in your own logging config (``"()": "ugc_guard.observe.JsonFormatter"``) or let
    ``observe.log: json`` install it on the ``ugc_guard.requests`` logger.
    """

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "ugc", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=True, default=str)  # one ASCII line, whatever a client put in the path


def enable_request_log() -> None:
    """Let the request logger pass INFO records unless the app's logging config set its level."""
    logger = logging.getLogger(REQUEST_LOGGER)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)


def install_json_handler(stream: Any = None) -> logging.Handler:
    """Give the request logger a stderr handler with :class:`JsonFormatter` unless it has one; return it."""
    logger = logging.getLogger(REQUEST_LOGGER)
    enable_request_log()
    for handler in logger.handlers:
        if isinstance(handler.formatter, JsonFormatter):
            return handler
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.propagate = False
    return handler
