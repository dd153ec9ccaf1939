"""What the operator sees, attacked: request logs that cannot be forged or split, a request id that is
echoed only when it is a safe token, nothing personal in logs, metrics or webhooks, metrics whose label
values a client cannot multiply, webhook delivery against hostile endpoints, and the ``events`` CLI
with broken inputs."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner
from standardwebhooks.webhooks import Webhook
from starlette.testclient import TestClient

from tests.conftest import write_policy
from tests.observe.conftest import SECRET, Receiver, receiver  # noqa: F401  (receiver: a fixture)
from ugc_guard.cli import main
from ugc_guard.ledger import Ledger
from ugc_guard.ledger.outbox import Outbox, OutboxEvent
from ugc_guard.observe import deliver_due, metrics_app, record_events
from ugc_guard.observe.events import events_for
from ugc_guard.observe.logs import LOGGED_MAX, REQUEST_LOGGER
from ugc_guard.policy import load_policy

from .conftest import BROWSER_UA, GRANTS, Site, accept, jpeg

CAMPAIGN = "test-campaign"
OBSERVE = {"observe": {"log": "json", "metrics": True}}
FIELDS = {"time", "level", "logger", "message", "request_id", "method", "path", "status", "code", "campaign", "subject_hash", "duration_ms"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}")
T0 = dt.datetime(2030, 1, 1, 12, tzinfo=dt.UTC)


# -- helpers --------------------------------------------------------------------------------------


@dataclass
class Logs:
    json_stream: io.StringIO
    text_stream: io.StringIO

    def records(self) -> list[dict[str, Any]]:
        """Every JSON record, after checking that each is exactly one line of ASCII JSON."""
        text = self.json_stream.getvalue()
        assert text.endswith("\n") or text == ""
        lines = text[:-1].split("\n") if text else []
        for line in lines:
            assert line.isascii() and line.splitlines() == [line]  # no NEL, U+2028, CR, lone surrogate: one line for every reader
        return [json.loads(line) for line in lines]

    def text_lines(self) -> list[str]:
        text = self.text_stream.getvalue()
        assert text.endswith("\n")
        lines = text[:-1].split("\n")
        assert all(line.splitlines() == [line] for line in lines)
        return lines


@pytest.fixture
def logs() -> Iterator[Logs]:
    """Request records as JSON lines (ugc_guard's formatter) and as text lines (``%(message)s``, what a plain config shows)."""
    from ugc_guard.observe import JsonFormatter

    logger = logging.getLogger(REQUEST_LOGGER)
    captured = Logs(io.StringIO(), io.StringIO())
    json_handler, text_handler = logging.StreamHandler(captured.json_stream), logging.StreamHandler(captured.text_stream)
    json_handler.setFormatter(JsonFormatter())
    text_handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    level, propagate = logger.level, logger.propagate
    logger.addHandler(json_handler)
    logger.addHandler(text_handler)
    try:
        yield captured
    finally:
        logger.removeHandler(json_handler)
        logger.removeHandler(text_handler)
        logger.setLevel(level)
        logger.propagate = propagate


@dataclass
class Reply:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: bytes) -> list[bytes]:
        return [value for key, value in self.headers if key == name]

    def json(self) -> Any:
        return json.loads(self.body)


def call(guard: Any, method: str = "GET", path: str = "/", *, raw_path: bytes | None = None, query: bytes = b"",
         headers: list[tuple[bytes, bytes]] | None = None, body: bytes = b"") -> Reply:
    """One request straight into the ASGI app with exactly this scope (values a server might hand on, and worse)."""
    sent = headers if headers is not None else [(b"host", b"testserver"), (b"user-agent", BROWSER_UA.encode())]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http", "path": path,
        "raw_path": raw_path if raw_path is not None else path.encode("utf-8", "surrogateescape"), "root_path": "",
        "query_string": query, "headers": sent, "client": ("198.51.100.7", 50000), "server": ("testserver", 80),
    }  # fmt: skip
    messages: list[dict[str, Any]] = []
    pending = [body]

    async def receive() -> dict[str, Any]:
        if pending:
            return {"type": "http.request", "body": pending.pop(), "more_body": False}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    async def run() -> None:
        with anyio.fail_after(60):
            await guard(scope, receive, send)

    anyio.run(run)
    start = next(message for message in messages if message["type"] == "http.response.start")
    data = b"".join(message.get("body", b"") for message in messages if message["type"] == "http.response.body")
    return Reply(start["status"], list(start["headers"]), data)


def with_header(name: bytes, value: bytes) -> list[tuple[bytes, bytes]]:
    base = [(b"host", b"testserver"), (b"user-agent", BROWSER_UA.encode())]
    return [*[(key, item) for key, item in base if key != name], (name, value)]


