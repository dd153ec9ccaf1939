"""Path and method spellings: every spelling the app would route to an upload endpoint is gated, and
every spelling that only makes sense as a trick is refused with 400 ``bad-path``, for a visitor who has
accepted the terms as much as for one who has not. Nothing of a refused request reaches the app or the ledger.

Requests go straight into the ASGI app with ``raw_path`` as sent and ``path`` decoded once (uvicorn's
way), because the test client resolves dot segments before sending.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import BROWSER_UA, GRANTS, RAW_GRANTS, Site, accept, cookie_header, jpeg, raw_request

SELFIE_TRICKS = [
    "/api/selfies/..", "/api/selfies/.", "/api/selfies/;x", "/api/selfies/x;y=1", "/api/selfies/%2e%2e",
    "/api/selfies/%2E%2E", "/api/selfies/%2e", "/api/selfies/a%5cb", "/api/selfies/a\\b", "/api/selfies/a%2fb",
    "/api/selfies/a%2Fb", "/api/selfies/a%252fb", "/api/selfies//x", "/api/selfies/x/..", "/api/./selfies/1",
    "/api/x/../selfies/1", "/api/selfies/%00", "/api/selfies/a%0d%0ab", "/api/selfies/%252e%252e", "/api//selfies/1",
    "/API/selfies/..", "/api/selfies/1%3bx", "/api/selfies/%25",
]  # fmt: skip
UPLOAD_TRICKS = [
    "/upload/..", "/upload/.", "//upload", "/upload;", "/upload;jsessionid=1", "/upload%2f", "/upload%2F..",
    "/upload/%2e%2e", "/./upload", "/x/../upload", "/upload\\", "/%2575pload", "/UPLOAD/./", "/upload//",
]  # fmt: skip
MEDIA_TRICKS = ["/media/../x", "/media/a/../../upload", "/media//a", "/media/%2e%2e/x", "/Media/a%2f..%2fb"]

SELFIE_GATED = ["/api/selfies/1", "/API/SELFIES/1", "/api/selfies/1/", "/api/selfies/%31", "/api/selfies/caf%C3%A9"]
UPLOAD_GATED = ["/upload", "/upload/", "/UPLOAD", "/Upload/", "/%75pload", "/upload?x=1"]


def headers(*extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [("host", "testserver"), ("user-agent", BROWSER_UA), *extra]


def multipart(image: bytes) -> tuple[bytes, str]:
    boundary = "----ugcguardsecurity"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n' for name, value in GRANTS.items()]
    head = "".join(parts) + f'--{boundary}\r\nContent-Disposition: form-data; name="media"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
    return head.encode() + image + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def accepted(make_site: Callable[..., Site]) -> tuple[Site, tuple[str, str]]:
    """A site and the cookie of a visitor who accepted the terms (an adult): past the gate."""
    site = make_site()
    client = site.client()
    assert accept(client).status_code == 303
    return site, cookie_header(client)


@pytest.mark.parametrize("target", SELFIE_TRICKS + UPLOAD_TRICKS + MEDIA_TRICKS)
@pytest.mark.parametrize("method", ["PUT", "POST"])
def test_tricks_are_bad_path_even_past_the_gate(accepted: tuple[Site, tuple[str, str]], target: str, method: str) -> None:
    site, cookie = accepted
    before = site.entries()
    body, content_type = multipart(jpeg()) if method == "POST" else (jpeg(), "image/jpeg")
    reply = raw_request(site.guard, method, target, headers(cookie, ("content-type", content_type), *RAW_GRANTS.items()), body)
    assert (reply.status, reply.code) == (400, "bad-path"), (target, reply.body)
    assert site.reached() == 0
    assert site.entries() == before


@pytest.mark.parametrize("target", SELFIE_TRICKS + UPLOAD_TRICKS + MEDIA_TRICKS)
def test_tricks_are_bad_path_before_the_gate(make_site: Callable[..., Site], target: str) -> None:
    site = make_site()
    reply = raw_request(site.guard, "PUT", target, headers(("content-type", "image/jpeg")), jpeg())
    assert (reply.status, reply.code) == (400, "bad-path"), (target, reply.body)
    assert site.reached() == 0 and site.entries() == 0


@pytest.mark.parametrize("target", SELFIE_GATED)
def test_selfie_spellings_are_gated(make_site: Callable[..., Site], target: str) -> None:
    site = make_site()
    reply = raw_request(site.guard, "PUT", target, headers(("content-type", "image/jpeg")), jpeg())
    assert (reply.status, reply.code) == (403, "terms-not-accepted"), target
    assert site.reached() == 0 and site.entries() == 0


@pytest.mark.parametrize("target", ["/api/selfies/1", "/api/selfies/%31", "/api/selfies/caf%C3%A9", "/api/selfies/1/"])
def test_routable_selfie_spellings_are_screened_and_recorded(accepted: tuple[Site, tuple[str, str]], target: str) -> None:
    site, cookie = accepted
    before = site.entries()
    reply = raw_request(site.guard, "PUT", target, headers(cookie, ("content-type", "image/jpeg"), *RAW_GRANTS.items()), jpeg())
    if target.endswith("/"):  # Starlette redirects the trailing slash; the gate still screened and recorded first
        assert reply.status == 307 and site.reached() == 0
    else:
        assert reply.status == 201, reply.body
        assert len(site.spy.calls) == 1 and site.spy.calls[0]["ugc"] is not None  # the app got the screened submission
    assert site.entries() > before


def test_a_case_variant_the_app_does_not_route_is_still_screened(accepted: tuple[Site, tuple[str, str]]) -> None:
    site, cookie = accepted
    before = site.entries()
    reply = raw_request(site.guard, "PUT", "/API/Selfies/1", headers(cookie, ("content-type", "image/jpeg"), *RAW_GRANTS.items()), jpeg())
    assert reply.status == 404 and site.reached() == 0  # the app's own 404, after screening and recording
    assert site.entries() > before  # recorded, then marked not stored: the app refused it


@pytest.mark.parametrize("target", UPLOAD_GATED)
def test_upload_spellings_are_gated(make_site: Callable[..., Site], target: str) -> None:
    site = make_site()
    body, content_type = multipart(jpeg())
    reply = raw_request(site.guard, "POST", target, headers(("content-type", content_type)), body)
    assert (reply.status, reply.code) == (403, "terms-not-accepted"), target
    assert site.reached() == 0 and site.entries() == 0


@pytest.mark.parametrize("method", ["post", "PoSt", "PUT", "PATCH", "DELETE", "PROPFIND", "FOO", "MKCOL"])
def test_every_body_method_spelling_is_gated(make_site: Callable[..., Site], method: str) -> None:
    site = make_site()
    reply = raw_request(site.guard, method, "/upload", headers(("content-type", "image/jpeg")), jpeg())
    assert (reply.status, reply.code) == (403, "terms-not-accepted"), method
    assert site.reached() == 0


@pytest.mark.parametrize(
    ("method", "extra", "target"),
    [
        ("GET", [("content-length", "5")], "/upload"),
        ("GET", [("transfer-encoding", "chunked")], "/upload"),
        ("HEAD", [("content-length", "5")], "/upload"),
        ("OPTIONS", [("content-length", "5")], "/api/selfies/1"),
        ("GET", [("x-http-method-override", "POST")], "/upload"),
        ("GET", [("x-http-method", "PUT")], "/api/selfies/1"),
        ("GET", [("x-method-override", "POST")], "/upload"),
        ("GET", [], "/upload?_method=POST"),
    ],
)
def test_safe_methods_cannot_smuggle_an_upload(make_site: Callable[..., Site], method: str, extra: list[tuple[str, str]], target: str) -> None:
    site = make_site()
    reply = raw_request(site.guard, method, target, headers(*extra), b"hello" if extra and extra[0][0] == "content-length" else b"")
    expected = None if method == "HEAD" else "invalid-request"  # a HEAD answer has no body
    assert (reply.status, reply.code) == (400, expected), (method, extra, target)
    assert reply.headers["content-type"] == "application/problem+json"
    assert site.reached() == 0


def test_safe_methods_without_a_body_reach_the_app(make_site: Callable[..., Site]) -> None:
    site = make_site()
    assert raw_request(site.guard, "GET", "/upload", headers()).status == 200
    assert raw_request(site.guard, "GET", "/upload/..", headers()).status == 404  # not an upload: the app's own 404
    assert [call["method"] for call in site.spy.calls] == ["GET"]


def test_ambiguous_spelling_off_the_upload_prefix_is_the_apps_business(make_site: Callable[..., Site]) -> None:
    site = make_site()
    reply = raw_request(site.guard, "POST", "/other/../x", headers(("content-type", "text/plain")), b"hi")
    assert reply.status == 404 and reply.code is None  # Starlette's own not-found: no upload route is near
    reply = raw_request(site.guard, "POST", "/uploads;x", headers(("content-type", "text/plain")), b"hi")
    assert reply.status == 404 and reply.code is None
    assert site.reached() == 0


@pytest.mark.parametrize("target", ["/campaign/api/selfies/..", "/campaign/upload;x", "/campaign//upload", "/campaign/api/selfies/%2e%2e"])
def test_tricks_under_a_mount_are_bad_path(make_site: Callable[..., Site], target: str) -> None:
    site = make_site()
    path_inside = target[len("/campaign") :]
    reply = raw_request(site.guard, "PUT", path_inside, headers(("content-type", "image/jpeg")), jpeg(), root_path="/campaign")
    assert (reply.status, reply.code) == (400, "bad-path"), target
    assert site.reached() == 0
