"""Policy files, random and mutated: loading one gives a Policy or a PolicyError whose every line
names the file and one problem — never another exception, never a traceback."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ugc_guard.policy import PolicyError, load_policy

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = yaml.safe_load((REPO / "policies" / "onscreen.yaml").read_text(encoding="utf-8"))
for _section in ("terms", "licence"):
    EXAMPLE[_section]["texts"] = {k: str(REPO / "policies" / v) for k, v in EXAMPLE[_section]["texts"].items()}
EXAMPLE["look"]["logo"] = str(REPO / "policies" / EXAMPLE["look"]["logo"])
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ENV = {"UGC_GUARD_SECRET": "s" * 40}

keys = st.text(max_size=12)  # control characters and line breaks included (they once split error lines)
scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=40)
           | st.sampled_from(["${UGC_GUARD_SECRET}", "${MISSING}", "${X:-1}", "PT0S", "P-1D", "10/hour", "1e9", "-1MiB", "0", "∞"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
                      max_leaves=12)


def _load(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "policy.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_policy(path, environ=ENV)
        except PolicyError as error:
            lines = str(error).split("\n")
            assert lines and lines == error.lines
            for line in lines:
                assert line.startswith(str(path)), line
                assert line.strip() and "Traceback" not in line and "\r" not in line


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


PATHS = _paths(EXAMPLE)


@SETTINGS
@given(st.dictionaries(keys | st.sampled_from(list(EXAMPLE)), values, max_size=8))
def test_random_mappings_give_policy_errors_only(data: dict[str, Any]) -> None:
    _load(yaml.safe_dump(data, allow_unicode=True))


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(PATHS), st.sampled_from(["set", "delete", "add"]), values, keys),
                min_size=1, max_size=4))
def test_mutations_of_the_example_policy_give_policy_errors_only(mutations: list[tuple[tuple[Any, ...], str, Any, str]]) -> None:
    data = copy.deepcopy(EXAMPLE)
    for path, action, value, key in mutations:
        parent: Any = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            last = path[-1]
            if action == "set":
                parent[last] = value
            elif action == "delete":
                del parent[last]
            elif isinstance(parent[last], dict):
                parent[last][key] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    _load(yaml.safe_dump(data, allow_unicode=True))


@SETTINGS
@given(st.integers(0, 10_000), st.integers(0, 20), st.text(max_size=20))
def test_damaged_yaml_text_gives_policy_errors_only(at: int, cut: int, insert: str) -> None:
    text = yaml.safe_dump(EXAMPLE, allow_unicode=True)
    at %= len(text) + 1
    _load(text[:at] + insert + text[at + cut:])


def test_the_example_itself_loads() -> None:
    _load(yaml.safe_dump(EXAMPLE))


@pytest.mark.parametrize("key", ["\n", "\r", "a\nb"])
def test_an_unknown_key_with_a_line_break_still_gives_one_line_per_problem(key: str) -> None:
    _load(yaml.safe_dump({**EXAMPLE, key: 1}))
