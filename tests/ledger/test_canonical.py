from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ugc_guard.ledger.canonical import PREFIX, body_json, entry_hash, header_json, utc_text

scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20)
payloads = st.dictionaries(st.text(max_size=10), st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                                                              | st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                           max_size=6)


@given(payloads)
def test_body_is_sorted_compact_json_that_round_trips(payload: dict[str, object]) -> None:
    text = body_json(payload)
    assert json.loads(text) == payload
    assert body_json(json.loads(text)) == text  # a decoded body re-encodes to the same bytes


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError, match="floats"):
        body_json({"size": 1.5})


def test_hash_is_sha256_of_the_documented_bytes() -> None:
    header = header_json(7, "summer", 3, "ab" * 32, "submission", "s1", "2026-03-01T12:00:00.000000Z", 2, None, None,
                         "accepted")
    assert header == '[7,"summer",3,"' + "ab" * 32 + '","submission","s1","2026-03-01T12:00:00.000000Z",2,null,null,"accepted"]'
    body = body_json({"b": "é", "a": 1})
    assert body == '{"a":1,"b":"é"}'
    assert entry_hash(header, body) == hashlib.sha256(PREFIX + header.encode() + b"\n" + body.encode()).hexdigest()


def test_times_are_utc_with_microseconds() -> None:
    amsterdam = dt.timezone(dt.timedelta(hours=2))
    assert utc_text(dt.datetime(2026, 3, 1, 14, 0, tzinfo=amsterdam)) == "2026-03-01T12:00:00.000000Z"
