"""One structured log record per guarded request: JSON lines with the request's fields and nothing personal."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
from collections.abc import Callable, Iterator

import pytest

from tests.observe.conftest import Guarded
from tests.pages.conftest import accept_form
from tests.screening.samples import jpeg, upload_form
from ugc_guard.observe import JsonFormatter
from ugc_guard.observe.logs import REQUEST_LOGGER, install_json_handler

FIELDS = {"time", "level", "logger", "message", "request_id", "method", "path", "status", "code", "campaign", "subject_hash", "duration_ms"}


@pytest.fixture
def lines() -> Iterator[Callable[[], list[dict[str, object]]]]:
    logger = logging.getLogger(REQUEST_LOGGER)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    level, propagate = logger.level, logger.propagate
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def test_json_lines_carry_the_request_fields(guarded: Callable[..., Guarded], lines: Callable[[], list[dict[str, object]]]) -> None:
    site = guarded({"log": "json"})
    assert install_json_handler() in logging.getLogger(REQUEST_LOGGER).handlers  # ours: json mode added no second one
    body, content_type = upload_form("me.jpg", "image/jpeg", jpeg())
    refused = site.client.post("/upload?email=someone@example.org", content=body,
                               headers={"content-type": content_type, "x-request-id": "req-42.a"})
    assert refused.status_code == 403 and refused.headers["x-request-id"] == "req-42.a"
    assert refused.json()["instance"] == "urn:ugc-guard:request:req-42.a"  # the client can quote it; the log line has it
    assert accept_form(site.client).status_code == 303
    body, content_type = upload_form("me.jpg", "image/jpeg", jpeg((80, 60)))
    stored = site.client.post("/upload", content=body, headers={"content-type": content_type, "x-request-id": "bad id\n"})
    assert stored.status_code == 201

    records = lines()
    assert all(set(record) == FIELDS for record in records)
    first, last = records[0], records[-1]
    assert first["method"] == "POST" and first["path"] == "/upload"  # never the query string
    assert first["status"] == 403 and first["code"] == "terms-not-accepted" and first["campaign"] == "test-campaign"
    assert first["request_id"] == "req-42.a" and first["level"] == "info" and first["logger"] == REQUEST_LOGGER
    assert first["message"] == "POST /upload 403 terms-not-accepted"
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] > 0
    assert last["status"] == 201 and last["code"] is None
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", str(last["request_id"]))  # invalid id replaced
    assert last["request_id"] == stored.headers["x-request-id"]
    (submission,) = site.ledger.submissions().items
    assert last["subject_hash"] == hashlib.sha256(str(submission.subject).encode()).hexdigest()[:32]
    text = "\n".join(json.dumps(record) for record in records)
    assert str(submission.subject) not in text and "someone@example.org" not in text and "testclient" not in text
    assert "me.jpg" not in text


def test_text_mode_leaves_formatting_to_the_apps_logging(guarded: Callable[..., Guarded], caplog: pytest.LogCaptureFixture) -> None:
    site = guarded({"log": "text"})
    with caplog.at_level(logging.INFO, logger=REQUEST_LOGGER):
        assert site.client.get("/nowhere").status_code == 404
    (record,) = [item for item in caplog.records if item.name == REQUEST_LOGGER]
    assert record.getMessage() == "GET /nowhere 404"
    assert record.ugc["status"] == 404 and record.ugc["code"] is None and record.ugc["subject_hash"] is None  # type: ignore[attr-defined]
    assert site.guard.observer is not None and site.guard.observer.metrics is None
