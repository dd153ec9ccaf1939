"""The middleware's own contract: site selection, the stage pipeline, pass-through, refusing to start."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket

import ugc_guard.middleware as middleware_module
from tests.conftest import write_policy
from ugc_guard import Policy, PolicyError, Problem, UGCGuard
from ugc_guard.context import RequestContext


async def echo(request: Request) -> Response:
    return JSONResponse({"path": request.url.path, "ugc": getattr(request.state, "seen_by", None)})


async def boom(request: Request) -> Response:
    raise RuntimeError("app failure")


async def socket_endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("hello")
    await websocket.close()


def make_app(**guard: Any) -> Starlette:
    app = Starlette(
        routes=[Route("/", echo), Route("/upload", echo, methods=["POST"]), Route("/boom", boom), WebSocketRoute("/ws", socket_endpoint)]
    )
    app.add_middleware(UGCGuard, **guard)
    return app


class Recorder:
    """A stage that records what it saw and does what the test tells it to."""

    def __init__(self, action: Callable[[RequestContext], Any] | None = None) -> None:
        self.seen: list[RequestContext] = []
        self.statuses: list[int | None] = []
        self.action = action

    async def __call__(self, ctx: RequestContext) -> Any:
        self.seen.append(ctx)

        async def after(status: int | None) -> None:
            self.statuses.append(status)

        ctx.after_response.append(after)
        ctx.add_header("X-Stage", "seen")
        return self.action(ctx) if self.action else None


@pytest.fixture
def with_stages(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    def install(*stages: Any) -> None:
        monkeypatch.setattr(middleware_module, "build_stages", lambda site: list(stages))

    return install


def test_requests_pass_through_to_the_app_with_stage_headers(make_policy, with_stages) -> None:
    recorder = Recorder()
    with_stages(recorder)
    client = TestClient(make_app(policy=make_policy()))
    response = client.get("/")
    assert response.status_code == 200 and response.json()["path"] == "/"
    assert response.headers["x-stage"] == "seen"
    assert recorder.statuses == [200]
    ctx = recorder.seen[0]
    assert ctx.site.campaign == "test-campaign" and ctx.upload_route is None and ctx.client == "testclient"


def test_a_stage_answer_replaces_the_app(make_policy, with_stages) -> None:
    with_stages(Recorder(lambda ctx: PlainTextResponse("from the stage", status_code=418)))
    response = TestClient(make_app(policy=make_policy())).get("/")
    assert response.status_code == 418 and response.text == "from the stage"
    assert response.headers["x-stage"] == "seen"


def test_a_raised_problem_becomes_problem_json(make_policy, with_stages) -> None:
    def refuse(ctx: RequestContext) -> None:
        raise Problem("upload-too-large", "bigger than 10 bytes")

    with_stages(Recorder(refuse))
    response = TestClient(make_app(policy=make_policy())).post("/upload", content=b"x" * 20)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "tag:ugc-guard,2026:problem:upload-too-large",
        "title": "The upload is larger than allowed",
        "status": 413,
        "code": "upload-too-large",
        "detail": "bigger than 10 bytes",
    }


def test_after_response_hears_of_an_app_that_raised(make_policy, with_stages) -> None:
    recorder = Recorder()
    with_stages(recorder)
    client = TestClient(make_app(policy=make_policy()), raise_server_exceptions=False)
    assert client.get("/boom").status_code == 500
    assert recorder.statuses == [None]


def test_upload_route_is_detected_for_body_methods_only(make_policy, with_stages) -> None:
    recorder = Recorder()
    with_stages(recorder)
    client = TestClient(make_app(policy=make_policy()), follow_redirects=False)
    client.post("/UPLOAD/", content=b"")
    client.get("/upload")
    client.request("PATCH", "/upload/./", content=b"")
    assert [ctx.upload_route is not None for ctx in recorder.seen] == [True, False, True]


def test_unknown_host_gets_421_problem(make_policy, with_stages) -> None:
    with_stages()
    client = TestClient(make_app(policy=make_policy()), base_url="http://elsewhere.example")
    response = client.get("/")
    assert response.status_code == 421
    assert response.json()["code"] == "unknown-host"
    assert "elsewhere.example" in response.json()["detail"]


def test_unknown_host_can_fall_back_to_a_campaign(make_policy, with_stages) -> None:
    recorder = Recorder()
    with_stages(recorder)
    client = TestClient(make_app(policy=make_policy(), unknown_host="test-campaign"), base_url="http://elsewhere.example")
    assert client.get("/").status_code == 200 and recorder.seen[0].site.campaign == "test-campaign"


def test_unknown_host_fallback_must_name_a_campaign(make_policy) -> None:
    guard = UGCGuard(PlainTextResponse("x"), policy=make_policy(), unknown_host="nope")
    with pytest.raises(ValueError, match="unknown_host='nope'"):
        guard.check()


def test_several_campaigns_chosen_by_host(tmp_path: Path, with_stages) -> None:
    write_policy(tmp_path, {"campaign": {"id": "first", "hosts": ["first.example", "*.first.example"]}}, "first.yaml")
    write_policy(tmp_path, {"campaign": {"id": "second", "hosts": ["second.example"]}}, "second.yaml")
    recorder = Recorder()
    with_stages(recorder)
    app = make_app(policies=tmp_path)
    for host in ["first.example", "FIRST.example.", "www.first.example", "second.example:8443"]:
        assert TestClient(app, base_url=f"http://{host}").get("/").status_code == 200
    assert [ctx.site.campaign for ctx in recorder.seen] == ["first", "first", "first", "second"]
    assert TestClient(app, base_url="http://a.b.first.example").get("/").status_code == 421


def test_overrides_take_precedence_over_the_policy(make_policy) -> None:
    guard = UGCGuard(PlainTextResponse("x"), policy=make_policy(), ledger="sqlite:///override.sqlite3", rate_limit_storage="memory://")
    assert guard.sites[0].ledger_url == "sqlite:///override.sqlite3"
    assert guard.sites[0].rate_limit_storage == "memory://"


def test_lifespan_and_websocket_pass_through(make_policy, sqlite_url: str) -> None:
    import contextlib

    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        events.append("startup")
        yield
        events.append("shutdown")

    app = Starlette(routes=[WebSocketRoute("/ws", socket_endpoint)], lifespan=lifespan)
    app.add_middleware(UGCGuard, policy=make_policy(), ledger=sqlite_url)
    with TestClient(app) as client, client.websocket_connect("/ws") as socket:
        assert socket.receive_text() == "hello"
    assert events == ["startup", "shutdown"]


def test_refuses_to_start_with_a_broken_policy(policy_file) -> None:
    # construction keeps the error (the server's lifespan startup fails with it: tests/test_startup.py)
    path = policy_file({"age": {"minimum": "x"}})
    guard = UGCGuard(PlainTextResponse("x"), policy=path)
    with pytest.raises(PolicyError) as caught:
        guard.check()
    assert caught.value.lines == [f"{path}: age.minimum: Input should be a valid integer, unable to parse string as an integer"]


def test_refuses_to_start_without_a_secret(policy_file) -> None:
    path = policy_file({"secret": None})
    guard = UGCGuard(PlainTextResponse("x"), policy=path)
    with pytest.raises(PolicyError, match="no signing secret; set UGC_GUARD_SECRET"):
        guard.check()


def test_development_mode_starts_without_a_secret_and_warns(policy_file, caplog: pytest.LogCaptureFixture) -> None:
    guard = UGCGuard(PlainTextResponse("x"), policy=policy_file({"secret": None}), development=True)
    assert len(guard.sites[0].secret) == 32
    assert "development mode uses a random one" in caplog.text


def test_needs_exactly_one_of_policy_and_policies(make_policy: Callable[..., Policy]) -> None:
    with pytest.raises(TypeError, match=r"needs policy= .* or policies="):
        UGCGuard(PlainTextResponse("x")).check()
    with pytest.raises(TypeError, match=r"needs policy= .* or policies="):
        UGCGuard(PlainTextResponse("x"), policy=make_policy(), policies=[make_policy()]).check()


def test_mounts_in_fastapi(make_policy, with_stages) -> None:
    from fastapi import FastAPI

    recorder = Recorder()
    with_stages(recorder)
    api = FastAPI()

    @api.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    api.add_middleware(UGCGuard, policy=make_policy())
    response = TestClient(api).get("/hello")
    assert response.json() == {"hello": "world"} and response.headers["x-stage"] == "seen"
    assert recorder.statuses == [200]


def test_a_notifier_passed_to_the_middleware_delivers_guardian_links(make_policy, sqlite_url: str) -> None:
    from tests.pages.conftest import accept_form
    from tests.pages.test_guardian import SEVENTEEN
    from ugc_guard.ledger import Ledger

    class Outbox:
        def __init__(self) -> None:
            self.sent: list[Any] = []

        async def send_guardian_link(self, message: Any) -> None:
            self.sent.append(message)

    Ledger(sqlite_url).upgrade()
    outbox = Outbox()
    policy = make_policy({"age": {"guardian_minimum": 16}})
    guard = UGCGuard(PlainTextResponse("x"), policy=policy, ledger=sqlite_url, notifier=outbox)
    client = TestClient(guard)
    assert accept_form(client, birth_date=SEVENTEEN, guardian_email="parent@example.org").status_code == 303
    (message,) = outbox.sent
    assert message.to == "parent@example.org" and "/ugc-guard/guardian/confirm?token=" in message.link
