"""Generated docs must match the code (regenerate with: python -m ugc_guard.cli.docs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ugc_guard.cli.docs import GENERATED

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_doc_is_current(name: str) -> None:
    expected = GENERATED[name]()
    actual = (DOCS / name).read_text(encoding="utf-8")
    assert actual == expected, f"docs/{name} is stale; run: python -m ugc_guard.cli.docs"


def test_cli_reference_covers_every_command() -> None:
    from ugc_guard.cli import main

    text = GENERATED["cli.md"]()
    for name in main.commands:
        assert f"`ugc-guard {name}`" in text