def upload(client: TestClient, name: str = "a.jpg", **headers: str) -> Any:
    return client.post("/upload", files={"file": (name, jpeg(), "image/jpeg")}, data=GRANTS, headers={"accept": "application/json", **headers})


# -- 1. log injection and forging -------------------------------------------------------------------

FORGED = '{"level":"error","logger":"ugc_guard.requests","message":"forged"}'
HOSTILE_VALUES = {
    "crlf": b"x\r\n" + FORGED.encode(),
    "lf": b"x\n" + FORGED.encode(),
    "nul": b"x\x00y",
    "ansi": b"\x1b[2J\x1b[31mred\x1b[0m",
    "json-breaking": b'"}, {"forged": true, "x": "{',
    "c1-csi": b"\x9b2J",  # latin-1 0x9b: the 8-bit CSI
    "100kb": b"U" * 100_000,
}


@pytest.mark.parametrize("header", [b"user-agent", b"referer", b"x-forwarded-for", b"cookie", b"x-request-id"])
@pytest.mark.parametrize("kind", list(HOSTILE_VALUES))
def test_hostile_header_values_never_reach_the_log(make_site: Callable[..., Site], logs: Logs, header: bytes, kind: str) -> None:
    site = make_site(OBSERVE)
    value = HOSTILE_VALUES[kind]
    reply = call(site.guard, "POST", "/upload", headers=with_header(header, value))
    assert (reply.status, reply.json()["code"]) == (403, "terms-not-accepted")
    (record,) = logs.records()
    assert set(record) == FIELDS
    assert (record["method"], record["path"], record["status"], record["code"]) == ("POST", "/upload", 403, "terms-not-accepted")
    assert UUID.fullmatch(record["request_id"])  # a hostile X-Request-ID is replaced, like every other one that is not a token
    assert reply.header(b"x-request-id") == [record["request_id"].encode()]
    assert reply.json()["instance"] == f"urn:ugc-guard:request:{record['request_id']}"
    (line,) = logs.text_lines()
    assert line == "INFO ugc_guard.requests POST /upload 403 terms-not-accepted"
    everything = logs.json_stream.getvalue() + line
    assert "forged" not in everything and "UUUU" not in everything and "red" not in everything and "\\u001b" not in everything


@pytest.mark.parametrize("kind", list(HOSTILE_VALUES))
def test_a_hostile_host_is_refused_and_logged_without_its_value(make_site: Callable[..., Site], logs: Logs, kind: str) -> None:
    site = make_site(OBSERVE)
    reply = call(site.guard, "GET", "/", headers=with_header(b"host", HOSTILE_VALUES[kind]))
    assert (reply.status, reply.json()["code"]) == (400, "bad-host")
    (record,) = logs.records()
    assert (record["path"], record["status"], record["code"], record["campaign"]) == ("/", 400, "bad-host", None)
    assert logs.text_lines() == ["INFO ugc_guard.requests GET / 400 bad-host"]
    assert "forged" not in logs.json_stream.getvalue() and "UUUU" not in logs.json_stream.getvalue()


@pytest.mark.parametrize(
    ("path", "message_path"),
    [
        ("/x\r\n" + FORGED, "/x\\r\\n" + FORGED),
        ("/x\nINFO ugc_guard.requests GET / 200", "/x\\nINFO ugc_guard.requests GET / 200"),
        ("/x\x00y", "/x\\x00y"),
        ("/\x1b[2J\x1b[31mred", "/\\x1b[2J\\x1b[31mred"),
        ("/x\u2028y\u0085z", "/x\\u2028y\\x85z"),  # line breaks to str.splitlines and to JavaScript
        ("/\x9b2J", "/\\x9b2J"),
        ('/"}, {"forged": "{', '/"}, {"forged": "{'),  # nothing to escape in text; JSON escapes the quotes
        ("/caf\u00e9/\u4e2d", "/caf\u00e9/\u4e2d"),  # printable non-ASCII stays readable in text
        ("/bad\udcff\udcfe", "/bad\\udcff\\udcfe"),  # undecodable bytes a server kept as surrogates
        ("/\ufffd\ufffd", "/\ufffd\ufffd"),  # invalid UTF-8 decoded with replacement characters
    ],
    ids=["crlf", "lf-forged-text-line", "nul", "ansi", "u2028-nel", "c1-csi", "json-breaking", "non-ascii", "surrogates", "replacement"],
)
def test_a_hostile_path_stays_one_line_in_both_formats(make_site: Callable[..., Site], logs: Logs, path: str, message_path: str) -> None:
    site = make_site(OBSERVE)
    reply = call(site.guard, "GET", path, raw_path=b"/x")
    assert reply.status == 404
    (record,) = logs.records()
    assert (record["method"], record["path"], record["status"], record["code"]) == ("GET", path, 404, None)  # exact, once decoded
    assert record["message"] == f"GET {message_path} 404"
    assert logs.text_lines() == [f"INFO ugc_guard.requests GET {message_path} 404"]


