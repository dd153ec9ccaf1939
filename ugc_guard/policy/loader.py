"""Read policy YAML files into :class:`Policy` objects, with one-line errors naming file and field."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .models import Policy

__all__ = ["PolicyError", "load_policies", "load_policy"]

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_.+/-]+$")
_ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class PolicyError(Exception):
    """A policy file that cannot be used; ``lines`` holds one message per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def load_policy(path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None) -> Policy:
    """Load one policy file.

    Returns the validated, frozen :class:`Policy`. Raises :class:`PolicyError` whose lines read
    ``FILE: field.path: what is wrong; what to do``.
    """
    file = Path(path)
    data = _read_yaml(file)
    env = os.environ if environ is None else environ
    errors: list[str] = []
    data = _interpolate(data, env, (), file, errors)
    if errors:
        raise PolicyError(errors)
    try:
        return Policy.model_validate(data, context={"base_dir": file.parent.resolve()})
    except ValidationError as error:
        raise PolicyError([f"{file}: {line}" for line in _describe(error)]) from None


def load_policies(folder: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None) -> list[Policy]:
    """Load every ``*.yaml`` / ``*.yml`` file in ``folder`` (sorted by name).

    Raises :class:`PolicyError` with the errors of all files, including campaign ids or host names
    that two files both claim.
    """
    directory = Path(folder)
    if not directory.is_dir():
        raise PolicyError([f"{directory}: not a folder of policy files; pass a folder or use load_policy for one file"])
    files = sorted(p for p in directory.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())
    if not files:
        raise PolicyError([f"{directory}: no *.yaml policy files found"])
    policies: list[Policy] = []
    errors: list[str] = []
    seen_ids: dict[str, Path] = {}
    seen_hosts: dict[str, Path] = {}
    for file in files:
        try:
            policy = load_policy(file, environ=environ)
        except PolicyError as error:
            errors.extend(error.lines)
            continue
        if (other := seen_ids.setdefault(policy.campaign.id, file)) != file:
            errors.append(f"{file}: campaign.id: {policy.campaign.id!r} is already used by {other}; campaign ids must be unique")
        for host in policy.campaign.hosts:
            if (other := seen_hosts.setdefault(host, file)) != file:
                errors.append(f"{file}: campaign.hosts: {host!r} is already served by {other}; a host belongs to one campaign")
        policies.append(policy)
    if errors:
        raise PolicyError(errors)
    return policies


def _read_yaml(file: Path) -> Any:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError([f"{file}: file not found; check the path"]) from None
    except IsADirectoryError:
        raise PolicyError([f"{file}: is a folder; name a policy file, or pass policies= for a folder"]) from None
    except UnicodeDecodeError:
        raise PolicyError([f"{file}: not UTF-8 text; save the policy as UTF-8"]) from None
    except OSError as error:
        raise PolicyError([f"{file}: cannot be read ({error.strerror}); check its permissions"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise PolicyError([f"{file}{where}: invalid YAML: {problem}; fix the syntax there"]) from None
    if not isinstance(data, dict):
        raise PolicyError([f"{file}: a policy must be a YAML mapping with campaign, controller, terms, licence and uploads"])
    return data


def _interpolate(value: Any, env: Mapping[str, str], loc: tuple[Any, ...], file: Path, errors: list[str]) -> Any:
    if isinstance(value, dict):
        return {key: _interpolate(item, env, (*loc, key), file, errors) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, env, (*loc, index), file, errors) for index, item in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        errors.append(f"{file}: {_dotted(loc)}: environment variable {name} is not set; set it, or write ${{{name}:-default}}")
        return ""

    return _ENV_RE.sub(substitute, value)


def _dotted(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        name = str(part)
        if not _PLAIN_KEY.match(name):  # a key with line breaks or odd characters must not break the one-line format
            name = json.dumps(name, ensure_ascii=True)
        text += f".{name}" if text else name
    return text or "(top level)"


def _describe(error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors(include_url=False):
        loc = tuple(part for part in item["loc"] if not (isinstance(part, str) and _is_union_tag(part)))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            hint = f"; allowed here: {', '.join(allowed)}" if allowed else ""
            message = f"unknown key; remove it or fix its spelling{hint}"
        elif item["type"] == "missing":
            message = "is required; add it"
        lines.append(f"{_dotted(loc)}: {message}")
    return lines


def _is_union_tag(part: str) -> bool:
    # pydantic inserts the tried union member ("IPv4Network", "function-after[...]") into error locations
    return part[:1].isupper() or "[" in part


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model: Any = Policy
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if isinstance(model, type) and issubclass(model, BaseModel) else None
        if field is None:
            return []
        model = _model_of(field.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None
