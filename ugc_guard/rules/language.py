"""Choosing the page language: ``?lang=`` first, then ``Accept-Language`` q-values, then the default."""

from __future__ import annotations

from collections.abc import Collection

__all__ = ["choose_language"]


def choose_language(query_lang: str | None, accept_language: str | None, available: Collection[str], default: str) -> str:
    """Return the language to show, one of ``available``."""
    if query_lang and query_lang.strip().lower() in available:
        return query_lang.strip().lower()
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if quality > 0 and primary in available:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else default
