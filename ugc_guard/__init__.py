"""ugc_guard: one ASGI middleware that makes user uploads legally usable and scrapers unwelcome."""

from __future__ import annotations

from .ledger import Ledger
from .middleware import UGCGuard
from .policy import Policy, PolicyError, load_policies, load_policy
from .problems import Problem

__all__ = ["Ledger", "Policy", "PolicyError", "Problem", "UGCGuard", "load_policies", "load_policy"]
__version__ = "0.1.0"