def test_a_100_kb_path_is_cut_in_the_log(make_site: Callable[..., Site], logs: Logs) -> None:
    site = make_site(OBSERVE)
    path = "/" + "p" * 100_000
    assert call(site.guard, "GET", path).status == 404
    (record,) = logs.records()
    assert record["path"] == path[:LOGGED_MAX] + "\u2026" and LOGGED_MAX == 1024
    assert record["message"] == f"GET {path[:LOGGED_MAX]}\u2026 404"
    assert len(logs.json_stream.getvalue()) < 3000 and len(logs.text_lines()[0]) < 1100


def test_a_hostile_method_is_escaped_and_cut(make_site: Callable[..., Site], logs: Logs) -> None:
    site = make_site(OBSERVE)
    method = "GET\r\n" + FORGED + "X" * 5000
    reply = call(site.guard, method, "/nowhere")
    assert reply.status == 404
    (record,) = logs.records()
    assert record["method"] == method[:LOGGED_MAX] + "\u2026"
    (line,) = logs.text_lines()
    assert line.startswith("INFO ugc_guard.requests GET\\r\\n{") and line.endswith("X\u2026 /nowhere 404")


@pytest.mark.parametrize("query", [b"email=kim%40example.org&x=%0d%0a" + FORGED.encode(), b"\x1b[2J\r\n" + b"q" * 100_000])
def test_the_query_string_is_never_logged(make_site: Callable[..., Site], logs: Logs, query: bytes) -> None:
    site = make_site(OBSERVE)
    assert call(site.guard, "GET", "/nowhere", query=query).status == 404
    (record,) = logs.records()
    assert (record["path"], record["message"]) == ("/nowhere", "GET /nowhere 404")
    assert "example" not in logs.json_stream.getvalue() and "forged" not in logs.json_stream.getvalue()


@pytest.mark.parametrize("value", ["req-42.a", "a", "A.b_c-d:e", "x" * 128, "0123456789abcdef0123456789abcdef"])
def test_a_safe_request_id_is_echoed_everywhere(make_site: Callable[..., Site], logs: Logs, value: str) -> None:
    site = make_site(OBSERVE)
    reply = call(site.guard, "POST", "/upload", headers=with_header(b"x-request-id", value.encode()))
    assert (reply.status, reply.json()["code"]) == (403, "terms-not-accepted")
    assert reply.header(b"x-request-id") == [value.encode()]
    assert reply.json()["instance"] == f"urn:ugc-guard:request:{value}"
    assert logs.records()[0]["request_id"] == value


@pytest.mark.parametrize(
    "value",
    [b"abc\n", b"abc\r\n", b"\nabc", b"abc\x00", b"a b", b"", b"x" * 129, b"<script>", b"a/b", b"a%0a", b"caf\xc3\xa9", b"\xff\xfe",
     b"urn:x\r\nset-cookie: ugc=1", b'a"b', b"a{b}", b"a\tb"],
    ids=["trailing-lf", "trailing-crlf", "leading-lf", "nul", "space", "empty", "129", "html", "slash", "percent", "utf8", "bytes",
         "header-split", "quote", "braces", "tab"],
)
def test_an_unsafe_request_id_is_replaced_never_echoed(make_site: Callable[..., Site], logs: Logs, value: bytes) -> None:
    site = make_site(OBSERVE)
    reply = call(site.guard, "POST", "/upload", headers=with_header(b"x-request-id", value))
    assert (reply.status, reply.json()["code"]) == (403, "terms-not-accepted")
    (echoed,) = reply.header(b"x-request-id")
    assert UUID.fullmatch(echoed.decode())
    assert reply.json()["instance"] == f"urn:ugc-guard:request:{echoed.decode()}"
    assert [name for name, _ in reply.headers].count(b"set-cookie") == 0
    assert logs.records()[0]["request_id"] == echoed.decode()


def test_two_request_ids_the_first_one_counts_and_is_checked(make_site: Callable[..., Site], logs: Logs) -> None:
    site = make_site(OBSERVE)
    headers = [*with_header(b"x-request-id", b"bad\n"), (b"x-request-id", b"good-one")]
    reply = call(site.guard, "GET", "/nowhere", headers=headers)
    (echoed,) = reply.header(b"x-request-id")
    assert UUID.fullmatch(echoed.decode()) and logs.records()[0]["request_id"] == echoed.decode()


