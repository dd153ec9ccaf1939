"""The receipt's canonical JSON is RFC 8785: byte-equal to the rfc8785 package on tricky inputs."""

from __future__ import annotations

import json
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from ugc_guard.ledger.canonical import body_json
from ugc_guard.proof import jcs
from ugc_guard.proof.jcs import canonical_json

TRICKY: list[Any] = [
    {"b": 1, "a": 2, "A": 3, "_": 4, "aa": 5, "": 6},
    {"\ue000": "private use", "\U0001f600": "emoji sorts before it in UTF-16", "é": "e acute", "z": "z"},
    {"€": 1, "\r": 2, "1": 3, "\u0080": 4, "ö": 5, "\U0001d11e": 6},  # the RFC 8785 §3.2.3 sorting example's keys
    ["\u0000\u0001\u001f", "\b\t\n\f\r", '"quoted" and \\back\\slash', "\u007f", "\u2028\u2029", "</script>"],
    ["é ü 漢字 😀", "\U0010ffff", "\ud7ff\ue000"],
    [0, -1, 1, 2**53 - 1, -(2**53 - 1), 10**15, True, False, None],
    {"nested": {"list": [{"z": None, "y": [True, {"b": "", "a": []}]}], "empty": {}}},
    "just a string",
    42,
    {"format": "ugc-guard-receipt/2", "entries": [{"body": '{"a":1,"text":"ü"}', "summary": {"size": 1234}}]},
]


@pytest.mark.parametrize("value", TRICKY)
def test_equals_the_rfc8785_package(value: Any) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


def test_round_trips_through_json() -> None:
    for value in TRICKY:
        assert json.loads(canonical_json(value)) == value


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (1.5, TypeError),
        ({"x": [0.0]}, TypeError),
        (2**53, ValueError),
        (-(2**53), ValueError),
        ("\ud800", ValueError),
        ({1: "x"}, ValueError),
        ({"x": object()}, TypeError),
    ],
)
def test_refuses_what_it_cannot_carry_exactly(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        canonical_json(value)


@pytest.mark.parametrize(
    "payload",
    [
        {"document_id": "terms", "version": "2", "text_sha256": "ab" * 32, "guardian_entries": [1, 2], "licence": {"id": "x"}},
        {"reason": 'tab\there "quoted" \u0001 é 😀 \u2028', "n": -5, "ok": True, "none": None},
    ],
)
def test_ledger_bodies_with_ascii_names_are_already_canonical(payload: dict[str, Any]) -> None:
    assert body_json(payload).encode() == canonical_json(payload)


_SCALARS = st.none() | st.booleans() | st.integers(-(2**53 - 1), 2**53 - 1) | st.text()
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                       max_leaves=20)  # fmt: skip


@settings(max_examples=1500, deadline=None)
@given(_VALUES)
def test_the_standard_encoder_path_equals_the_walk_and_rfc8785(value: Any) -> None:
    # ASCII names take json's encoder, others the walk: both must be what rfc8785 writes.
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(ValueError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected
    parts: list[str] = []
    jcs._write(value, parts)
    assert "".join(parts).encode("utf-8", "surrogatepass") == expected


def test_plain_values_are_recognised() -> None:
    assert jcs._plain({"a": [1, "x", None, True, {"b": -(2**53 - 1)}]})
    assert not jcs._plain({"é": 1})
    assert not jcs._plain({"a": 2**53})
    assert not jcs._plain({"a": (1, 2)})
    assert not jcs._plain([1.0])
