"""The policy's JSON Schema and the Markdown reference generated from it."""

from __future__ import annotations

import json
from typing import Any

from .models import Policy

__all__ = ["policy_reference", "policy_schema"]


def policy_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of a policy file."""
    schema = Policy.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ugc_guard campaign policy"
    return schema


def policy_reference() -> str:
    """Return ``docs/policy-reference.md``: every key with its type, default and meaning, from the schema."""
    schema = policy_schema()
    defs = schema.get("$defs", {})
    lines = [
        "# Policy reference",
        "",
        "Generated from the policy models by `python -m ugc_guard.policy.schema`; do not edit by hand.",
        "A policy file is YAML; `${NAME}` and `${NAME:-default}` are replaced from the environment.",
        "",
    ]
    _section(lines, "(top level)", schema, defs, "")
    return "\n".join(lines) + "\n"


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        return _definition(node["$ref"], defs)
    for key in ("anyOf", "allOf"):
        for option in node.get(key, []):
            if "$ref" in option:
                return _definition(option["$ref"], defs)
    return node


def _definition(ref: str, defs: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = defs[ref.rsplit("/", 1)[-1]]
    return found


def _type(node: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in node:
        return str(node["$ref"]).rsplit("/", 1)[-1]
    if "enum" in node:
        return " | ".join(json.dumps(v) for v in node["enum"])
    if "const" in node:
        return json.dumps(node["const"])
    for key in ("anyOf", "oneOf"):
        if key in node:
            return " or ".join(_type(option, defs) for option in node[key])
    kind = node.get("type", "any")
    if kind == "array":
        return f"list of {_type(node.get('items', {}), defs)}"
    if kind == "object" and "additionalProperties" in node:
        return f"map of {_type(node['additionalProperties'], defs)}"
    return str(kind)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _section(lines: list[str], title: str, node: dict[str, Any], defs: dict[str, Any], path: str) -> None:
    properties = node.get("properties", {})
    required = set(node.get("required", []))
    lines += [f"## `{title}`", ""]
    if node.get("description") and path:
        lines += [node["description"], ""]
    lines += ["| key | type | default | meaning |", "|---|---|---|---|"]
    children: list[tuple[str, dict[str, Any]]] = []
    for name, prop in properties.items():
        value = prop.get("default")
        default = "required" if name in required else "see below" if isinstance(value, dict) else json.dumps(value, ensure_ascii=False)
        meaning = (prop.get("description") or "").replace("\n", " ")
        lines.append(f"| `{name}` | {_cell(_type(prop, defs))} | {_cell(default)} | {_cell(meaning)} |")
        target = _resolve(prop.get("items", prop) if prop.get("type") == "array" else prop, defs)
        if target.get("properties"):
            children.append((name, target))
    lines.append("")
    for name, child in children:
        _section(lines, f"{path}{name}", child, defs, f"{path}{name}.")


if __name__ == "__main__":
    print(policy_reference(), end="")
