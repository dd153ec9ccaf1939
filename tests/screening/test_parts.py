"""Plain functions: file names, type reconciliation, and the multipart bookkeeping under any chunking."""

from __future__ import annotations

import hashlib
import itertools

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.screening.samples import multipart
from ugc_guard.policy.uploads import UploadLimits
from ugc_guard.problems import Problem
from ugc_guard.screening.limits import Budget
from ugc_guard.screening.mediatypes import reconcile
from ugc_guard.screening.multipart import MultipartReader
from ugc_guard.screening.names import sanitise_filename
from ugc_guard.screening.spool import BodySpool
from ugc_guard.screening.tempfiles import TempFiles


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../x", "x"),
        ("..\\..\\windows\\system32\\x.jpg", "x.jpg"),
        ("evil\x00.jpg", "evil.jpg"),
        ("a\r\nContent-Type: text/html.jpg", "html.jpg"),
        ("photo\u202egpj.exe", "photogpj.exe"),
        ("\u2066name\u2069.png", "name.png"),
        ("/etc/passwd", "passwd"),
        ("..", ""),
    ],
)
def test_file_names_are_never_paths(raw: str, safe: str) -> None:
    name = sanitise_filename(raw)
    assert name.name == safe
    assert "\\" in name.original_escaped or name.original_escaped == raw.encode("unicode_escape").decode()


def test_long_names_are_capped_at_255_bytes_keeping_the_extension() -> None:
    name = sanitise_filename("é" * 300 + ".jpeg")
    assert len(name.name.encode()) <= 255 and name.name.endswith(".jpeg")
    assert sanitise_filename("x" * 300).name == "x" * 255


@given(st.text(max_size=400))
def test_any_name_is_safe(raw: str) -> None:
    name = sanitise_filename(raw).name
    assert "/" not in name and "\\" not in name and "\x00" not in name and "\n" not in name
    assert not any(0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069 for c in name)
    assert len(name.encode()) <= 255 and name not in (".", "..")


def test_equivalent_type_names_are_reconciled() -> None:
    allowed = ["image/jpeg", "audio/wav", "video/quicktime", "audio/mp4", "video/mp4"]
    assert reconcile("audio/x-wav", "audio/wav", "a.wav", allowed, False).type == "audio/wav"
    assert reconcile("video/quicktime", "", "clip.MOV", allowed, False).type == "video/quicktime"
    assert reconcile("video/mp4", "audio/mp4", "a.m4a", allowed, False).type == "audio/mp4"
    assert reconcile("image/jpeg", "image/pjpeg", "a.jfif", allowed, False).type == "image/jpeg"
    with pytest.raises(Problem):
        reconcile("image/jpeg", "image/png", "a.jpg", allowed, False)
    with pytest.raises(Problem):
        reconcile("video/mp4", "", "a.mov", ["video/mp4"], False)


def _parse(body: bytes, content_type: str, cuts: list[int]) -> tuple[BodySpool, list]:
    boundary = content_type.split("boundary=", 1)[1].encode()
    temp = TempFiles(None)
    spool = BodySpool(temp, 1 << 30)
    reader = MultipartReader(boundary, Budget(UploadLimits(max_files=50, max_fields=50)), spool, None)
    edges = [0, *sorted(set(cuts)), len(body)]
    for start, end in itertools.pairwise(edges):
        if end > start:
            spool.queue(body[start:end])
            reader.feed(body[start:end])
    anyio.run(spool.flush)
    return spool, reader.finish()


@settings(max_examples=150, deadline=None)
@given(
    files=st.lists(st.binary(max_size=600), min_size=1, max_size=4),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=40),
)
def test_file_parts_are_located_and_hashed_exactly_however_the_body_is_chunked(files: list[bytes], cuts: list[int]) -> None:
    # Data full of boundary look-alikes, so partial matches cross chunk edges.
    tricky = [data.replace(b"d", b"").replace(b"Z", b"\r\n--bn").replace(b"Y", b"\r\n-") for data in files]
    body, content_type = multipart([(f"f{i}", f"{i}.bin", "application/octet-stream", data) for i, data in enumerate(tricky)], "bnd")
    spool, parts = _parse(body, content_type, [cut % (len(body) + 1) for cut in cuts])
    found = [part for part in parts if part.is_file]
    assert len(found) == len(tricky)
    for part, data in zip(found, tricky, strict=True):
        assert part.length == len(data)
        if data:
            assert spool.pread(part.length, part.offset) == data
        assert part.hasher.hexdigest() == hashlib.sha256(data).hexdigest()
    assert spool.pread(spool.size, 0) == body


def test_an_empty_file_part_is_an_empty_range_inside_the_body(tmp_path) -> None:
    """Regression (atheris, fuzz/regressions/empty-file-part): an empty file part kept offset -1."""
    from ugc_guard.policy.uploads import UploadLimits
    from ugc_guard.screening.limits import Budget
    from ugc_guard.screening.multipart import MultipartReader, boundary_of
    from ugc_guard.screening.spool import BodySpool
    from ugc_guard.screening.tempfiles import TempFiles

    body = (
        b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"empty.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
        b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"ugc_licence\"\r\n\r\naccept\r\n--XyZ--\r\n"
    )
    temp = TempFiles(str(tmp_path))
    try:
        spool = BodySpool(temp, memory_limit=1024 * 1024)
        budget = Budget(UploadLimits())
        reader = MultipartReader(boundary_of("multipart/form-data; boundary=XyZ"), budget, spool, None)
        budget.body(len(body))
        spool.queue(body)
        reader.feed(body)
        parts = reader.finish()
    finally:
        temp.remove()
    (empty,) = [part for part in parts if part.is_file]
    assert empty.length == 0 and 0 <= empty.offset <= len(body)
