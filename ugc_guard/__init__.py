"""ugc_guard: one ASGI middleware that makes user uploads legally usable and scrapers unwelcome.

The names below are imported on first use (PEP 562): ``import ugc_guard`` alone loads nothing heavy,
so the command line and tools that need one part (the policy, the ledger) start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .ledger import Ledger
    from .middleware import UGCGuard
    from .policy import Policy, PolicyError, load_policies, load_policy
    from .problems import Problem

__all__ = ["Ledger", "Policy", "PolicyError", "Problem", "UGCGuard", "load_policies", "load_policy"]
__version__ = "0.1.0"

_HOMES = {
    "Ledger": ".ledger",
    "UGCGuard": ".middleware",
    "Policy": ".policy",
    "PolicyError": ".policy",
    "load_policies": ".policy",
    "load_policy": ".policy",
    "Problem": ".problems",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ugc_guard' has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value  # once found, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
