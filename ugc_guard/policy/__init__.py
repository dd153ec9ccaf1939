"""Campaign policies: models, YAML loading and the JSON Schema."""

from __future__ import annotations

from .loader import PolicyError, load_policies, load_policy
from .models import Policy

__all__ = ["Policy", "PolicyError", "load_policies", "load_policy"]