# -- 2. privacy: nothing personal in logs, metrics or webhooks --------------------------------------------

SUBJECT_MARKERS = ("kim.parent@example.org", "Jan Jansen-Guardian", "holiday-of-kim-vanderberg.jpg", "203.0.113.77", "198.51.100.7")


def test_a_whole_flow_leaves_nothing_personal_in_logs_metrics_or_webhooks(make_site: Callable[..., Site], logs: Logs,
                                                                         receiver: Receiver) -> None:  # noqa: F811
    site = make_site({"age": {"guardian_minimum": 16}, "observe": {"log": "json", "metrics": True,
                                                                     "webhooks": [{"url": receiver.url, "secret": SECRET}]}})
    birth = (dt.date.today() - dt.timedelta(days=17 * 365 + 60)).isoformat()
    minor = site.client(headers={"user-agent": "KimsPhone/1.0 (kim.vanderberg)", "x-forwarded-for": "203.0.113.77",
                                 "referer": "https://example.org/?email=kim.parent@example.org"})
    assert accept(minor, birth_date=birth, guardian_email="kim.parent@example.org").status_code == 303
    parent = site.client(headers={"user-agent": "ParentPhone/2.0"})
    page = parent.get(site.outbox.path())
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert page.status_code == 200 and token is not None
    confirmed = parent.post("/ugc-guard/guardian/confirm", data={
        "csrf_token": token.group(1), "token": site.outbox.token(), "guardian_name": "Jan Jansen-Guardian",
        "relationship": "parent", "accept_terms": "yes", "accept_licence": "yes"}, follow_redirects=False)
    assert confirmed.status_code in (200, 303), confirmed.text
    stored = upload(minor, "holiday-of-kim-vanderberg.jpg")
    assert stored.status_code == 201, stored.text
    me = minor.get("/ugc-guard/me")
    token = re.search(r'name="csrf_token" value="([^"]+)"', me.text)
    assert token is not None
    withdrawn = minor.post("/ugc-guard/me/withdraw", data={"csrf_token": token.group(1), "scope": "portrait",
                                                           "submission": (site.spy.calls[-1]["ugc"].id)}, follow_redirects=False)
    assert withdrawn.status_code == 303
    worker = events_for(site.guard.sites[0])
    assert worker is not None
    worker.join(timeout=30)

    (submission,) = Ledger(site.ledger_url).submissions().items
    subject = str(submission.subject)
    payloads = [Webhook(SECRET).verify(post.body, post.headers) for post in receiver.posts]
    assert [item["type"] for item in payloads] == ["acceptance.recorded", "guardian.confirmed", "submission.stored", "withdrawal.recorded"]
    records = logs.records()
    assert len(records) >= 7 and all(set(record) == FIELDS for record in records)
    exposition = TestClient(metrics_app(site.guard)).get("/").text
    rows = json.dumps([row.payload + row.endpoint for row in Outbox(Ledger(site.ledger_url)).list()])
    everything = "\n".join([logs.json_stream.getvalue(), *logs.text_lines(), exposition, rows,
                            *(post.body.decode() + json.dumps(post.headers) for post in receiver.posts)])
    for marker in (*SUBJECT_MARKERS, subject, birth, "KimsPhone", "ParentPhone", "testclient", "kim"):
        assert marker not in everything, marker
    subject_hash = hashlib.sha256(subject.encode()).hexdigest()[:32]
    assert {item["data"]["subject_hash"] for item in payloads} == {subject_hash}
    assert subject_hash in {record["subject_hash"] for record in records}


# -- 3. metrics cardinality -------------------------------------------------------------------------------


def series(guard: Any) -> set[str]:
    """The sample lines of /metrics without their values: one per series."""
    text = TestClient(metrics_app(guard)).get("/").text
    return {line.rsplit(" ", 1)[0] for line in text.splitlines() if line and not line.startswith("#")}


def label_values(names: set[str]) -> dict[str, set[str]]:
    values: dict[str, set[str]] = {}
    for name in names:
        for label, value in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', name):
            values.setdefault(label, set()).add(value)
    return values


