"""The log's public endpoints, as handler functions to mount under the site prefix:

- ``GET {prefix}/checkpoint`` — the current signed checkpoint (``text/plain``, a C2SP signed note);
- ``GET {prefix}/keys`` — the log's public keys (JWKS, retired keys marked);
- ``GET {prefix}/proof/inclusion?entry=ID[&size=N]`` — the audit path of an entry;
- ``GET {prefix}/proof/consistency?from=N[&to=M]`` — the consistency proof between two tree sizes.

Proofs hold hashes only, never entry contents. Everything here is public and the same for every
visitor, so responses allow any origin (a verification page may fetch them) and proofs for fixed
sizes are cached for good. Bad parameters are ``invalid-request`` (400), an entry outside this log
``not-found`` (404), a database that cannot answer ``ledger-unavailable`` (503).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .ledger import EntryNotFound, LedgerError, LedgerUnavailable
from .ledger.prooflog import AsyncProofLog
from .ledger.tree import TreeSizeError
from .problems import Problem

__all__ = ["checkpoint_response", "consistency_response", "inclusion_response", "keys_response", "routes", "single_values"]

_PUBLIC = {"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff"}
_FRESH = {**_PUBLIC, "Cache-Control": "no-cache"}
_FOREVER = {**_PUBLIC, "Cache-Control": "public, max-age=31536000, immutable"}
MAX_SIZE = 2**62


def problem_response(code: str, detail: str) -> Response:
    """Return the ``application/problem+json`` response of a catalogue ``code``."""
    problem = Problem(code, detail)
    return Response(
        json.dumps(problem.body(), ensure_ascii=False), problem.status, {"Cache-Control": "no-store"}, media_type="application/problem+json"
    )


def _json(body: Any, headers: Mapping[str, str], media_type: str = "application/json") -> Response:
    return Response(json.dumps(body, indent=2) + "\n", 200, dict(headers), media_type=media_type)


def single_values(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return a query's parameters as a dict. Raises :class:`ValueError` for a parameter given twice:
    which of the two counts differs between parsers (and caches), so neither is guessed."""
    query: dict[str, str] = {}
    for name, value in pairs:
        if name in query:
            raise ValueError(f"query parameter {name} is given more than once")
        query[name] = value
    return query


def _only(query: Mapping[str, str], *names: str) -> None:
    unknown = sorted(set(query) - set(names))
    if unknown:  # a misspelt size or to would silently give another proof
        raise ValueError(f"unknown query parameter {unknown[0][:40]!r} (this proof takes {' and '.join(names)})")


def _optional(query: Mapping[str, str], name: str, low: int) -> int | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 19 or not low <= int(value) <= MAX_SIZE:
        raise ValueError(f"query parameter {name} must be a whole number of at least {low}")
    return int(value)


def _required(query: Mapping[str, str], name: str, low: int) -> int:
    value = _optional(query, name, low)
    if value is None:
        raise ValueError(f"query parameter {name} is required")
    return value


async def _answer(call: Callable[[], Awaitable[Response]]) -> Response:
    try:
        return await call()
    except (ValueError, TreeSizeError) as error:
        return problem_response("invalid-request", str(error))
    except EntryNotFound:
        return problem_response("not-found", "no such entry in this log")
    except LedgerUnavailable:
        return problem_response("ledger-unavailable", "the log cannot be read right now; try again later")
    except LedgerError as error:
        return problem_response("ledger-unavailable", str(error))


async def checkpoint_response(log: AsyncProofLog) -> Response:
    """Return the current signed checkpoint as ``text/plain; charset=utf-8``."""

    async def call() -> Response:
        signed = await log.checkpoint()
        return Response(signed.note, 200, _FRESH, media_type="text/plain; charset=utf-8")

    return await _answer(call)


async def keys_response(log: AsyncProofLog) -> Response:
    """Return the log's key set as ``application/jwk-set+json``."""
    return _json(log.jwks(), {**_PUBLIC, "Cache-Control": "public, max-age=300"}, "application/jwk-set+json")


async def inclusion_response(log: AsyncProofLog, query: Mapping[str, str]) -> Response:
    """Return the inclusion proof of ``entry`` in the tree of ``size`` entries (default: now) as JSON."""

    async def call() -> Response:
        _only(query, "entry", "size")
        entry, size = _required(query, "entry", 1), _optional(query, "size", 1)
        return _json(await log.inclusion(entry, size), _FRESH if size is None else _FOREVER)

    return await _answer(call)


async def consistency_response(log: AsyncProofLog, query: Mapping[str, str]) -> Response:
    """Return the consistency proof from tree size ``from`` to ``to`` (default: now) as JSON."""

    async def call() -> Response:
        _only(query, "from", "to")
        old, new = _required(query, "from", 0), _optional(query, "to", 0)
        return _json(await log.consistency(old, new), _FRESH if new is None else _FOREVER)

    return await _answer(call)


def routes(log: AsyncProofLog, prefix: str = "/ugc-guard") -> list[Route]:
    """Return Starlette routes for the four endpoints under ``prefix`` (for an app of its own or tests)."""

    async def checkpoint(request: Request) -> Response:
        return await checkpoint_response(log)

    async def keys(request: Request) -> Response:
        return await keys_response(log)

    async def inclusion(request: Request) -> Response:
        try:
            return await inclusion_response(log, single_values(request.query_params.multi_items()))
        except ValueError as error:
            return problem_response("invalid-request", str(error))

    async def consistency(request: Request) -> Response:
        try:
            return await consistency_response(log, single_values(request.query_params.multi_items()))
        except ValueError as error:
            return problem_response("invalid-request", str(error))

    return [
        Route(f"{prefix}/checkpoint", checkpoint, methods=["GET"]),
        Route(f"{prefix}/keys", keys, methods=["GET"]),
        Route(f"{prefix}/proof/inclusion", inclusion, methods=["GET"]),
        Route(f"{prefix}/proof/consistency", consistency, methods=["GET"]),
    ]
