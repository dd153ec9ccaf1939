from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.scraping.conftest import guarded_factory
from ugc_guard.context import RequestContext
from ugc_guard.ratelimit.headers import policy_item, state_item

UA = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"}
PROXIED = {"trusted_proxies": ["127.0.0.0/8"]}


@pytest.fixture
def guarded(make_policy: Callable[..., Any]) -> Callable[..., TestClient]:
    return guarded_factory(make_policy)


def _rules(*rules: dict[str, Any], **settings: Any) -> dict[str, Any]:
    return {"rate_limits": {**settings, "rules": list(rules)}}


def test_header_items() -> None:
    assert policy_item("burst", 100, 60) == '"burst";q=100;w=60'
    assert policy_item("bytes", 10_000, 3600, "content-bytes") == '"bytes";q=10000;w=3600;qu="content-bytes"'
    assert state_item("burst", 0, 41.2) == '"burst";r=0;t=42'
    assert state_item("burst", -3, -1) == '"burst";r=0;t=0'


@pytest.mark.parametrize("strategy", ["fixed-window", "moving-window", "sliding-window-counter"])
def test_strategies_refuse_with_429_and_retry_after_only_then(guarded: Callable[..., TestClient], strategy: str) -> None:
    client = guarded(_rules({"name": "burst", "limit": "3/minute"}, strategy=strategy))
    responses = [client.get("/about", headers=UA) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    for response in responses[:3]:
        assert response.headers["ratelimit-policy"] == '"burst";q=3;w=60'
        assert re.fullmatch(r'"burst";r=[0-2];t=([0-9]|[1-5][0-9]|60)', response.headers["ratelimit"])
        assert "retry-after" not in response.headers
    refusal = responses[3]
    assert refusal.headers["content-type"] == "application/problem+json"
    body = refusal.json()
    assert body["code"] == "rate-limited" and body["type"] == "https://iana.org/assignments/http-problem-types#quota-exceeded"
    assert 1 <= int(refusal.headers["retry-after"]) <= 60
    assert refusal.headers["ratelimit"].startswith('"burst";r=0;t=')


def test_several_limits_in_one_rule_and_report_only(guarded: Callable[..., TestClient]) -> None:
    client = guarded(_rules({"name": "pages", "limit": "2/minute;100/hour"}, report_only=True))
    responses = [client.get("/about", headers=UA) for _ in range(4)]
    assert [r.status_code for r in responses] == [200] * 4
    assert responses[-1].headers["ratelimit-policy"] == '"pages-1";q=2;w=60, "pages-2";q=100;w=3600'
    assert responses[-1].headers["ratelimit"].startswith('"pages-1";r=0;t=')
    assert "retry-after" not in responses[-1].headers


def test_groups(guarded: Callable[..., TestClient]) -> None:
    client = guarded(_rules({"name": "uploads", "limit": "1/hour", "group": "uploads"}), only_these=True)
    assert "ratelimit" not in client.get("/about", headers=UA).headers
    first = client.post("/upload", content=b"x", headers=UA)
    assert first.status_code == 200 and first.headers["ratelimit-policy"] == '"uploads";q=1;w=3600'
    assert client.post("/upload", content=b"x", headers=UA).status_code == 429
    assert client.get("/about", headers=UA).status_code == 200
    pages = guarded(_rules({"name": "pages", "limit": "1/hour", "group": "pages"}), only_these=True)
    assert "ratelimit" not in pages.post("/upload", content=b"x", headers=UA).headers


def test_client_scope_uses_the_address_behind_trusted_proxies(guarded: Callable[..., TestClient]) -> None:
    client = guarded(_rules({"name": "burst", "limit": "1/hour"}, **PROXIED))
    assert client.get("/about", headers={**UA, "x-forwarded-for": "198.51.100.1"}).status_code == 200
    assert client.get("/about", headers={**UA, "x-forwarded-for": "198.51.100.2"}).status_code == 200
    assert client.get("/about", headers={**UA, "forwarded": "for=198.51.100.1"}).status_code == 429


def test_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(guarded: Callable[..., TestClient]) -> None:
    client = guarded(_rules({"name": "burst", "limit": "1/hour"}, **PROXIED), peer="203.0.113.50")
    assert client.get("/about", headers={**UA, "x-forwarded-for": "198.51.100.1"}).status_code == 200
    assert client.get("/about", headers={**UA, "x-forwarded-for": "198.51.100.2"}).status_code == 429
    assert client.get("/about", headers={**UA, "forwarded": "for=198.51.100.3"}).status_code == 429


def test_route_scope_is_shared_by_everyone(guarded: Callable[..., TestClient]) -> None:
    client = guarded(_rules({"name": "route", "limit": "1/hour", "scope": "route"}, **PROXIED))
    assert client.get("/about", headers={**UA, "x-forwarded-for": "198.51.100.1"}).status_code == 200
    assert client.get("/about", headers={**UA, "x-forwarded-for": "198.51.100.2"}).status_code == 429
    assert client.get("/gallery/1", headers={**UA, "x-forwarded-for": "198.51.100.2"}).status_code == 200


def test_subject_scope_falls_back_to_the_client(guarded: Callable[..., TestClient]) -> None:
    client = guarded(_rules({"name": "subject", "limit": "1/hour", "scope": "subject"}), only_these=True)

    async def identify(ctx: RequestContext) -> None:
        ctx.subject = ctx.headers.get("x-test-subject")

    client.app.stages[client.app.sites[0]].insert(0, identify)  # type: ignore[attr-defined]  # stands in for the subject stage
    assert client.get("/about", headers={**UA, "x-test-subject": "alice"}).status_code == 200
    assert client.get("/about", headers={**UA, "x-test-subject": "alice"}).status_code == 429
    assert client.get("/about", headers={**UA, "x-test-subject": "bob"}).status_code == 200
    assert client.get("/about", headers=UA).status_code == 200
    assert client.get("/about", headers=UA).status_code == 429


def test_content_bytes_charge_declared_length_up_front(guarded: Callable[..., TestClient]) -> None:
    client = guarded(_rules({"name": "bytes", "limit": "1000/hour", "group": "uploads", "cost": "content-bytes"}), only_these=True)
    first = client.post("/upload", content=b"x" * 600, headers=UA)
    assert first.status_code != 429
    assert first.headers["ratelimit-policy"] == '"bytes";q=1000;w=3600;qu="content-bytes"'
    assert first.headers["ratelimit"].startswith('"bytes";r=400;')
    assert client.post("/upload", content=b"x" * 600, headers=UA).status_code == 429
    assert client.post("/upload", content=b"x" * 300, headers=UA).status_code != 429


def test_content_bytes_count_chunked_bodies_as_they_arrive(guarded: Callable[..., TestClient]) -> None:
    client = guarded(_rules({"name": "bytes", "limit": "1000/hour", "group": "uploads", "cost": "content-bytes"}), only_these=True)

    def chunks(count: int):  # type: ignore[no-untyped-def]
        for _ in range(count):
            yield b"y" * 300

    accepted = client.post("/upload", content=chunks(2), headers=UA)
    assert accepted.status_code == 200 and accepted.text == "got 600"
    with pytest.raises(Exception, match="rate-limited"):  # the app was reading the body: the refusal surfaces there
        client.post("/upload", content=chunks(3), headers=UA)


def _dead(fail: str) -> dict[str, Any]:
    return _rules({"name": "burst", "limit": "1/hour"}, storage="redis://127.0.0.1:1/0", fail=fail)


def test_storage_down_fail_open_is_bounded_and_logged(guarded: Callable[..., TestClient], caplog: pytest.LogCaptureFixture) -> None:
    client = guarded(_dead("open"))
    started = time.monotonic()
    statuses = [client.get("/about", headers=UA).status_code for _ in range(20)]
    assert statuses == [200] * 20
    assert time.monotonic() - started < 5  # not a time limit on the code: a sanity bound far above the 0.25 s timeout
    warnings = [r for r in caplog.records if "rate-limit storage unavailable" in r.getMessage()]
    assert len(warnings) == 1


def test_storage_down_fail_closed(guarded: Callable[..., TestClient]) -> None:
    client = guarded(_dead("closed"))
    response = client.get("/about", headers=UA)
    assert response.status_code == 503 and response.json()["code"] == "rate-limit-unavailable"
    assert client.get("/robots.txt").status_code == 200


def test_redis_shared_limits(guarded: Callable[..., TestClient], redis_url: str) -> None:
    policy = _rules({"name": "burst", "limit": "3/hour"})
    first, second = guarded(policy, rate_limit_storage=redis_url), guarded(policy, rate_limit_storage=redis_url)
    statuses = [c.get("/about", headers=UA).status_code for c in (first, second, first, second, first)]
    assert statuses == [200, 200, 200, 429, 429]


class RedisCut:
    """A TCP relay to the machine's Redis that can be cut, as if Redis stopped (the real server keeps running)."""

    def __init__(self, port: int) -> None:
        self.upstream = ("127.0.0.1", port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            self.sockets += [downstream, upstream]
            for source, target in ((downstream, upstream), (upstream, downstream)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass

    def cut(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@pytest.mark.parametrize(("fail", "status"), [("closed", 503), ("open", 200)])
def test_redis_stopped_mid_run(guarded: Callable[..., TestClient], redis_url: str, fail: str, status: int) -> None:
    relay = RedisCut(6379)
    url = redis_url.replace(":6379/", f":{relay.port}/")
    client = guarded(_rules({"name": "burst", "limit": "100/hour"}, fail=fail), rate_limit_storage=url)
    assert client.get("/about", headers=UA).status_code == 200
    relay.cut()
    assert [client.get("/about", headers=UA).status_code for _ in range(5)] == [status] * 5
    assert client.get("/robots.txt", headers=UA).status_code == 200


STRATEGIES = ("moving-window", "fixed-window", "sliding-window-counter")
PROCESS = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from starlette.testclient import TestClient
    from tests.conftest import write_policy
    from tests.scraping.conftest import tiny_app
    from ugc_guard.middleware import UGCGuard
    for strategy in {strategies!r}:
        limits = {{"strategy": strategy, "rules": [{{"name": strategy, "limit": "25/hour"}}]}}
        path = write_policy(Path(sys.argv[1]) / strategy, {{"rate_limits": limits}})
        guard = UGCGuard(tiny_app(), policy=str(path), rate_limit_storage=sys.argv[2])
        with TestClient(guard, client=("127.0.0.1", 1)) as client:  # one event loop, as in a server
            print(sum(client.get("/about").status_code == 200 for _ in range(40)))
    """
)


def test_two_processes_sharing_redis_admit_exactly_n(redis_url: str, tmp_path: Any) -> None:
    from tests.conftest import REPO

    script = PROCESS.format(root=str(REPO), strategies=STRATEGIES)
    processes = [
        subprocess.Popen([sys.executable, "-c", script, str(tmp_path / f"p{i}"), redis_url], stdout=subprocess.PIPE, text=True)
        for i in range(2)
    ]
    outputs = [process.communicate()[0].split() for process in processes]
    for index, strategy in enumerate(STRATEGIES):
        admitted = [int(output[index]) for output in outputs]
        assert sum(admitted) == 25, (strategy, admitted)
