"""The import rules of docs/architecture.md, checked against the code so they stay true.

Imports are read with :mod:`ast` (the code is not run): every ``import``/``from … import`` of
``ugc_guard`` modules, including those under ``if TYPE_CHECKING:`` and inside functions, because a
cycle that only a lazy import hides is still a cycle in the design.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ugc_guard"
MAX_LINES = 300


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imports_of(name: str, path: Path) -> Iterator[str]:
    """Yield every module name ``path`` imports (absolute, resolved from relative imports)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield target
            for alias in node.names:  # ``from . import x`` may name a submodule
                yield f"{target}.{alias.name}"


def room(module: str) -> str:
    """The room a module belongs to: a top-level module, or a subpackage (``ugc_guard.ledger``)."""
    parts = module.split(".")
    if len(parts) >= 2 and (PACKAGE / parts[1]).is_dir():
        return ".".join(parts[:2])
    return ".".join(parts[:2]) if len(parts) >= 2 else module


KNOWN = {name for name, _ in modules()}


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in modules():
        for target in imports_of(name, path):
            if target in KNOWN and room(target) != room(name):
                edges[room(name)].add(room(target))
    return edges


def test_no_import_cycle_between_rooms() -> None:
    edges = graph()
    seen: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        seen[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if seen.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in seen:
                visit(target)
        stack.pop()
        seen[node] = 2

    for node in sorted(edges):
        if node not in seen:
            visit(node)
    assert cycles == []


def third_party(prefix: str) -> dict[str, list[str]]:
    users: dict[str, list[str]] = defaultdict(list)
    for name, path in modules():
        for target in imports_of(name, path):
            if target == prefix or target.startswith(prefix + "."):
                users[room(name)].append(name)
    return users


def test_nothing_imports_the_cli() -> None:
    offenders = [name for name, path in modules() if not name.startswith("ugc_guard.cli") for target in imports_of(name, path)
                 if target == "ugc_guard.cli" or target.startswith("ugc_guard.cli.")]  # fmt: skip
    assert offenders == []


@pytest.mark.parametrize("library", ["sqlalchemy", "alembic"])
def test_sqlalchemy_only_in_the_ledger(library: str) -> None:
    assert sorted(set(third_party(library)) - {"ugc_guard.ledger"}) == []


@pytest.mark.parametrize("room_name", ["ugc_guard.policy", "ugc_guard.ledger", "ugc_guard.rules"])
def test_no_web_framework_in_policy_ledger_or_rules(room_name: str) -> None:
    for library in ("starlette", "fastapi", "uvicorn", "httpx"):
        assert third_party(library).get(room_name, []) == [], (room_name, library)


def test_rules_import_only_policy() -> None:
    rooms = {room(target) for name, path in modules() if room(name) == "ugc_guard.rules" for target in imports_of(name, path) if target in KNOWN}
    assert rooms <= {"ugc_guard.rules", "ugc_guard.policy"}


def test_policy_imports_nothing_of_ours() -> None:
    rooms = {room(target) for name, path in modules() if room(name) == "ugc_guard.policy" for target in imports_of(name, path) if target in KNOWN}
    assert rooms <= {"ugc_guard.policy"}


def test_no_module_over_the_line_limit() -> None:
    long = {name: n for name, path in modules() if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def _methods(node: ast.ClassDef) -> set[str]:
    return {item.name for item in node.body if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and not item.name.startswith("_")}


def _classes(path: Path) -> Iterator[ast.ClassDef]:
    yield from (node for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(node, ast.ClassDef))


def test_pages_and_screening_call_the_ledger_itself() -> None:
    """No protocol or adapter over the ledger in its callers: the pages, admission and recording call
    the ledger's API with the ledger's types (a Protocol naming a ledger method, or the ledger in its text)."""
    ledger_api = set()
    for name in ("aio.py", "ledger.py", "reading.py"):
        for node in _classes(PACKAGE / "ledger" / name):
            ledger_api |= _methods(node)
    offenders = []
    for name, path in modules():
        if room(name) not in ("ugc_guard.pages", "ugc_guard.screening") and name != "ugc_guard.standing":
            continue
        for node in _classes(path):
            if not any(isinstance(base, ast.Name) and base.id == "Protocol" for base in node.bases):
                continue
            if _methods(node) & ledger_api or "ledger" in (ast.get_source_segment(path.read_text(encoding="utf-8"), node) or "").lower():
                offenders.append(f"{name}.{node.name}")
    assert ledger_api and offenders == []


def test_screening_does_not_import_the_pages() -> None:
    """Admission and recording read standing from ``standing.py``; the pages are another room."""
    edges = graph()
    assert "ugc_guard.pages" not in edges.get("ugc_guard.screening", set())
