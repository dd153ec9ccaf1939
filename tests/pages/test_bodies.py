"""Reading bodies: every malformed, oversized or lying body is a 4xx problem (plain functions, no app)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import anyio
import pytest
from starlette.datastructures import Headers

from ugc_guard.pages.forms import FORM_LIMIT, MAX_JSON_DEPTH, parse_form, parse_json, read_body
from ugc_guard.problems import Problem


def problem(call: Any, *args: Any) -> Problem:
    with pytest.raises(Problem) as caught:
        call(*args)
    return caught.value


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1),
        b'{"a": 1e999999}',
        b'{"a": -1e400}',
        b'{"a": ' + b"9" * 100_000 + b"}",
        b'{"a": ' + b"9" * 33 + b"}",
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": "\\ud800"}',
        b'{"\\udfff": 1}',
        b'{"a": 1, "a": 2}',
        b'{"a": {"b": 1, "b": 1}}',
        b"\xff\xfe{}",
        b'{"a": "\xc3\x28"}',
        b"\xef\xbb\xbf{}",
        '{"a": 1}'.encode("utf-16"),
        b"[1, 2]",
        b'"just a string"',
        b"42",
        b"null",
        b"",
        b"{",
        b'{"a": 1}{"b": 2}',
    ],
)
def test_bad_json_is_invalid_request(body: bytes) -> None:
    refused = problem(parse_json, body)
    assert refused.code == "invalid-request" and refused.status == 400


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = '{"note": "' + "[{" * 1000 + '\\"[[[", "n": 12, "x": 1.5, "ok": true, "list": ["a", "b"]}'
    assert parse_json(text.encode())["n"] == 12


def test_ordinary_object_parses() -> None:
    assert parse_json(b'{"terms_version": "1", "accept_terms": true, "emails": ["a@b.c"], "n": -3}') == {
        "terms_version": "1", "accept_terms": True, "emails": ["a@b.c"], "n": -3,
    }  # fmt: skip


@pytest.mark.parametrize("body", [b"\xff=1", b"a=%ff", b"a=1&a=2", b"&&", b"noequals", "&".join(f"f{i}=1" for i in range(31)).encode()])
def test_bad_forms_are_invalid_request(body: bytes) -> None:
    assert problem(parse_form, body).code == "invalid-request"


def read(chunks: Iterable[bytes], headers: dict[str, str] | list[tuple[str, str]], *, disconnect: bool = False) -> bytes:
    messages: list[dict[str, Any]] = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]
    messages.append({"type": "http.disconnect"} if disconnect else {"type": "http.request", "body": b"", "more_body": False})

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    raw = [(k.lower().encode(), v.encode("latin-1")) for k, v in (headers.items() if isinstance(headers, dict) else headers)]
    return anyio.run(read_body, receive, Headers(raw=raw))


@pytest.mark.parametrize(
    ("headers", "chunks", "code"),
    [
        ({"content-length": str(FORM_LIMIT + 1)}, [b"x"], "form-too-large"),
        ({"content-length": "9" * 5000}, [b"x"], "invalid-request"),
        ({}, [b"x" * 1024] * 65, "form-too-large"),
        ({"content-length": "10"}, [b"x" * 70_000], "form-too-large"),
        ({"content-length": "10"}, [b"x" * 5], "invalid-request"),
        ({"content-length": "3"}, [b"x" * 5], "invalid-request"),
        ({"content-length": "²"}, [b"x"], "invalid-request"),
        ({"content-length": "+1"}, [b"x"], "invalid-request"),
        ({"content-length": "-1"}, [b"x"], "invalid-request"),
        ({"content-length": "0x10"}, [b"x"], "invalid-request"),
        ([("content-length", "1"), ("content-length", "2")], [b"x"], "invalid-request"),
    ],
)
def test_lying_or_oversized_bodies(headers: Any, chunks: list[bytes], code: str) -> None:
    assert problem(read, chunks, headers).code == code


def test_disconnect_mid_body() -> None:
    assert problem(lambda: read([b"a=1"], {}, disconnect=True)).code == "invalid-request"


def test_chunked_and_exact_bodies_are_read() -> None:
    assert read([b"a=", b"1"], {}) == b"a=1"
    assert read([b"a=1"], {"content-length": "3"}) == b"a=1"
    assert read([b"a=1"], [("content-length", "3"), ("content-length", "3")]) == b"a=1"
