"""Path normalisation and upload-route matching.

The gate must see every spelling of an upload path the app might route: trailing slashes, case,
percent-encoding (also double), dot segments, repeated slashes, backslashes and ``root_path``
mounts all normalise to one form. Matching more liberally than the app's router only ever gates
more, never less.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

from .policy.uploads import UploadRoute

__all__ = ["SAFE_METHODS", "RouteTable", "normalise_path", "relative_path"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
"""Methods that never carry an upload; every other method on an upload path is gated."""


def relative_path(path: str, root_path: str) -> str:
    """Return ``path`` without the ``root_path`` mount prefix (ASGI servers differ in including it)."""
    if root_path and (path == root_path or path.startswith(root_path.rstrip("/") + "/")):
        return path[len(root_path.rstrip("/")) :] or "/"
    return path


@lru_cache(maxsize=4096)
def normalise_path(path: str) -> str:
    """Return the canonical, lowercase form of a request path, for matching only."""
    for _ in range(3):  # undo double and triple encoding of %2e, %2f, %5c
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    path = path.replace("\\", "/").split(";", 1)[0]
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    return ("/" + "/".join(segments)).casefold()


@dataclass(frozen=True)
class _CompiledRoute:
    pattern: re.Pattern[str]
    route: UploadRoute


class RouteTable:
    """Finds the upload route (if any) for a normalised path."""

    def __init__(self, routes: Iterable[UploadRoute]) -> None:
        self._routes = [_CompiledRoute(_compile(route.path), route) for route in routes]
        self._cache: dict[str, UploadRoute | None] = {}

    def match(self, normalised: str) -> UploadRoute | None:
        """Return the first upload route whose path matches, or None."""
        try:
            return self._cache[normalised]
        except KeyError:
            pass
        found = next((compiled.route for compiled in self._routes if compiled.pattern.match(normalised)), None)
        if len(self._cache) >= 4096:  # paths are client-chosen: keep the cache bounded
            self._cache.clear()
        self._cache[normalised] = found
        return found

    def __iter__(self) -> Iterable[UploadRoute]:  # type: ignore[override]
        return iter(compiled.route for compiled in self._routes)


def _compile(path: str) -> re.Pattern[str]:
    path = path.casefold()
    prefix = path.endswith("/*")
    if prefix or path == "/*":
        path = path[:-2]
    parts = [r"[^/]+" if re.fullmatch(r"\{[a-z_][a-z0-9_]*\}", part) else re.escape(part) for part in path.split("/") if part]
    body = "".join("/" + part for part in parts)
    return re.compile("^" + body + ("(/.*)?$" if prefix else "$") if body else "^/.*$")
