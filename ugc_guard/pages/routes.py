"""The route table type every page module contributes to: path -> (methods, handler)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.types import ASGIApp

if TYPE_CHECKING:
    from ..context import RequestContext

__all__ = ["Handler", "Route"]

Handler = Callable[["RequestContext"], Awaitable[ASGIApp]]
Route = tuple[tuple[str, ...], Handler]
