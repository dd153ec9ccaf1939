"""The whole-file scan for active content: Hyperscan's one pass gives the verdict of the ``re`` searches."""

from __future__ import annotations

import io
import random
import sys
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.screening import hostile_images as hostile
from ugc_guard.screening import jpeg_segments, polyglot
from ugc_guard.screening.jpeg_segments import next_marker
from ugc_guard.screening.multiscan import MultiScan
from ugc_guard.screening.polyglot import SCAN_CHUNK, whole_file_active

PIECES = [
    b"javascript:", b"JavaScript:", b"vbscript:", b"java", b"script:", b"__halt_compiler", b"__HALT_", b"compiler",
    b"data:text/html", b"DATA:image/svg+xml", b"data:application/xhtml", b"data:", b"<script", b"<SCRIPT>", b"<html/",
    b"<?php ", b"<svg", b"<!doctype html", b"<!DOCTYPE\thtml", b"<meta http-equiv", b"<!ENTITY", b"<?xml-stylesheet",
    b"<xsl:transform", b"<xsl:", b"onerror=", b"ONLOAD =", b"onmouseover\t=", b"ondrag=", b"onfoo=", b"on", b"=", b" ",
    b"\t", b"/", b'"', b"'", b"<", b">", b"x", b"\x00", b"\xff", b"\xc3\xa9",
]  # fmt: skip


def _reference(data: bytes) -> str | None:
    """The ``re`` searches over the whole (lowercased) data: what the Hyperscan pass must agree with."""
    return polyglot._active(data.lower())


def test_hyperscan_runs_here() -> None:
    # A required dependency with wheels for this platform: the fast pass is what these tests compare.
    assert polyglot._WHOLE_FILE.available


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=10), st.binary(max_size=48), st.binary(max_size=48))
def test_one_pass_agrees_with_the_searches(pieces: list[bytes], before: bytes, after: bytes) -> None:
    data = before + b"".join(pieces) + after
    assert whole_file_active(data) == _reference(data)


@pytest.mark.parametrize("name", sorted(hostile.PAYLOADS))
def test_every_hostile_payload_inside_compressed_looking_bytes(name: str) -> None:
    noise = random.Random(name).randbytes(256 * 1024)
    data = noise[:100_000] + hostile.PAYLOADS[name] + noise[100_000:]
    assert whole_file_active(data) == _reference(data)
    assert whole_file_active(data.upper()) == _reference(data)


def test_random_image_bytes_hold_nothing() -> None:
    data = random.Random(11).randbytes(2 * 1024 * 1024)  # a "<" every ~256 bytes, as in compressed pixels
    assert _reference(data) is None
    assert whole_file_active(data) is None


def test_a_match_across_the_old_piece_edge_is_found() -> None:
    # The re fallback searches 1 MiB pieces overlapping by 32 bytes; the one pass has no edges.
    filler = b"\x00" * (SCAN_CHUNK - 10)
    data = filler + b"<meta" + b" " * 40 + b"http-equiv>" + b"\x00" * 100
    assert whole_file_active(data) == "HTML or script markup"


def test_the_handler_counts_only_after_a_separator_or_at_the_start() -> None:
    assert whole_file_active(b"onload=x") == "an event handler attribute"
    assert whole_file_active(b"\x00onload=x") is None
    assert whole_file_active(b"\x00/onload=x") == "an event handler attribute"


def test_without_hyperscan_the_searches_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hyperscan", None)  # import hyperscan now raises ImportError
    scan = MultiScan([b"<script"])
    assert not scan.available
    monkeypatch.setattr(polyglot, "_WHOLE_FILE", scan)
    assert whole_file_active(b"x<ScRiPt>") == "HTML or script markup"
    assert whole_file_active(b"nothing here") is None


def test_scratch_per_thread() -> None:
    scan = MultiScan([b"needle", b"other"])
    assert scan.available  # compiled on first use
    results: list[int | None] = []
    threads = [threading.Thread(target=lambda: results.append(scan.first(b"x" * 100_000 + b"NEEDLE"))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [0, 0, 0, 0]
    assert scan.first(b"other and needle") == 0
    assert scan.first(b"only other") == 1
    assert scan.first(b"none") is None


MARKER_PIECES = [b"\xff", b"\xff\x00", b"\xff\xd0", b"\xff\xd7", b"\xff\xd8", b"\xff\xd9", b"\xff\xda", b"\xff\xff", b"\xff\x01",
                 b"\xff\xcf", b"\xff\xfe", b"\x00", b"\xd0", b"x"]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(MARKER_PIECES), max_size=12), st.integers(0, 6))
def test_next_marker_agrees_with_the_expression(pieces: list[bytes], start: int) -> None:
    data = b"".join(pieces)
    found = jpeg_segments._NEXT_MARKER.search(data, start)
    assert next_marker(data, start) == (None if found is None else found.start())


def test_next_marker_in_a_photo_is_the_end_of_image() -> None:
    from PIL import Image

    picture = Image.effect_noise((512, 384), 64).convert("RGB")
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=95)
    data = out.getvalue()
    start = data.index(b"\xff\xda") + 2 + int.from_bytes(data[data.index(b"\xff\xda") + 2 :][:2], "big")
    assert data.count(b"\xff\x00", start) > 10  # stuffed bytes the search must pass over
    assert next_marker(data, start) == len(data) - 2
    assert next_marker(data[:-2], start) is None
