"""Hostile uploads (the catalogue in the domain notes, section 6), made for real: Pillow images, real
multipart bodies, bodies streamed in chunks, trickled and abandoned.

Every refused case asserts the exact status and problem ``code``, that nothing reached the app, that
the ledger did not change and that no temporary file is left; every allowed case that it was served
and recorded once. The uploader has accepted the terms (an adult), so only screening can refuse.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from PIL import Image

from tests.screening import hostile_images as hostile
from tests.screening import samples

from .conftest import BROWSER_UA, GRANTS, RAW_GRANTS, RawReply, Site, accept, cookie_header, jpeg, png

LIMITS = {"max_total_bytes": "512KiB", "max_file_bytes": "256KiB", "max_files": 3, "max_fields": 10, "max_field_bytes": "4KiB",
          "max_part_header_bytes": "2KiB", "deadline": "PT2S"}  # fmt: skip
ROUTES = [
    {"path": "/upload", "methods": ["POST"], "limits": LIMITS},
    {"path": "/api/selfies/{entry}", "methods": ["PUT"], "body": "raw", "limits": LIMITS},
    {"path": "/media/*", "methods": ["POST"], "limits": LIMITS},
]
BOUNDARY = "----hostileSuiteBoundary7MA4YWxkTrZu0gW"


@dataclass
class Uploader:
    """A site with small upload limits and the cookie of a visitor who accepted the terms."""

    site: Site
    cookie: tuple[str, str]
    spool: Path

    def headers(self, *extra: tuple[str, str]) -> list[tuple[str, str]]:
        return [("host", "testserver"), ("user-agent", BROWSER_UA), self.cookie, *extra]

    def send(self, method: str, target: str, headers: Sequence[tuple[str, str]], chunks: Sequence[bytes], **options: Any) -> RawReply:
        return stream(self.site.guard, method, target, self.headers(*headers), chunks, **options)

    def form(self, body: bytes, content_type: str = f"multipart/form-data; boundary={BOUNDARY}", target: str = "/upload",
             **options: Any) -> RawReply:  # fmt: skip
        headers = [("content-type", content_type), ("content-length", str(len(body)))]
        return self.send("POST", target, headers, [body], **options)

    def raw(self, data: bytes, content_type: str = "image/jpeg", *extra: tuple[str, str], grants: dict[str, str] = RAW_GRANTS) -> RawReply:
        headers = [("content-type", content_type), ("content-length", str(len(data))), *grants.items(), *extra]
        return self.send("PUT", "/api/selfies/1", headers, [data])

    def leftovers(self) -> list[str]:
        return sorted(path.name for path in self.spool.iterdir())


def stream(
    guard: Any,
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]],
    chunks: Sequence[bytes],
    *,
    pause: float = 0.0,
    vanish_after: int | None = None,
) -> RawReply:
    """Send a request into the ASGI app as a server would: ``chunks`` one ``http.request`` each, ``pause``
    seconds apart; after ``vanish_after`` chunks the client disconnects."""
    path, _, query = target.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query.encode(),
        "headers": [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers],
        "client": ("198.51.100.40", 50000), "server": ("testserver", 80),
    }  # fmt: skip
    pending = list(chunks)
    sent: list[dict[str, Any]] = []
    given = 0

    async def receive() -> dict[str, Any]:
        nonlocal given
        if vanish_after is not None and given >= vanish_after:
            return {"type": "http.disconnect"}
        if given < len(pending):
            if pause and given:
                await anyio.sleep(pause)
            given += 1
            return {"type": "http.request", "body": pending[given - 1], "more_body": given < len(pending)}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def main() -> None:
        with anyio.fail_after(120):  # a hang fails the case instead of blocking the suite
            await guard(scope, receive, send)

    anyio.run(main)
    start = next(message for message in sent if message["type"] == "http.response.start")
    body = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return RawReply(start["status"], {key.decode(): value.decode("latin-1") for key, value in start["headers"]}, body)


def form(*parts: tuple[str, str | None, str | None, bytes], boundary: str = BOUNDARY, grants: dict[str, str] = GRANTS) -> bytes:
    """A real multipart/form-data body: the parts, then the grant fields."""
    fields = [(name, None, None, value.encode()) for name, value in grants.items()]
    body, _ = samples.multipart([*parts, *fields], boundary=boundary)
    return body


def photo_form(data: bytes, filename: str = "photo.jpg", content_type: str | None = "image/jpeg") -> bytes:
    return form(("file", filename, content_type, data))


@pytest.fixture
def uploader(make_site: Callable[..., Site]) -> Callable[..., Uploader]:
    def build(uploads: dict[str, Any] | None = None) -> Uploader:
        site = make_site({"uploads": {"routes": ROUTES, **(uploads or {})}})
        client = site.client()
        assert accept(client).status_code == 303
        temp_dir = site.guard.sites[0].policy.uploads.temp_dir
        assert temp_dir is not None
        return Uploader(site, cookie_header(client), Path(temp_dir))

    return build


def assert_refused(up: Uploader, reply: RawReply, status: int, code: str, entries_before: int) -> None:
    assert (reply.status, reply.code) == (status, code), reply.body[:400]
    assert reply.headers["content-type"] == "application/problem+json"
    assert up.site.reached() == 0, up.site.spy.calls
    assert up.site.entries() == entries_before
    assert up.leftovers() == []


def assert_served(up: Uploader, reply: RawReply, entries_before: int) -> Any:
    """The upload reached the app once and the ledger recorded it; return the submission the app saw."""
    assert reply.status == 201, reply.body[:400]
    assert up.site.reached() == 1
    assert up.site.entries() > entries_before
    assert up.leftovers() == []
    return up.site.spy.calls[0]["ugc"]


# --- sizes, counts and structure -------------------------------------------------------------------------------------


def _fields(count: int) -> bytes:
    return form(("file", "a.jpg", "image/jpeg", jpeg()), *[(f"f{index}", None, None, b"x") for index in range(count)])


def _files(count: int) -> bytes:
    return form(*[(f"file{index}", f"{index}.jpg", "image/jpeg", jpeg()) for index in range(count)])


def _part_headers(size: int) -> bytes:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nX-Pad: {"a" * size}\r\n'
    return head.encode() + b"Content-Type: image/jpeg\r\n\r\n" + jpeg() + b"\r\n" + form()


def _header_lines(count: int) -> bytes:
    lines = "".join(f"X-H{index}: 1\r\n" for index in range(count))
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n{lines}\r\n'.encode() + jpeg() + b"\r\n" + form()


def _nested_multipart() -> bytes:
    inner = "inner-boundary-1"
    nested = (f'--{inner}\r\nContent-Disposition: file; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n').encode()
    nested += jpeg() + f"\r\n--{inner}--\r\n".encode()
    return form(("file", "bundle", f"multipart/mixed; boundary={inner}", nested))


def _boundary_inside_a_file() -> bytes:
    # The boundary string inside the data, not after CRLF: legal, the part goes on.
    data = jpeg(comment=f"--{BOUNDARY} is only text here".encode())
    return photo_form(data)


def _boundary_line_inside_a_file() -> bytes:
    # CRLF + "--boundary" + anything but CRLF or "--" is no delimiter (RFC 2046): it stays in the data,
    # and the JPEG it lands in is corrupt.
    data = jpeg()
    return photo_form(data[:200] + f"\r\n--{BOUNDARY}garbage\r\n".encode() + data[200:])


STRUCTURE = [
    ("body over max_total_bytes, declared", lambda: photo_form(b"\xff\xd8" + b"\0" * (600 * 1024)), 413, "upload-too-large"),
    ("file over max_file_bytes", lambda: photo_form(jpeg() + b"\0" * (300 * 1024)), 413, "upload-too-large"),
    ("huge non-file field", lambda: form(("file", "a.jpg", "image/jpeg", jpeg()), ("note", None, None, b"n" * 8192)), 400, "malformed-upload"),
    ("thousands of fields", lambda: _fields(2000), 400, "malformed-upload"),
    ("too many files", lambda: _files(4), 400, "malformed-upload"),
    ("thousands of file parts", lambda: _files(1500)[: 400 * 1024], 400, "malformed-upload"),
    ("part headers of 100 KiB", lambda: _part_headers(100 * 1024), 400, "malformed-upload"),
    ("part headers just over the limit", lambda: _part_headers(2100), 400, "malformed-upload"),
    ("hundreds of part header lines", lambda: _header_lines(300), 400, "malformed-upload"),
    ("megabyte of CR/LF preamble", lambda: b"\r\n" * (200 * 1024) + photo_form(jpeg()), 400, "malformed-upload"),
    ("preamble just over 1 KiB", lambda: b"x" * 1100 + b"\r\n" + photo_form(jpeg()), 400, "malformed-upload"),
    ("body ends before the closing boundary", lambda: photo_form(jpeg())[:-40], 400, "malformed-upload"),
    ("no closing boundary at all", lambda: photo_form(jpeg()).rsplit(b"--" + BOUNDARY.encode(), 1)[0], 400, "malformed-upload"),
    ("part without a name", lambda: photo_form(jpeg()).replace(b'form-data; name="file"; ', b"form-data; ", 1), 400, "malformed-upload"),
    ("part that is not form-data", lambda: photo_form(jpeg()).replace(b"Content-Disposition: form-data", b"Content-Disposition: attachment", 1),
     400, "malformed-upload"),
    ("a boundary-like line inside the file", _boundary_line_inside_a_file, 422, "content-rejected"),
    ("no file, only the grants", lambda: form(), 400, "malformed-upload"),
    ("nested multipart/mixed", _nested_multipart, 415, "unsupported-media-type"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "make", "status", "code"), STRUCTURE, ids=[row[0] for row in STRUCTURE])
def test_sizes_counts_and_structure(uploader: Callable[..., Uploader], case: str, make: Callable[[], bytes], status: int, code: str) -> None:
    up = uploader()
    before = up.site.entries()
    assert_refused(up, up.form(make()), status, code, before)


BAD_CONTENT_TYPES = [
    ("no Content-Type", None),
    ("urlencoded form", "application/x-www-form-urlencoded"),
    ("multipart without a boundary", "multipart/form-data"),
    ("empty boundary", 'multipart/form-data; boundary=""'),
    ("300-byte boundary", "multipart/form-data; boundary=" + "a" * 300),
    ("ReDoS-shaped boundary", "multipart/form-data; boundary=" + "-" * 69 + "!"),
    ("boundary with a space at the end", 'multipart/form-data; boundary="abc "'),
    ("2 KiB Content-Type", "multipart/form-data; boundary=abc; x=" + "y" * 2048),
    ("multipart/mixed", f"multipart/mixed; boundary={BOUNDARY}"),
]


@pytest.mark.parametrize(("case", "content_type"), BAD_CONTENT_TYPES, ids=[row[0] for row in BAD_CONTENT_TYPES])
def test_bad_or_missing_boundaries_are_refused_before_the_body_is_read(
    uploader: Callable[..., Uploader], case: str, content_type: str | None
) -> None:
    up = uploader()
    before = up.site.entries()
    body = photo_form(jpeg())
    headers = [("content-length", str(len(body)))] + ([("content-type", content_type)] if content_type is not None else [])
    assert_refused(up, up.send("POST", "/upload", headers, [body]), 400, "malformed-upload", before)


def test_the_boundary_string_inside_a_file_is_just_data(uploader: Callable[..., Uploader]) -> None:
    up = uploader()
    before = up.site.entries()
    submission = assert_served(up, up.form(_boundary_inside_a_file()), before)
    assert submission.files[0].name == "photo.jpg"


# --- Content-Length lies, chunked, slow and abandoned bodies --------------------------------------------------------------


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


def test_content_length_under_the_truth_is_counted_and_refused(uploader: Callable[..., Uploader]) -> None:
    up = uploader()
    before = up.site.entries()
    body = photo_form(b"\xff\xd8" + b"\0" * (700 * 1024))
    reply = up.send("POST", "/upload", [("content-type", f"multipart/form-data; boundary={BOUNDARY}"), ("content-length", "900")],
                    _chunks(body, 16 * 1024))  # fmt: skip
    assert_refused(up, reply, 413, "upload-too-large", before)


def test_chunked_body_without_content_length_is_counted_and_refused(uploader: Callable[..., Uploader]) -> None:
    up = uploader()
    before = up.site.entries()
    data = b"\xff\xd8\xff" + b"\0" * (600 * 1024)
    reply = up.send("PUT", "/api/selfies/1", [("content-type", "image/jpeg"), ("transfer-encoding", "chunked"), *RAW_GRANTS.items()],
                    _chunks(data, 8 * 1024))  # fmt: skip
    assert_refused(up, reply, 413, "upload-too-large", before)


def test_declared_length_over_the_limit_is_refused_before_a_byte_is_read(uploader: Callable[..., Uploader]) -> None:
    up = uploader()
    before = up.site.entries()
    reply = up.send("PUT", "/api/selfies/1", [("content-type", "image/jpeg"), ("content-length", str(10**9)), *RAW_GRANTS.items()],
                    [], vanish_after=0)  # fmt: skip
    assert_refused(up, reply, 413, "upload-too-large", before)


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", "0x10", " ", "99999999999999999999999"])
def test_content_length_that_is_not_a_number_is_refused(uploader: Callable[..., Uploader], length: str) -> None:
    up = uploader()
    before = up.site.entries()
    reply = up.send("PUT", "/api/selfies/1", [("content-type", "image/jpeg"), ("content-length", length), *RAW_GRANTS.items()], [jpeg()])
    assert_refused(up, reply, 400, "malformed-upload", before)


def test_content_length_over_the_truth_is_only_what_arrived(uploader: Callable[..., Uploader]) -> None:
    """A body that ends (more_body false) before its declared length is an incomplete body."""
    up = uploader()
    before = up.site.entries()
    body = photo_form(jpeg())
    reply = up.send("POST", "/upload", [("content-type", f"multipart/form-data; boundary={BOUNDARY}"),
                                        ("content-length", str(len(body) + 5000))], [body[:-200]])  # fmt: skip
    assert_refused(up, reply, 400, "malformed-upload", before)


def test_a_trickled_body_runs_into_the_deadline(uploader: Callable[..., Uploader]) -> None:
    up = uploader()
    before = up.site.entries()
    body = photo_form(jpeg())
    reply = up.send("POST", "/upload", [("content-type", f"multipart/form-data; boundary={BOUNDARY}"), ("content-length", str(len(body)))],
                    _chunks(body, 64), pause=0.25)  # fmt: skip
    assert_refused(up, reply, 408, "upload-timeout", before)


@pytest.mark.parametrize("after", [0, 1, 3])
def test_a_client_that_vanishes_mid_upload_leaves_nothing(uploader: Callable[..., Uploader], after: int) -> None:
    up = uploader({"spool_memory_bytes": 1024})  # spooled to a file after the first KiB
    before = up.site.entries()
    body = photo_form(jpeg() + b"\0" * (64 * 1024))
    reply = up.send("POST", "/upload", [("content-type", f"multipart/form-data; boundary={BOUNDARY}"), ("content-length", str(len(body)))],
                    _chunks(body, 2048), vanish_after=after)  # fmt: skip
    assert reply.status == 400  # nobody reads it: what matters is what is left behind
    assert up.site.reached() == 0 and up.site.entries() == before and up.leftovers() == []


# --- what the file really is -----------------------------------------------------------------------------------------


def _eps() -> bytes:
    return b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 1 1\n" + b"showpage\n" * 10


WRONG_TYPE = [
    ("declared JPEG, bytes are HTML", "a.jpg", "image/jpeg", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
    ("declared JPEG, bytes are PHP", "a.jpg", "image/jpeg", b"<?php system($_GET['c']); ?>"),
    ("declared JPEG, bytes are ELF", "a.jpg", "image/jpeg", b"\x7fELF\x02\x01\x01\x00" + b"\0" * 400),
    ("declared JPEG, bytes are a ZIP", "a.jpg", "image/jpeg", b"PK\x03\x04" + b"\0" * 26 + b"PK\x05\x06" + b"\0" * 18),
    ("declared PNG, bytes are JPEG", "a.png", "image/png", jpeg()),
    ("JPEG named .png", "a.png", None, jpeg()),
    ("double extension .jpg.php", "photo.jpg.php", "image/jpeg", jpeg()),
    ("double extension .jpg.html", "photo.jpg.html", "image/jpeg", jpeg()),
    ("RTL override hiding .exe", "photo\u202egpj.exe", "image/jpeg", jpeg()),
    ("EPS (Ghostscript)", "a.eps", "application/postscript", _eps()),
    ("EPS declared as JPEG", "a.jpg", "image/jpeg", _eps()),
    ("PDF", "a.pdf", "application/pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"),
    ("JPEG 2000", "a.jp2", "image/jp2", b"\0\0\0\x0cjP  \r\n\x87\n" + b"\0" * 64),
    ("SVG when the policy does not allow it", "a.svg", "image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'),
    ("SVG declared as PNG", "a.png", "image/png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
]


@pytest.mark.parametrize(("case", "filename", "declared", "data"), WRONG_TYPE, ids=[row[0] for row in WRONG_TYPE])
def test_declared_type_name_and_magic_must_agree(
    uploader: Callable[..., Uploader], case: str, filename: str, declared: str | None, data: bytes
) -> None:
    up = uploader()
    before = up.site.entries()
    assert_refused(up, up.form(photo_form(data, filename, declared)), 415, "unsupported-media-type", before)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("../../etc/passwd.jpg", "passwd.jpg"), ("..\\..\\windows\\win.ini.jpg", "win.ini.jpg"), ("/var/www/html/shell.php.jpg", "shell.php.jpg"),
     ("a\u0000b.jpg", "ab.jpg"), ("photo.php.jpg", "photo.php.jpg"), ("\u202ephoto.jpg", "photo.jpg"), ("x" * 300 + ".jpg", "x" * 251 + ".jpg"),
     ("con.jpg", "con.jpg"), ("%2e%2e%2fx.jpg", "%2e%2e%2fx.jpg")],
)  # fmt: skip
def test_file_names_are_never_paths_only_escaped_metadata(uploader: Callable[..., Uploader], sent: str, kept: str) -> None:
    up = uploader()
    before = up.site.entries()
    submission = assert_served(up, up.form(photo_form(jpeg(), sent)), before)
    assert submission.files[0].name == kept
    assert "/" not in submission.files[0].name and "\\" not in submission.files[0].name and "\0" not in submission.files[0].name
    assert submission.files[0].original_name_escaped == sent.encode("unicode_escape").decode("ascii")[: 255 * 4]
    assert not any(kept in path.name for path in up.spool.parent.rglob("*"))  # never written under its own name


def test_a_filename_with_crlf_cannot_smuggle_a_part_header(uploader: Callable[..., Uploader]) -> None:
    up = uploader()
    before = up.site.entries()
    body = photo_form(jpeg(), "a.jpg").replace(b'filename="a.jpg"', b'filename="a.jpg\r\nContent-Type: text/html\r\nX: "', 1)
    assert_refused(up, up.form(body), 400, "malformed-upload", before)  # the part now repeats Content-Type


# --- what is inside the file ------------------------------------------------------------------------------------------


def _webp_frames(count: int) -> bytes:
    return samples.webp(frames=count, size=(2, 2))


def _gif_frames(count: int) -> bytes:
    return samples.gif(frames=count, size=(2, 2))


def _pdf_in_first_kib() -> bytes:
    return jpeg(comment=b"%PDF-1.7\n1 0 obj<</Type/Catalog>>endobj")


def _png_with_bomb_text() -> bytes:
    payload = b"Comment\0\0" + zlib.compress(b"A" * (16 * 1024 * 1024), 9)
    chunk = struct.pack(">I", len(payload)) + b"zTXt" + payload + struct.pack(">I", zlib.crc32(b"zTXt" + payload) & 0xFFFFFFFF)
    data = png()
    return data[:33] + chunk + data[33:]


def _jpeg_segment_starts(data: bytes, marker: int) -> list[int]:
    found, position = [], 2
    while data[position + 1] != 0xDA:
        if data[position + 1] == marker:
            found.append(position)
        position += 2 + struct.unpack(">H", data[position + 2 : position + 4])[0]
    return found + ([position] if marker == 0xDA else [])


def _jpeg_huffman_not_a_prefix_code() -> bytes:
    data = jpeg((256, 256))
    at = _jpeg_segment_starts(data, 0xC4)[0] + 5  # the 16 code-length counts of the first table
    counts = bytearray(data[at : at + 16])
    longest = max(index for index, count in enumerate(counts) if count >= 2)
    counts[longest] -= 2
    counts[0] += 2  # as many symbols, but three codes of length 1: libjpeg says "Bogus Huffman table"
    return data[:at] + bytes(counts) + data[at + 16 :]


def _jpeg_undefined_quantisation_table() -> bytes:
    data = jpeg((256, 256))
    at = _jpeg_segment_starts(data, 0xC0)[0] + 4 + 8  # the first component's table number
    return data[:at] + b"\x03" + data[at + 1 :]


def _jpeg_scan_bomb() -> bytes:
    """A progressive JPEG whose last scan is repeated until the image has 150 scans (every decoder pays for each)."""
    out = io.BytesIO()
    Image.new("L", (64, 64), 128).save(out, "JPEG", progressive=True)
    data = out.getvalue()
    last = data.rfind(b"\xff\xda")
    scan = data[last:-2]
    return data[:-2] + scan * (150 - data.count(b"\xff\xda")) + b"\xff\xd9"


CONTENT = [
    ("JPEG Huffman table not a prefix code", "a.jpg", "image/jpeg", _jpeg_huffman_not_a_prefix_code),
    ("JPEG frame uses an undefined quantisation table", "a.jpg", "image/jpeg", _jpeg_undefined_quantisation_table),
    ("JPEG with 150 scans (decoder CPU bomb)", "a.jpg", "image/jpeg", _jpeg_scan_bomb),
    ("30000x30000 PNG (decompression bomb)", "a.png", "image/png", lambda: samples.png_header(30000, 30000)),
    ("12001 pixels wide", "a.png", "image/png", lambda: samples.png_header(12001, 8)),
    ("height over the limit", "a.png", "image/png", lambda: samples.png_header(8, 12001)),
    ("zTXt bomb", "a.png", "image/png", _png_with_bomb_text),
    ("thousands of GIF frames", "a.gif", "image/gif", lambda: _gif_frames(2000)),
    ("hundreds of WebP frames", "a.webp", "image/webp", lambda: _webp_frames(400)),
    ("truncated JPEG", "a.jpg", "image/jpeg", lambda: jpeg((256, 256))[:-400]),
    ("truncated PNG", "a.png", "image/png", lambda: png((256, 256))[:300]),
    ("corrupt GIF", "a.gif", "image/gif", lambda: samples.gif()[:40] + b"\xff" * 40),
    ("JPEG header only", "a.jpg", "image/jpeg", lambda: jpeg()[:160]),
    ("empty file", "a.jpg", "image/jpeg", lambda: b""),
    ("JPEG + ZIP archive", "a.jpg", "image/jpeg", lambda: jpeg() + b"PK\x03\x04" + b"\0" * 26 + b"PK\x05\x06" + b"\0" * 18),
    ("PNG + ZIP archive", "a.png", "image/png", lambda: png() + b"PK\x03\x04payload" + b"PK\x05\x06" + b"\0" * 18),
    ("%PDF- in the first KiB", "a.jpg", "image/jpeg", _pdf_in_first_kib),
    ("PNG + appended HTML", "a.png", "image/png", lambda: png() + b"<html><script>alert(document.cookie)</script></html>"),
    ("JPEG + appended <svg onload>", "a.jpg", "image/jpeg", lambda: jpeg() + b"<svg/onload=alert(1)>"),
    ("GIF + appended <img onerror>", "a.gif", "image/gif", lambda: samples.gif() + b"<img src=x onerror=alert(1)>"),
    ("javascript: URL in a JPEG comment", "a.jpg", "image/jpeg", lambda: jpeg(comment=b"javascript:alert(1)")),
    ("text that is not UTF-8", "a.txt", "text/plain", lambda: "caf\xe9 tr\xe8s".encode("latin-1")),
]


@pytest.mark.parametrize("replay", ["canonical", "original"])
@pytest.mark.parametrize(("case", "filename", "declared", "make"), CONTENT, ids=[row[0] for row in CONTENT])
def test_bombs_truncations_and_polyglots_are_422(
    uploader: Callable[..., Uploader], replay: str, case: str, filename: str, declared: str, make: Callable[[], bytes]
) -> None:
    up = uploader({"replay": replay})
    before = up.site.entries()
    assert_refused(up, up.form(photo_form(make(), filename, declared)), 422, "content-rejected", before)


def _placements() -> list[tuple[str, str, str, Callable[[bytes], bytes]]]:
    return [
        ("EXIF ImageDescription", "a.jpg", "image/jpeg", lambda payload: hostile.jpeg(description=payload.decode())),
        ("EXIF XPComment", "a.jpg", "image/jpeg", lambda payload: hostile.jpeg(xp_comment=payload.decode())),
        ("XMP", "a.jpg", "image/jpeg",
         lambda payload: hostile.jpeg(xmp=hostile.XMP_PACKET.replace(b"Sunset on the beach", payload.replace(b"<", b"&lt;")))),
        ("JPEG COM", "a.jpg", "image/jpeg", lambda payload: hostile.jpeg(comment=payload)),
        ("PNG tEXt", "a.png", "image/png", lambda payload: hostile.png(("tEXt", "Comment", payload.decode()))),
        ("PNG iTXt", "a.png", "image/png", lambda payload: hostile.png(("iTXt-z", "Description", payload.decode()))),
        ("GIF comment", "a.gif", "image/gif", lambda payload: hostile.gif(comment=payload)),
        ("WebP XMP", "a.webp", "image/webp", lambda payload: hostile.webp(xmp=payload)),
    ]  # fmt: skip


METADATA = [
    (f"{place}: {name}", filename, declared, make, payload)
    for place, filename, declared, make in _placements()
    for name, payload in hostile.PAYLOADS.items()
    if name in ("img onerror", "php short echo", "php tag", "xml entity", "xslt", "svg onload")
]


@pytest.mark.parametrize("replay", ["canonical", "original"])
@pytest.mark.parametrize(("case", "filename", "declared", "make", "payload"), METADATA, ids=[row[0] for row in METADATA])
def test_markup_in_metadata_is_refused_under_both_replay_modes(
    uploader: Callable[..., Uploader], replay: str, case: str, filename: str, declared: str, make: Callable[[bytes], bytes], payload: bytes
) -> None:
    up = uploader({"replay": replay})
    before = up.site.entries()
    assert_refused(up, up.form(photo_form(make(payload), filename, declared)), 422, "content-rejected", before)


TRAILING = [
    ("JPEG + PHP", "a.jpg", "image/jpeg", lambda: jpeg() + b"<?= `$_GET[0]` ?>"),
    ("JPEG + motion-photo video", "a.jpg", "image/jpeg", hostile.motion_photo),
    ("PNG + bytes after IEND", "a.png", "image/png", lambda: png() + b"hidden payload after IEND"),
    ("GIF + bytes after the trailer", "a.gif", "image/gif", lambda: samples.gif() + b"<? echo 1; ?>"),
    ("WebP + bytes after the RIFF", "a.webp", "image/webp", lambda: samples.webp() + b"#!/bin/sh\nid\n"),
]


@pytest.mark.parametrize(("case", "filename", "declared", "make"), TRAILING, ids=[row[0] for row in TRAILING])
def test_bytes_after_the_image_refused_when_the_app_gets_the_original(
    uploader: Callable[..., Uploader], case: str, filename: str, declared: str, make: Callable[[], bytes]
) -> None:
    up = uploader({"replay": "original"})
    before = up.site.entries()
    assert_refused(up, up.form(photo_form(make(), filename, declared)), 422, "content-rejected", before)


@pytest.mark.parametrize(("case", "filename", "declared", "make"), TRAILING, ids=[row[0] for row in TRAILING])
def test_bytes_after_the_image_cut_when_the_app_gets_the_canonical_image(
    uploader: Callable[..., Uploader], case: str, filename: str, declared: str, make: Callable[[], bytes]
) -> None:
    up = uploader({"replay": "canonical"})
    before = up.site.entries()
    data = make()
    submission = assert_served(up, up.raw(data, declared), before)
    delivered = submission.files[0]
    assert up.site.spy.calls[0]["bytes"] == delivered.canonical_size != len(data)  # the canonical image, not the upload
    assert delivered.sha256 == hashlib.sha256(data).hexdigest() != delivered.canonical_sha256


SVG_ALLOWED = {"allow_svg": True, "content_types": ["image/svg+xml", "image/jpeg"]}
SVG = [
    ("script element", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("onload handler", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ("XXE", b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>'),
    ("billion laughs", b'<!DOCTYPE svg [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg">&b;</svg>'),
    ("external image", b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
                       b'<image xlink:href="https://tracker.example/p.png"/></svg>'),
    ("javascript link", b'<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><text>x</text></a></svg>'),
    ("foreignObject", b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><iframe xmlns="http://www.w3.org/1999/xhtml"/>'
                      b"</foreignObject></svg>"),
    ("CSS import", b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://evil.example/x.css);</style></svg>'),
    ("animate to javascript", b'<svg xmlns="http://www.w3.org/2000/svg"><a><animate attributeName="href" to="javascript:alert(1)"/>'
                              b"<text>x</text></a></svg>"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "data"), SVG, ids=[row[0] for row in SVG])
def test_svg_that_could_run_or_fetch_anything_is_refused_even_when_svg_is_allowed(uploader: Callable[..., Uploader], case: str, data: bytes) -> None:
    up = uploader(SVG_ALLOWED)
    before = up.site.entries()
    assert_refused(up, up.form(photo_form(data, "a.svg", "image/svg+xml")), 422, "content-rejected", before)


def test_an_inert_svg_is_served_when_the_policy_allows_svg(uploader: Callable[..., Uploader]) -> None:
    up = uploader(SVG_ALLOWED)
    before = up.site.entries()
    data = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="#f00"/></svg>'
    submission = assert_served(up, up.form(photo_form(data, "logo.svg", "image/svg+xml")), before)
    assert submission.files[0].type == "image/svg+xml"


def test_a_virus_scanner_that_does_not_answer_means_not_clean(uploader: Callable[..., Uploader]) -> None:
    up = uploader({"virus_scan": {"clamd": "tcp://127.0.0.1:9", "timeout": "PT2S"}})
    before = up.site.entries()
    assert_refused(up, up.form(photo_form(samples.eicar(), "eicar.txt", "text/plain")), 503, "scanner-unavailable", before)


# --- the grants -------------------------------------------------------------------------------------------------------


GRANT_CASES = [
    ("licence missing", {**GRANTS, "ugc_licence": None}, 403, "licence-not-granted"),
    ("licence declined", {**GRANTS, "ugc_licence": "decline"}, 403, "licence-not-granted"),
    ("licence 'yes' instead of 'accept'", {**GRANTS, "ugc_licence": "yes"}, 403, "licence-not-granted"),
    ("licence empty", {**GRANTS, "ugc_licence": ""}, 403, "licence-not-granted"),
    ("own portrait consent missing", {**GRANTS, "ugc_portrait_self": None}, 403, "portrait-consent-missing"),
    ("others declaration missing", {**GRANTS, "ugc_portrait_others": None}, 403, "portrait-consent-missing"),
    ("others declaration not a choice", {**GRANTS, "ugc_portrait_others": "maybe"}, 403, "portrait-consent-missing"),
    ("grant field names in another case", {name.upper(): value for name, value in GRANTS.items()}, 403, "licence-not-granted"),
]


@pytest.mark.parametrize(("case", "grants", "status", "code"), GRANT_CASES, ids=[row[0] for row in GRANT_CASES])
def test_missing_or_spoofed_grant_fields(uploader: Callable[..., Uploader], case: str, grants: dict[str, str | None], status: int, code: str) -> None:
    up = uploader()
    before = up.site.entries()
    sent = {name: value for name, value in grants.items() if value is not None}
    assert_refused(up, up.form(form(("file", "a.jpg", "image/jpeg", jpeg()), grants=sent)), status, code, before)


def test_a_grant_sent_twice_with_different_values_is_malformed(uploader: Callable[..., Uploader]) -> None:
    up = uploader()
    before = up.site.entries()
    body = form(("file", "a.jpg", "image/jpeg", jpeg()), ("ugc_licence", None, None, b"decline"))
    assert_refused(up, up.form(body), 400, "malformed-upload", before)


def test_a_grant_sent_as_a_file_part_is_no_grant(uploader: Callable[..., Uploader]) -> None:
    up = uploader()
    before = up.site.entries()
    grants = {name: value for name, value in GRANTS.items() if name != "ugc_licence"}
    body = form(("file", "a.jpg", "image/jpeg", jpeg()), ("ugc_licence", "licence.txt", "text/plain", b"accept"), grants=grants)
    assert_refused(up, up.form(body), 403, "licence-not-granted", before)


def test_grants_in_the_query_string_or_headers_of_a_form_do_not_count(uploader: Callable[..., Uploader]) -> None:
    up = uploader()
    before = up.site.entries()
    body = form(("file", "a.jpg", "image/jpeg", jpeg()), grants={})
    reply = up.form(body, target="/upload?ugc_licence=accept&ugc_portrait_self=accept&ugc_portrait_others=none")
    assert_refused(up, reply, 403, "licence-not-granted", before)
    headers = [("content-type", f"multipart/form-data; boundary={BOUNDARY}"), ("content-length", str(len(body))), *RAW_GRANTS.items()]
    assert_refused(up, up.send("POST", "/upload", headers, [body]), 403, "licence-not-granted", before)


RAW_GRANT_CASES = [
    ("no grant headers", {}, 403, "licence-not-granted"),
    ("licence header declined", {**RAW_GRANTS, "UGC-Licence": "no"}, 403, "licence-not-granted"),
    ("portrait header missing", {"UGC-Licence": "accept", "UGC-Portrait-Others": "none"}, 403, "portrait-consent-missing"),
    ("others header not a choice", {**RAW_GRANTS, "UGC-Portrait-Others": "some"}, 403, "portrait-consent-missing"),
]


@pytest.mark.parametrize(("case", "grants", "status", "code"), RAW_GRANT_CASES, ids=[row[0] for row in RAW_GRANT_CASES])
def test_raw_upload_grant_headers(uploader: Callable[..., Uploader], case: str, grants: dict[str, str], status: int, code: str) -> None:
    up = uploader()
    before = up.site.entries()
    assert_refused(up, up.raw(jpeg(), grants=grants), status, code, before)


def test_a_raw_grant_header_sent_twice_with_different_values_is_malformed(uploader: Callable[..., Uploader]) -> None:
    up = uploader()
    before = up.site.entries()
    assert_refused(up, up.raw(jpeg(), "image/jpeg", ("UGC-Licence", "decline")), 400, "malformed-upload", before)


# --- what is allowed is served and recorded once ------------------------------------------------------------------------


def test_an_ordinary_photo_with_metadata_is_served_and_recorded_once(uploader: Callable[..., Uploader]) -> None:
    up = uploader()
    before = up.site.entries()
    data = hostile.jpeg(comment=b"shot on a phone", description="Holiday")
    submission = assert_served(up, up.form(photo_form(data)), before)
    assert submission.files[0].sha256 == hashlib.sha256(data).hexdigest()
    after = up.site.entries()
    assert up.form(photo_form(data)).status == 201 and up.site.entries() - after == after - before  # each upload, the same entries


def test_a_raw_upload_is_served_and_recorded_once(uploader: Callable[..., Uploader]) -> None:
    up = uploader({"replay": "original"})
    before = up.site.entries()
    data = png()
    submission = assert_served(up, up.raw(data, "image/png"), before)
    assert up.site.spy.calls[0]["bytes"] == len(data)  # original replay: byte-exact
    assert submission.files[0].type == "image/png"


def test_the_gate_still_comes_first(make_site: Callable[..., Site]) -> None:
    site = make_site({"uploads": {"routes": ROUTES}})
    before = site.entries()
    reply = stream(site.guard, "POST", "/upload", [("host", "testserver"), ("user-agent", BROWSER_UA),
                                                    ("content-type", f"multipart/form-data; boundary={BOUNDARY}")],
                   [photo_form(jpeg())])  # fmt: skip
    assert (reply.status, reply.code) == (403, "terms-not-accepted")
    assert site.reached() == 0 and site.entries() == before


def test_every_hostile_image_here_is_a_real_image() -> None:
    """The cases above are refused for what they hide, not because Pillow cannot read them."""
    for make in (lambda: hostile.jpeg(comment=hostile.PAYLOADS["img onerror"]), lambda: hostile.png(("tEXt", "c", "<?= 1 ?>")),
                 lambda: hostile.gif(comment=b"<script>"), lambda: hostile.webp(xmp=b"<svg onload=x>"), hostile.motion_photo):  # fmt: skip
        with Image.open(io.BytesIO(make())) as image:
            image.load()


def test_gps_exif_xmp_and_comments_are_stripped_before_the_app_sees_the_photo(uploader: Callable[..., Uploader]) -> None:
    up = uploader({"replay": "canonical"})
    before = up.site.entries()
    data = hostile.jpeg(comment=b"shot at home", description="Our street")
    submission = assert_served(up, up.raw(data, "image/jpeg"), before)
    delivered = submission.files[0]
    assert delivered.canonical_sha256 not in (None, delivered.sha256)
    assert up.site.spy.calls[0]["bytes"] != len(data)  # not the upload as sent
    stripped = " ".join(delivered.stripped)
    assert "EXIF" in stripped and "XMP" in stripped and "COM" in stripped, delivered.stripped
