"""The base model every policy section derives from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A frozen policy section that refuses unknown keys (a typo must never be silently ignored)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)
