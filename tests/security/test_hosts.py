"""Hosts: a Host header is a bare host the policy serves or the request is refused; links never come
from it; one campaign's upload route is gated on every other campaign's host; WebSockets on upload paths
are closed unless the policy says otherwise."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from tests.conftest import write_policy
from tests.pages.conftest import Outbox
from ugc_guard import UGCGuard
from ugc_guard.ledger import Ledger
from ugc_guard.pages import set_notifier

from .conftest import BROWSER_UA, SECURITY_POLICY, Site, Spy, accept, jpeg, raw_request


def with_host(*values: str) -> list[tuple[str, str]]:
    return [*(("host", value) for value in values), ("user-agent", BROWSER_UA), ("content-type", "image/jpeg")]


@pytest.mark.parametrize(
    "host",
    [
        "user@testserver", "testserver:80@evil.example", "evil.example#@testserver", "testserver:99999", "testserver:80:81",
        "testserver/x", "testserver:", "testserver:abc", " testserver", "testserver\tx", "", "test server", "testserver?x",
        "testserver\\evil.example", "[::1", "testserver..", "-testserver", "testserver:+80",
    ],
)  # fmt: skip
@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_host_that_is_not_a_bare_host_is_bad_host(make_site: Callable[..., Site], host: str, method: str) -> None:
    site = make_site()
    reply = raw_request(site.guard, method, "/api/selfies/1", with_host(host), jpeg() if method == "PUT" else b"")
    assert (reply.status, reply.code) == (400, "bad-host"), host
    assert site.reached() == 0 and site.entries() == 0


def test_two_host_headers_are_bad_host(make_site: Callable[..., Site]) -> None:
    site = make_site()
    reply = raw_request(site.guard, "GET", "/", with_host("testserver", "evil.example"))
    assert (reply.status, reply.code) == (400, "bad-host")
    reply = raw_request(site.guard, "GET", "/", with_host("testserver", "testserver"))
    assert (reply.status, reply.code) == (400, "bad-host")


@pytest.mark.parametrize("host", ["evil.example", "testserver.evil.example", "evil-testserver", "[::1]", "127.0.0.1", "testserverx"])
def test_host_no_campaign_serves_is_unknown_host(make_site: Callable[..., Site], host: str) -> None:
    site = make_site()
    reply = raw_request(site.guard, "PUT", "/api/selfies/1", with_host(host), jpeg())
    assert (reply.status, reply.code) == (421, "unknown-host"), host
    assert site.reached() == 0


@pytest.mark.parametrize("host", ["testserver", "TESTSERVER", "testserver.", "testserver:8080", "guarded.test:443", "GUARDED.test."])
def test_bare_hosts_the_policy_serves_are_served(make_site: Callable[..., Site], host: str) -> None:
    site = make_site()
    reply = raw_request(site.guard, "GET", "/", with_host(host))
    assert reply.status == 200 and reply.body == b"home", host


def test_no_host_header_falls_back_to_the_server_address(make_site: Callable[..., Site]) -> None:
    site = make_site()  # HTTP/1.0 without Host: the server reached at testserver:80
    reply = raw_request(site.guard, "GET", "/", [("user-agent", BROWSER_UA)])
    assert reply.status == 200


@pytest.mark.parametrize("host", ["guarded.test", "guarded.test:8443", "testserver:1234"])
def test_problem_links_come_from_the_origin_not_the_host(make_site: Callable[..., Site], host: str) -> None:
    site = make_site({"campaign": {"origin": "https://upload.campaign.example"}})
    reply = raw_request(site.guard, "PUT", "/api/selfies/1", with_host(host), jpeg())
    assert (reply.status, reply.code) == (403, "terms-not-accepted")
    assert reply.json()["accept_url"] == "https://upload.campaign.example/ugc-guard/terms"
    assert reply.json()["status_url"] == "https://upload.campaign.example/ugc-guard/status"


def test_guardian_link_comes_from_the_origin_not_the_host(make_site: Callable[..., Site]) -> None:
    site = make_site({"campaign": {"origin": "https://upload.campaign.example"}, "age": {"guardian_minimum": 16}})
    client = site.client(host="guarded.test:8443")
    import datetime as dt

    seventeen = (dt.date.today() - dt.timedelta(days=17 * 366)).isoformat()
    assert accept(client, seventeen, guardian_email="parent@example.org").status_code == 303
    assert len(site.outbox.messages) == 1
    assert site.outbox.messages[0].link.startswith("https://upload.campaign.example/ugc-guard/guardian/confirm?token=")


def test_default_origin_is_https_and_the_first_exact_host(make_policy: Callable[..., object]) -> None:
    from ugc_guard.policy import Policy

    policy = make_policy({"campaign": {"hosts": ["*.wild.example", "upload.example", "testserver"], "origin": None}})
    assert isinstance(policy, Policy)
    assert policy.campaign.base_url == "https://upload.example"


@pytest.mark.parametrize("origin", ["https://x.example/path", "https://user@x.example", "https://x.example/?q=1", "ftp://x.example"])
def test_origin_with_more_than_scheme_host_port_is_a_policy_error(policy_file: Callable[..., Path], origin: str) -> None:
    from ugc_guard.policy import PolicyError, load_policy

    with pytest.raises(PolicyError) as raised:
        load_policy(policy_file({"campaign": {"origin": origin}}))
    assert "campaign.origin" in str(raised.value)


def two_campaigns(tmp_path: Path, sqlite_url: str, spy: Spy) -> UGCGuard:
    """Campaign A (a.test) takes /upload and /api/selfies/{entry}; campaign B (b.test) only /b-upload."""
    first = write_policy(tmp_path / "a", {**SECURITY_POLICY, "campaign": {"id": "camp-a", "hosts": ["a.test"], "origin": "https://a.test"}})
    second = write_policy(
        tmp_path / "b",
        {"campaign": {"id": "camp-b", "hosts": ["b.test"], "origin": "https://b.test"}, "uploads": {"routes": [{"path": "/b-upload"}]}},
    )
    Ledger(sqlite_url).upgrade()
    guard = UGCGuard(spy.app(), policies=[first, second], ledger=sqlite_url)
    set_notifier(guard, Outbox(), "camp-a")
    return guard


@pytest.mark.parametrize("target", ["/upload", "/api/selfies/1", "/UPLOAD/", "/media/a"])
def test_another_campaigns_upload_route_is_wrong_host(tmp_path: Path, sqlite_url: str, target: str) -> None:
    spy = Spy()
    guard = two_campaigns(tmp_path, sqlite_url, spy)
    reply = raw_request(guard, "PUT", target, with_host("b.test"), jpeg())
    assert (reply.status, reply.code) == (421, "wrong-host"), target
    assert spy.calls == []
    own = raw_request(guard, "PUT", target, with_host("a.test"), jpeg())
    assert (own.status, own.code) == (403, "terms-not-accepted")
    assert spy.calls == []


def test_another_campaigns_tricks_are_bad_path(tmp_path: Path, sqlite_url: str) -> None:
    spy = Spy()
    guard = two_campaigns(tmp_path, sqlite_url, spy)
    for target in ("/api/selfies/..", "/upload;x", "//upload"):
        reply = raw_request(guard, "PUT", target, with_host("b.test"), jpeg())
        assert (reply.status, reply.code) == (400, "bad-path"), target
    assert spy.calls == []


def test_each_campaigns_own_route_is_gated_on_its_host(tmp_path: Path, sqlite_url: str) -> None:
    spy = Spy()
    guard = two_campaigns(tmp_path, sqlite_url, spy)
    reply = raw_request(guard, "POST", "/b-upload", with_host("b.test"), jpeg())
    assert (reply.status, reply.code) == (403, "terms-not-accepted")
    reply = raw_request(guard, "POST", "/b-upload", with_host("a.test"), jpeg())
    assert (reply.status, reply.code) == (421, "wrong-host")


@pytest.mark.parametrize("path", ["/upload", "/api/selfies/1", "/media/x", "/UPLOAD", "/upload;x", "/api/selfies/%2e%2e"])
def test_websocket_on_an_upload_path_is_closed(make_site: Callable[..., Site], path: str) -> None:
    site = make_site()
    client = TestClient(site.guard, base_url="http://testserver")
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect(path) as socket:
        socket.receive_text()
    assert closed.value.code == 1008
    assert site.reached() == 0


def test_websocket_elsewhere_passes_and_a_policy_can_allow_upload_paths(make_site: Callable[..., Site]) -> None:
    site = make_site()
    with TestClient(site.guard).websocket_connect("/ws") as socket:
        assert socket.receive_text() == "hello"
    allowing = make_site({"uploads": {"websocket": "pass"}})
    with TestClient(allowing.guard).websocket_connect("/upload") as socket:
        assert socket.receive_text() == "hello"
    assert [call["path"] for call in site.spy.calls + allowing.spy.calls] == ["/ws", "/upload"]
