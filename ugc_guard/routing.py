"""Which requests are uploads: upload-route matching that is at least as wide as the app's router.

The app routes the path the server decoded once (``scope["path"]``, what Starlette and FastAPI
match); a proxy in front may route a normalised copy (dot segments resolved, ``;`` parameters cut,
case folded). A request is an upload when *either* reading matches an upload route, so the gate
is never narrower than the router behind it. A spelling that only makes sense as a trick (dot
segments, empty segments, backslashes, ``;``, encoded ``.``/``/``/``\\``/``%``/``;``, control
characters) is not guessed at: on an upload route's prefix it is refused as ``bad-path``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from urllib.parse import unquote

from .policy.uploads import UploadRoute

__all__ = ["SAFE_METHODS", "PathVerdict", "RouteTable", "is_ambiguous", "normalise_path", "relative_path"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
"""Methods that never carry an upload; every other method (in any spelling) on an upload path is gated."""

_AMBIGUOUS_RAW = re.compile(rb"%(?:2e|2f|5c|25|3b|00)", re.IGNORECASE)
_AMBIGUOUS_PATH = re.compile(r"//|\\|;|%|[\x00-\x1f\x7f]|(?:^|/)\.\.?(?:/|$)")


class PathVerdict(Enum):
    """How a path relates to the upload routes."""

    other = "other"
    """Not an upload path in any reading."""
    upload = "upload"
    """An upload route matches (the route is in the match)."""
    ambiguous = "ambiguous"
    """An ambiguous spelling on an upload route's prefix: refuse with ``bad-path``."""


def relative_path(path: str, root_path: str) -> str:
    """Return ``path`` without the ``root_path`` mount prefix (ASGI servers differ in including it)."""
    if root_path and (path == root_path or path.startswith(root_path.rstrip("/") + "/")):
        return path[len(root_path.rstrip("/")) :] or "/"
    return path


@lru_cache(maxsize=4096)
def normalise_path(path: str) -> str:
    """Return the canonical, lowercase form of a request path (what a normalising proxy would route)."""
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


def is_ambiguous(path: str, raw_path: bytes | None = None) -> bool:
    """Return whether a path (decoded once, as the server hands it on) or its raw form is spelled to mislead.

    A single trailing slash is not ambiguous; dot and empty segments, backslashes, ``;``, a ``%`` left
    after decoding, control characters, and encoded ``.``, ``/``, ``\\``, ``%``, ``;`` or NUL are.
    """
    if _AMBIGUOUS_PATH.search(path) is not None:
        return True
    return raw_path is not None and _AMBIGUOUS_RAW.search(raw_path) is not None


@dataclass(frozen=True)
class _CompiledRoute:
    pattern: re.Pattern[str]
    prefix: str
    """The literal part before the first parameter or wildcard, casefolded (``/api/selfies/``)."""
    route: UploadRoute


class RouteTable:
    """Finds the upload route (if any) for a path, in the app's reading and the normalised one."""

    def __init__(self, routes: Iterable[UploadRoute]) -> None:
        self._routes = [_CompiledRoute(_compile(route.path), _literal_prefix(route.path), route) for route in routes]
        self._cache: dict[tuple[str, bytes | None], tuple[PathVerdict, UploadRoute | None]] = {}

    def match(self, path: str) -> UploadRoute | None:
        """Return the first upload route whose pattern matches ``path`` (casefolded), or None."""
        folded = path.casefold()
        return next((compiled.route for compiled in self._routes if compiled.pattern.match(folded)), None)

    def classify(self, path: str, raw_path: bytes | None = None) -> tuple[PathVerdict, UploadRoute | None]:
        """Return the verdict for a path relative to the mount, and the matched route when it is an upload.

        ``path`` is the server's once-decoded path (``scope["path"]`` without ``root_path``); ``raw_path``
        the bytes as sent, when the server gives them.
        """
        key = (path, raw_path)
        try:
            return self._cache[key]
        except KeyError:
            pass
        verdict = self._classify(path, raw_path)
        if len(self._cache) >= 4096:  # paths are client-chosen: keep the cache bounded
            self._cache.clear()
        self._cache[key] = verdict
        return verdict

    def _classify(self, path: str, raw_path: bytes | None) -> tuple[PathVerdict, UploadRoute | None]:
        normalised = normalise_path(path)
        if is_ambiguous(path, raw_path):
            folded = path.casefold()
            if any(self._on_prefix(compiled, view) for compiled in self._routes for view in (folded, normalised)):
                return PathVerdict.ambiguous, None
        route = self.match(path) or self.match(normalised)
        return (PathVerdict.upload, route) if route is not None else (PathVerdict.other, None)

    @staticmethod
    def _on_prefix(compiled: _CompiledRoute, view: str) -> bool:
        prefix = compiled.prefix
        if prefix.endswith("/"):
            return view.startswith(prefix) or view == prefix[:-1]
        return view == prefix or view.startswith((prefix + "/", prefix + ";", prefix + "\\", prefix + "%", prefix + "."))

    def __iter__(self) -> Iterator[UploadRoute]:
        return iter([compiled.route for compiled in self._routes])


def _literal_prefix(path: str) -> str:
    literal: list[str] = []
    for part in path.casefold().split("/")[1:]:
        if part.startswith("{") or part == "*":
            return "/" + "".join(segment + "/" for segment in literal)
        literal.append(part)
    return "/" + "/".join(literal)


def _compile(path: str) -> re.Pattern[str]:
    path = path.casefold()
    prefix = path.endswith("/*")
    if prefix or path == "/*":
        path = path[:-2]
    parts = [r"[^/]+" if re.fullmatch(r"\{[a-z_][a-z0-9_]*\}", part) else re.escape(part) for part in path.split("/") if part]
    body = "".join("/" + part for part in parts)
    return re.compile("^" + body + ("(/.*)?$" if prefix else "/?$") if body else "^/.*$")
