"""A malformed receipt is refused with a ReceiptError naming what is wrong, never another exception."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from ugc_guard.ledger import Ledger
from ugc_guard.proof.keys import parse_jwks
from ugc_guard.proof.receipt import ReceiptError, signed_part, verify_receipt

from .conftest import proof_log, upload

REPLACEMENTS: list[Any] = [None, 0, -1, True, "", "x", [], {}, ["AAAA"], 2**70]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def replaced(receipt: dict[str, Any], path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    changed = copy.deepcopy(receipt)
    target: Any = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


@pytest.fixture
def receipt_and_keys(sqlite_ledger: Ledger) -> tuple[dict[str, Any], list[Any]]:
    log = proof_log(sqlite_ledger)
    receipt = log.issue_receipt(upload(sqlite_ledger, "u", b"img")).to_dict()
    return receipt, parse_jwks(log.jwks())


def test_every_member_replaced_by_a_wrong_value_is_refused(receipt_and_keys: tuple[dict[str, Any], list[Any]]) -> None:
    receipt, keys = receipt_and_keys
    checked = 0
    for path in paths(receipt):
        for value in REPLACEMENTS:
            changed = replaced(receipt, path, value)
            if changed == receipt:
                continue
            with pytest.raises(ReceiptError):
                verify_receipt(changed, keys)
            checked += 1
    assert checked > 500


def test_text_that_is_not_a_receipt_is_refused(receipt_and_keys: tuple[dict[str, Any], list[Any]]) -> None:
    _, keys = receipt_and_keys
    for text in ("", "[]", "{", '{"format": "ugc-guard-ledger-receipt/1"}', b"\xff\xfe", "null"):
        with pytest.raises(ReceiptError):
            verify_receipt(text, keys)


def test_the_signature_covers_every_member_but_itself(receipt_and_keys: tuple[dict[str, Any], list[Any]]) -> None:
    receipt, keys = receipt_and_keys
    assert b'"signature"' not in signed_part(receipt)
    extra = {**receipt, "note": "added after signing"}
    with pytest.raises(ReceiptError, match="signature: does not verify"):
        verify_receipt(extra, keys)
    reordered = dict(reversed(list(receipt.items())))
    assert verify_receipt(reordered, keys).entry_id == receipt["entry_id"]