def test_thousands_of_distinct_requests_add_no_series(make_site: Callable[..., Site]) -> None:
    site = make_site({"observe": {"metrics": True}})
    client = site.client()
    assert upload(client).json()["code"] == "terms-not-accepted"  # one refusal of each kind, seen before
    assert call(site.guard, headers=with_header(b"host", b"elsewhere.example")).status == 421
    assert call(site.guard, headers=with_header(b"host", b"bad host")).status == 400
    assert client.get("/nowhere").status_code == 404
    before = series(site.guard)
    for index in range(400):
        assert upload(client, **{"user-agent": f"agent-{index}", "x-request-id": f"id-{index}"}).status_code == 403
        assert client.get(f"/nowhere/{index}/{uuid.uuid4()}").status_code == 404
        assert call(site.guard, f"METHOD{index}", f"/p{index}").status in (404, 405)
        assert call(site.guard, headers=with_header(b"host", f"h{index}.example".encode())).status == 421
        assert call(site.guard, headers=with_header(b"host", f"bad host {index}".encode())).status == 400
    after = series(site.guard)
    assert after == before
    values = label_values(after)
    assert values["campaign"] == {"", CAMPAIGN}
    assert values["code"] == {"terms-not-accepted", "unknown-host", "bad-host"}
    assert set(values) <= {"campaign", "code", "kind", "le"}


# -- 4. webhook delivery to hostile endpoints -----------------------------------------------------------------


@dataclass
class Hostile:
    url: str
    requests: list[bytes]


@pytest.fixture
def hostile() -> Iterator[Callable[[Callable[[socket.socket], None]], Hostile]]:
    """Factory: a raw TCP endpoint that reads one request and answers with ``answer(connection)``."""
    servers: list[socket.socket] = []
    stop = threading.Event()

    def build(answer: Callable[[socket.socket], None]) -> Hostile:
        server = socket.create_server(("127.0.0.1", 0))
        server.settimeout(0.2)
        servers.append(server)
        state = Hostile(f"http://127.0.0.1:{server.getsockname()[1]}/hooks/ugc", [])

        def serve() -> None:
            while not stop.is_set():
                try:
                    connection, _ = server.accept()
                except (TimeoutError, OSError):
                    continue
                with connection:
                    connection.settimeout(5)
                    data = b""
                    try:
                        while b"\r\n\r\n" not in data:
                            data += connection.recv(65536)
                        head, _, rest = data.partition(b"\r\n\r\n")
                        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
                        while len(rest) < length:
                            rest += connection.recv(65536)
                        state.requests.append(head + b"\r\n\r\n" + rest)
                        answer(connection)
                    except OSError:
                        pass

        threading.Thread(target=serve, daemon=True).start()
        return state

    yield build
    stop.set()
    for server in servers:
        server.close()


def one_event(tmp_path: Path, url: str) -> tuple[Outbox, dict[str, str], Ledger]:
    ledger_url = f"sqlite:///{tmp_path / 'hooks.sqlite3'}"
    ledger = Ledger(ledger_url)
    ledger.upgrade()
    policy = load_policy(write_policy(tmp_path / "hooks", {"observe": {"webhooks": [{"url": url, "secret": SECRET}]}}))
    assert record_events(ledger, policy, "retention.deleted", rule="submissions", files=[{"submission_id": 1}]) == 1
    return Outbox(ledger), {url: SECRET}, ledger


def send_all(*parts: bytes, pause: float = 0.0) -> Callable[[socket.socket], None]:
    def answer(connection: socket.socket) -> None:
        for part in parts:
            connection.sendall(part)
            if pause:
                time.sleep(pause)

    return answer


BIG = b"S" * (5 * 1024 * 1024)


