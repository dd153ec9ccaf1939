from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from ugc_guard.screening.polyglot import MARKUP, has_markup

PIECES = [
    b"<script", b"<SCRIPT ", b"<html>", b"<HtMl/", b"<?php ", b"<?PHP\n", b"<svg", b"<svg>", b"<iframe\t", b"<object ",
    b"<embed>", b"<body/", b"<!doctype", b"<!DOCTYPE  html ", b"<!doctype\nhtml>", b"<meta http-equiv", b"<META  HTTP-EQUIV ",
    b"<meta\thttp-equiv>", b"javascript:", b"JAVASCRIPT:", b"java", b"script:", b"<", b"<<", b" ", b"\x0b", b">", b"/", b"x",
    b"\xc0", b"\xff",
]  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=8), st.binary(max_size=64))
def test_has_markup_agrees_with_the_pattern(pieces: list[bytes], noise: bytes) -> None:
    data = noise + b"".join(pieces) + noise
    assert has_markup(data) == (MARKUP.search(data) is not None)


def test_image_like_data_without_markup() -> None:
    data = random.Random(7).randbytes(1024 * 1024)  # a "<" every ~256 bytes, as in compressed images
    assert has_markup(data) == (MARKUP.search(data) is not None)
    assert has_markup(data[:1000] + b"<sCrIpT>" + data[1000:])
