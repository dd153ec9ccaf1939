"""Hostile requests through the real middleware (every stage, SQLite ledger): multipart bodies,
headers and accept posts. Never a 500 or an exception, never a hang (each request is bounded), and
never a ledger entry without the successful response that reports it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.proof.conftest import FuzzSite, Reply
from tests.screening import samples

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BOUNDARY_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? "
MEDIA = [samples.jpeg((24, 16)), samples.png((16, 16)), samples.gif(2, (8, 8)), samples.wav(0.01), samples.mp4(512),
         samples.mp3(3), b"plain text, as a story\n", b"%PDF-1.4 not allowed", b"", b"\x00" * 300]  # fmt: skip
NAMES = ["file", "media", "ugc_licence", "ugc_portrait_self", "ugc_portrait_others", "other"]
GRANT_VALUES = ["accept", "none", "all-consented", "", "yes", "accept\r\n"]


def _latin1(text: str) -> bytes:
    return text.encode("latin-1", "replace")


@st.composite
def parts(draw: st.DrawFn) -> tuple[str, str | None, str | None, bytes]:
    name = draw(st.sampled_from(NAMES) | st.text(max_size=12))
    if name.startswith("ugc_"):
        return name, None, None, draw(st.sampled_from(GRANT_VALUES)).encode()
    filename = draw(st.none() | st.sampled_from(["a.jpg", "a.png", "clip.mp4", "v.wav", "s.txt", "../../etc/passwd", 'q"uote.jpg', ""])
                    | st.text(max_size=20))
    content_type = draw(st.none() | st.sampled_from(["image/jpeg", "image/png", "video/mp4", "audio/wav", "text/plain",
                                                     "application/octet-stream", "image/svg+xml"]) | st.text(max_size=20))
    data = draw(st.sampled_from(MEDIA) | st.binary(max_size=600))
    return name, filename, content_type, data


def _body(items: list[tuple[str, str | None, str | None, bytes]], boundary: str) -> bytes:
    out = bytearray()
    for name, filename, content_type, data in items:
        out += b"--" + _latin1(boundary) + b"\r\n"
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        out += b"Content-Disposition: " + disposition.encode("utf-8", "surrogatepass") + b"\r\n"
        if content_type is not None:
            out += b"Content-Type: " + _latin1(content_type) + b"\r\n"
        out += b"\r\n" + data + b"\r\n"
    return bytes(out + b"--" + _latin1(boundary) + b"--\r\n")


@st.composite
def multipart_requests(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    well_formed = draw(st.integers(0, 2)) == 0  # a third: a valid upload with the grants, so the success path is fuzzed too
    boundary = draw(st.text(BOUNDARY_CHARS, min_size=1, max_size=70) | st.text(max_size=80))
    items = draw(st.lists(parts(), max_size=6))
    if well_formed:
        boundary = draw(st.text("0123456789abcdefXYZ-_", min_size=1, max_size=70))
        extra = [item for item in items if not item[0].startswith("ugc_") and item[1] is None][:2]
        files = draw(st.lists(st.sampled_from([("file", "a.jpg", "image/jpeg", MEDIA[0]), ("media", "b.png", None, MEDIA[1]),
                                               ("file", "c.wav", "audio/wav", MEDIA[3]), ("file", "d.mp4", "video/mp4", MEDIA[4])]),
                              min_size=1, max_size=3, unique=True))
        items = [*files, *extra, ("ugc_licence", None, None, b"accept"), ("ugc_portrait_self", None, None, b"accept"),
                 ("ugc_portrait_others", None, None, b"none")]
    body = _body(items, boundary)
    mutation = "none" if well_formed else draw(st.sampled_from(["none", "truncate", "crlf-soup", "lf-only", "splice", "preamble"]))
    if mutation == "truncate":
        body = body[: draw(st.integers(0, len(body)))]
    elif mutation == "crlf-soup":
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.sampled_from([b"\r\n", b"\r", b"\n", b"\r\n\r\n", b"--"])) * draw(st.integers(1, 3000)) + body[at:]
    elif mutation == "lf-only":
        body = body.replace(b"\r\n", b"\n")
    elif mutation == "splice":
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.binary(max_size=64)) + body[at + draw(st.integers(0, 64)):]
    elif mutation == "preamble":
        body = draw(st.binary(max_size=2000)) + body
    content_type = f"multipart/form-data; boundary={boundary}"
    if not well_formed:
        content_type = draw(st.sampled_from([content_type, f'multipart/form-data; boundary="{boundary}"', "multipart/form-data",
                                             "application/json", f"multipart/mixed; boundary={boundary}"]))
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=6)))
    chunks = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    return _latin1(content_type), chunks


def _check_entries(site: FuzzSite, before: dict[str, int], reply: Reply) -> None:
    after = site.kinds()
    added = after.get("submission", 0) - before.get("submission", 0)
    if reply.status == 201:
        assert added == len(reply.json()["submission_ids"]) >= 1
        assert after.get("licence_grant", 0) - before.get("licence_grant", 0) == added
    else:
        assert added == 0, f"{added} submissions recorded for a {reply.status} answer"
        assert after == before, "a refused request changed the ledger"


@SETTINGS
@given(multipart_requests(), st.booleans())
def test_multipart_bodies_never_fail_and_never_record_without_success(fuzz_site: FuzzSite, request_: tuple[bytes, list[bytes]],
                                                                      with_length: bool) -> None:
    content_type, chunks = request_
    headers = [(b"host", b"testserver"), (b"cookie", fuzz_site.cookie), (b"content-type", content_type)]
    if with_length:
        headers.append((b"content-length", str(sum(map(len, chunks))).encode()))
    before = fuzz_site.kinds()
    reply = fuzz_site.request("POST", "/upload", headers, chunks)
    event(f"upload answered {reply.status} {reply.code or ''}")
    assert reply.status < 500, reply.body
    assert reply.status == 201 or reply.code is not None, reply.body  # every refusal is a problem document
    _check_entries(fuzz_site, before, reply)
    assert list(fuzz_site.temp_dir.iterdir()) == []


header_text = st.text(st.characters(min_codepoint=0, max_codepoint=255), max_size=300)


@SETTINGS
@given(
    host=st.sampled_from(["testserver", "guarded.test", "TESTSERVER:80", "testserver.", "[::1]", "evil.example", ""]) | header_text,
    agent=st.sampled_from(["Mozilla/5.0 Firefox/128.0", "curl/8.5.0", "GPTBot/1.2", "Googlebot/2.1", "", "x" * 10_000]) | header_text,
    forwarded=header_text,
    length=st.sampled_from(["", "-1", "0", "99999999999999999999", "abc", "1e3", " 12"]) | header_text,
    cookie=st.sampled_from(["", "ugc_guard_subject=forged.sig", "ugc_guard_subject="]) | header_text,
    method=st.sampled_from(["GET", "POST", "PUT", "HEAD", "OPTIONS", "DELETE"]),
    path=st.sampled_from(["/", "/upload", "/raw/a.jpg", "/robots.txt", "/ugc-guard/terms", "/ugc-guard/status", "/ugc-guard/trap",
                          "/ugc-guard/accept", "//upload/", "/UPLOAD", "/%2e%2e/upload", "/.well-known/tdmrep.json"]),
    body=st.binary(max_size=200),
    address=st.integers(1, 2**24 - 2),
)
def test_hostile_headers_never_fail(fuzz_site: FuzzSite, host: str, agent: str, forwarded: str, length: str, cookie: str,
                                    method: str, path: str, body: bytes, address: int) -> None:
    headers = [(b"host", _latin1(host)), (b"user-agent", _latin1(agent)), (b"x-forwarded-for", _latin1(forwarded)),
               (b"cookie", _latin1(cookie)), (b"content-type", b"multipart/form-data; boundary=x")]
    if length:
        headers.append((b"content-length", _latin1(length)))
    before = fuzz_site.kinds()
    client = (f"10.{address >> 16}.{(address >> 8) & 255}.{address & 255}", 40000)  # the trap path flags only this address
    reply = fuzz_site.request(method, path, headers, [body], client=client)
    event(f"answered {reply.status}")
    assert reply.status < 500, reply.body
    _check_entries(fuzz_site, before, reply)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                           max_leaves=8)
ACCEPT_KEYS = ["terms_version", "accept_terms", "accept_licence", "birth_date", "age_band", "guardian_email", "guardian_emails", "lang",
               "csrf_token", "next"]


@st.composite
def accept_posts(draw: st.DrawFn) -> tuple[bytes, bytes]:
    if draw(st.integers(0, 4)) == 0:  # a valid JSON acceptance now and then: the recording path is fuzzed too
        valid = {"terms_version": "1", "accept_terms": True, "accept_licence": draw(st.booleans()), "birth_date": "1990-05-17"}
        return b"application/json", json.dumps(valid).encode()
    fields: dict[str, Any] = {
        "terms_version": draw(st.sampled_from(["1", "2", ""]) | json_values),
        "accept_terms": draw(st.sampled_from([True, False, "yes", "on", 1]) | json_values),
        "accept_licence": draw(st.sampled_from([True, False, "yes"]) | json_values),
        "birth_date": draw(st.sampled_from(["1990-05-17", "2012-01-01", "2999-01-01", "1990-02-30", "1800-01-01", "17/05/1990"])
                           | json_values),
    }
    for key in draw(st.lists(st.sampled_from(ACCEPT_KEYS) | st.text(max_size=10), max_size=4)):
        fields[key] = draw(json_values)
    fields = {key: value for key, value in fields.items() if draw(st.integers(0, 9)) > 0}  # sometimes drop a field
    if draw(st.booleans()):
        return b"application/json", json.dumps(fields).encode() if draw(st.integers(0, 9)) else draw(st.binary(max_size=300))
    form = {key: value if isinstance(value, str) else json.dumps(value) for key, value in fields.items()}
    form.setdefault("csrf_token", "")
    from urllib.parse import urlencode

    return b"application/x-www-form-urlencoded", urlencode(form).encode() if draw(st.integers(0, 9)) else draw(st.binary(max_size=300))


@SETTINGS
@given(accept_posts(), st.booleans(), st.booleans())
def test_accept_posts_record_only_what_they_report(fuzz_site: FuzzSite, post: tuple[bytes, bytes], valid_token: bool,
                                                    with_cookie: bool) -> None:
    content_type, body = post
    if valid_token and content_type.endswith(b"urlencoded"):
        body = body.replace(b"csrf_token=&", b"csrf_token=" + fuzz_site.csrf.encode() + b"&").replace(
            b"csrf_token=", b"csrf_token=" + fuzz_site.csrf.encode(), 1) if b"csrf_token=&" not in body else body
    headers = [(b"host", b"testserver"), (b"content-type", content_type), (b"user-agent", b"Mozilla/5.0 Firefox/128.0")]
    if with_cookie:
        headers.append((b"cookie", fuzz_site.cookie))
    before = fuzz_site.kinds()
    reply = fuzz_site.request("POST", "/ugc-guard/accept", headers, [body])
    event(f"accept answered {reply.status} {reply.code or ''}")
    assert reply.status < 500, reply.body
    after = fuzz_site.kinds()
    added = after.get("terms_acceptance", 0) - before.get("terms_acceptance", 0)
    assert added == (1 if reply.status in (201, 303) else 0), (reply.status, reply.body[:300])
    if reply.status not in (201, 303):
        assert after == before