@pytest.mark.parametrize(
    ("answer", "last_error"),
    [
        (send_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: %d\r\n\r\n" % len(BIG), BIG), "answered 500"),
        (send_all(b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\n\r\nSECRET-BODY-MARKER " * 3), "answered 400"),
        (send_all(b"HTTP/1.1 301 Moved\r\nlocation: http://127.0.0.1:1/\r\ncontent-length: 0\r\n\r\n"), "answered 301"),
        (send_all(b"HTTP/1.1 307 Temporary\r\nlocation: /elsewhere\r\ncontent-length: 0\r\n\r\n"), "answered 307"),
        (send_all(b"HTTP/1.1 308 Permanent\r\nlocation: /elsewhere\r\ncontent-length: 0\r\n\r\n"), "answered 308"),
        (send_all(b"HTTP/1.1 199 Odd\r\ncontent-length: 0\r\n\r\n"), "answered 199"),
        (send_all(b"GARBAGE SECRET-BODY-MARKER\r\n\r\n"), "not an HTTP answer (BadStatusLine)"),
        (send_all(b"\x00\xff" * 1000 + b"\r\n"), "not an HTTP answer (BadStatusLine)"),
        (send_all(b"HTTP/1.1 200 OK\r\nx-long: " + BIG + b"\r\n\r\n"), "not an HTTP answer (LineTooLong)"),
        (send_all(b"HTTP/1.1 200 OK\r\n" + b"x-h: 1\r\n" * 200 + b"\r\n"), "not an HTTP answer (HTTPException)"),
        (send_all(), "Remote end closed connection without response"),
        (send_all(b"HTTP/1.1 200 OK\r\n", b"x-slow: 1\r\n", pause=2.0), "no complete answer within 1 s"),  # slower than a read's timeout
        # a header line every 0.2 s, each read well within its timeout: the attempt's 1 s ends it all the same
        (send_all(b"HTTP/1.1 200 OK\r\n", *[b"x-drip: 1\r\n"] * 25, b"\r\n", pause=0.2), "no complete answer within 1 s"),
    ],
    ids=["5mib-500", "400-with-body", "301", "307", "308", "199", "garbage", "binary", "5mib-header", "200-headers",
         "silent-close", "trickle", "drip"],
)
def test_a_hostile_answer_is_a_failed_attempt_with_a_short_error(tmp_path: Path, hostile: Callable[..., Hostile],
                                                                  answer: Callable[[socket.socket], None], last_error: str) -> None:
    endpoint = hostile(answer)
    outbox, secrets, _ = one_event(tmp_path, endpoint.url)
    report = deliver_due(outbox, CAMPAIGN, secrets, 8, now=T0, timeout=1.0)
    assert (report.delivered, report.failed, report.dead) == (0, 1, 0)
    (row,) = outbox.list()
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, last_error)
    assert row.next_attempt_at == T0 + dt.timedelta(seconds=5)
    assert len(endpoint.requests) == 1 and b"/hooks/ugc" in endpoint.requests[0]  # no redirect followed


@pytest.mark.parametrize(
    "answer",
    [send_all(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(BIG), BIG),
     send_all(b"HTTP/1.1 204 No Content\r\n\r\n"),
     send_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5"),  # the status is all that counts
     send_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 100\r\n\r\n", b"x", b"y", pause=2.0)],  # a body trickled after the status
    ids=["5mib-200", "204", "unterminated-200", "trickled-body"],
)
def test_a_2xx_answer_is_delivered_whatever_its_body(tmp_path: Path, hostile: Callable[..., Hostile],
                                                     answer: Callable[[socket.socket], None]) -> None:
    outbox, secrets, _ = one_event(tmp_path, hostile(answer).url)
    assert deliver_due(outbox, CAMPAIGN, secrets, 8, now=T0, timeout=1.0).delivered == 1
    (row,) = outbox.list()
    assert (row.status, row.attempts, row.last_error) == ("delivered", 1, None)


def test_a_refused_connection_is_a_failed_attempt_then_dead(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/hooks"
    outbox, secrets, _ = one_event(tmp_path, url)
    assert deliver_due(outbox, CAMPAIGN, secrets, 2, now=T0).failed == 1
    assert outbox.list()[0].last_error == "[Errno 111] Connection refused"
    assert deliver_due(outbox, CAMPAIGN, secrets, 2, now=T0 + dt.timedelta(seconds=5)).dead == 1
    (row,) = outbox.list()
    assert (row.status, row.attempts, row.last_error) == ("dead", 2, "[Errno 111] Connection refused")


def test_a_garbage_answer_does_not_stop_the_delivery_worker(make_site: Callable[..., Site], hostile: Callable[..., Hostile]) -> None:
    endpoint = hostile(send_all(b"NOT HTTP\r\n\r\n"))
    site = make_site({"observe": {"webhooks": [{"url": endpoint.url, "secret": SECRET}]}})
    client = site.client()
    assert accept(client).status_code == 303
    worker = events_for(site.guard.sites[0])
    assert worker is not None
    for _ in range(600):  # the first attempt is made at once; the next is due 5 s later
        rows = Outbox(Ledger(site.ledger_url)).list()
        if rows and rows[0].attempts:
            break
        time.sleep(0.05)
    (row,) = rows
    assert (row.type, row.status, row.attempts, row.last_error) == ("acceptance.recorded", "pending", 1, "not an HTTP answer (BadStatusLine)")
    assert worker._thread is not None and worker._thread.is_alive()  # still running: it will try again


def test_signature_headers_are_exactly_standard_webhooks(tmp_path: Path, receiver: Receiver) -> None:  # noqa: F811
    outbox, secrets, _ = one_event(tmp_path, receiver.url)
    before = int(time.time())
    assert deliver_due(outbox, CAMPAIGN, secrets, 8).delivered == 1
    (post,) = receiver.posts
    webhook_headers = {name: value for name, value in post.headers.items() if name.startswith("webhook-")}
    assert set(webhook_headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert re.fullmatch(r"msg_[0-9a-f]{32}", webhook_headers["webhook-id"])
    assert re.fullmatch(r"[0-9]+", webhook_headers["webhook-timestamp"]) and before <= int(webhook_headers["webhook-timestamp"]) <= time.time()
    assert re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", webhook_headers["webhook-signature"])
    assert post.headers["content-type"] == "application/json"
    assert Webhook(SECRET).verify(post.body, post.headers) == json.loads(post.body)
    expected = Webhook(SECRET).sign(webhook_headers["webhook-id"], dt.datetime.fromtimestamp(int(webhook_headers["webhook-timestamp"]), dt.UTC),
                                    post.body.decode())
    assert webhook_headers["webhook-signature"] == expected
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    assert len(key) == 32


def test_event_ids_are_unique_and_shared_only_by_the_endpoints_of_one_event(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'ids.sqlite3'}")
    ledger.upgrade()
    endpoints = [{"url": "https://a.example/hook", "secret": SECRET}, {"url": "https://b.example/hook", "secret": SECRET}]
    policy = load_policy(write_policy(tmp_path / "ids", {"observe": {"webhooks": endpoints}}))
    for index in range(300):
        assert record_events(ledger, policy, "retention.deleted", rule="submissions", files=[{"submission_id": index}]) == 2
    rows = Outbox(ledger).list(limit=1000)
    assert len(rows) == 600
    by_id: dict[str, set[str]] = {}
    for row in rows:
        by_id.setdefault(row.event_id, set()).add(row.endpoint)
    assert len(by_id) == 300 and all(targets == {"https://a.example/hook", "https://b.example/hook"} for targets in by_id.values())


def dead_row(ledger: Ledger, campaign: str) -> int:
    outbox = Outbox(ledger)
    (row_id,) = outbox.add([OutboxEvent(campaign, f"msg_{uuid.uuid4().hex}", "retention.deleted", "https://a.example/hook", "{}")])
    outbox.failed(row_id, "answered 500", retry_at=None)
    return row_id


@pytest.fixture
def events_cli(tmp_path: Path) -> tuple[Ledger, Path, list[str]]:
    """A ledger with the outbox, a policy with one endpoint, and the options naming both."""
    ledger = Ledger(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    ledger.upgrade()
    path = write_policy(tmp_path / "cli", {"observe": {"webhooks": [{"url": "https://a.example/hook", "secret": SECRET}]}})
    return ledger, path, ["--policy", str(path), "--ledger", ledger.url]


def test_retry_of_an_id_that_does_not_exist(events_cli: tuple[Ledger, Path, list[str]]) -> None:
    ledger, _, options = events_cli
    dead = dead_row(ledger, CAMPAIGN)
    result = CliRunner().invoke(main, ["events", "retry", str(dead + 41), *options])
    assert (result.exit_code, result.output) == (1, f"Error: no dead-lettered event of campaign {CAMPAIGN} has id {dead + 41}; "
                                                    "nothing was retried (ugc-guard events list --dead)\n")


def test_retry_of_another_campaigns_row_is_refused_and_changes_nothing(events_cli: tuple[Ledger, Path, list[str]]) -> None:
    ledger, _, options = events_cli
    ours, theirs = dead_row(ledger, CAMPAIGN), dead_row(ledger, "other-campaign")
    result = CliRunner().invoke(main, ["events", "retry", str(ours), str(theirs), *options])
    assert (result.exit_code, result.output) == (1, f"Error: no dead-lettered event of campaign {CAMPAIGN} has id {theirs}; "
                                                    "nothing was retried (ugc-guard events list --dead)\n")
    assert {row.id: row.status for row in Outbox(ledger).list()} == {ours: "dead", theirs: "dead"}  # not even ours


def test_retry_of_a_row_that_is_not_dead(events_cli: tuple[Ledger, Path, list[str]]) -> None:
    ledger, _, options = events_cli
    (pending,) = Outbox(ledger).add([OutboxEvent(CAMPAIGN, "msg_1", "retention.deleted", "https://a.example/hook", "{}")])
    result = CliRunner().invoke(main, ["events", "retry", str(pending), *options])
    assert (result.exit_code, result.output) == (1, f"Error: no dead-lettered event of campaign {CAMPAIGN} has id {pending}; "
                                                    "nothing was retried (ugc-guard events list --dead)\n")
    assert Outbox(ledger).list()[0].attempts == 0


def test_retry_of_a_dead_row_of_the_campaign_works(events_cli: tuple[Ledger, Path, list[str]]) -> None:
    ledger, _, options = events_cli
    dead = dead_row(ledger, CAMPAIGN)
    result = CliRunner().invoke(main, ["events", "retry", str(dead), str(dead), *options])
    assert (result.exit_code, result.output) == (0, "1 event(s) queued again\n")
    assert Outbox(ledger).list()[0].status == "pending"


@pytest.mark.parametrize(
    ("value", "why"),
    [("0", "0 is not in the range 1<=x<=9223372036854775807"), ("-1", "-1 is not in the range 1<=x<=9223372036854775807"),
     ("99999999999999999999999", "99999999999999999999999 is not in the range 1<=x<=9223372036854775807"),
     ("abc", "'abc' is not a valid integer range"), ("1.5", "'1.5' is not a valid integer range")],
)
def test_retry_of_an_id_that_is_no_row_id(events_cli: tuple[Ledger, Path, list[str]], value: str, why: str) -> None:
    _, _, options = events_cli
    result = CliRunner().invoke(main, ["events", "retry", *options, "--", value])
    assert (result.exit_code, result.output.splitlines()[-1]) == (2, f"Error: Invalid value for '[IDS]...': {why}.")


# -- 5. the events CLI with a missing or garbled ledger or policy ------------------------------------------------


@pytest.mark.parametrize("command", [["list"], ["retry", "1"], ["retry", "--all"], ["deliver"]])
@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing-ledger", "Error: the ledger file {dir}/nope.sqlite3 does not exist (relative to {dir}); check sqlite:///nope.sqlite3, "
                           "or create a new ledger with: ugc-guard db upgrade"),
        ("garbage-ledger", "Error: the ledger database sqlite:///{dir}/garbage.sqlite3 cannot be opened: file is not a database"),
        ("empty-ledger", "Error: sqlite:///{dir}/empty.sqlite3 has no ledger tables; run ugc-guard db upgrade (or Ledger.upgrade())"),
        ("missing-policy", "Error: {dir}/nope.yaml: file not found; check the path"),
        ("garbled-policy", "Error: {dir}/garbled.yaml:2:1: invalid YAML: expected ',' or ']', but got '<stream end>'; fix the syntax there"),
        ("bad-secret", "Error: {dir}/s/policy.yaml: observe.webhooks[0].secret: the secret must be whsec_ followed by base64 of 24 to 64 "
                       "random bytes; generate one with: python -c 'import base64, secrets; "
                       "print(\"whsec_\" + base64.b64encode(secrets.token_bytes(32)).decode())'"),
        ("bad-attempts", "Error: {dir}/p/policy.yaml: observe.max_attempts: Input should be less than or equal to 30"),
    ],
    ids=["missing-ledger", "garbage-ledger", "empty-ledger", "missing-policy", "garbled-policy", "bad-secret", "bad-attempts"],
)
def test_events_commands_with_broken_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], setup: str,
                                            message: str) -> None:
    monkeypatch.chdir(tmp_path)
    good = Ledger(f"sqlite:///{tmp_path / 'good.sqlite3'}")
    good.upgrade()
    good.close()
    webhook = {"url": "https://a.example/hook", "secret": SECRET}
    good_policy = write_policy(tmp_path / "good", {"observe": {"webhooks": [webhook]}})
    (tmp_path / "garbage.sqlite3").write_bytes(b"this is not SQLite at all\n" * 10)
    import sqlite3

    sqlite3.connect(tmp_path / "empty.sqlite3").close()
    (tmp_path / "garbled.yaml").write_text("events: [unclosed\n")
    options = {
        "missing-ledger": ["--ledger", "sqlite:///nope.sqlite3", "--policy", str(good_policy)],
        "garbage-ledger": ["--ledger", f"sqlite:///{tmp_path}/garbage.sqlite3", "--policy", str(good_policy)],
        "empty-ledger": ["--ledger", f"sqlite:///{tmp_path}/empty.sqlite3", "--policy", str(good_policy)],
        "missing-policy": ["--ledger", good.url, "--policy", str(tmp_path / "nope.yaml")],
        "garbled-policy": ["--ledger", good.url, "--policy", str(tmp_path / "garbled.yaml")],
        "bad-secret": ["--ledger", good.url, "--policy", str(write_policy(tmp_path / "s", {"observe": {"webhooks": [
            {**webhook, "secret": "whsec_not base64!"}]}}))],
        "bad-attempts": ["--ledger", good.url, "--policy", str(write_policy(tmp_path / "p", {"observe": {"max_attempts": 10_000}}))],
    }[setup]
    files = sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*"))
    garbage = (tmp_path / "garbage.sqlite3").read_bytes()
    result = CliRunner().invoke(main, ["events", *command, *options])
    assert (result.exit_code, result.output) == (1, message.format(dir=tmp_path) + "\n")
    assert sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*")) == files  # nothing created (no ledger, no -wal)
    assert (tmp_path / "garbage.sqlite3").read_bytes() == garbage
