"""The ``secret`` setting: one secret, or a list of them newest first, and retired public key files.

A list is how secrets rotate: what is made (cookies, form tokens, wrapped subject keys, signatures)
is made with the first secret; what is opened is opened with any. An entry that resolves to an
empty string (``${UGC_GUARD_OLD_SECRET:-}`` with the variable unset) is dropped, so a policy can keep
the slot; a list left empty means no secret at all.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Discriminator, SecretStr, Tag, ValidationInfo, WithJsonSchema

from .types import LoadedText

__all__ = ["JwkFile", "SecretSetting", "drop_empty_secrets", "secret_bytes"]

MIN_LENGTH = 16


def _long_enough(value: SecretStr) -> SecretStr:
    # "" survives here only inside a list (a slot whose variable is unset); drop_empty_secrets removes it
    if 0 < len(value.get_secret_value()) < MIN_LENGTH:
        raise ValueError(
            f"the secret must be at least {MIN_LENGTH} characters; "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return value


def _shape(value: Any) -> str:
    # the tags start upper-case so the loader leaves them out of error locations (``secret[1]: …``)
    return "List" if isinstance(value, list | tuple) else "One"


_Secret = Annotated[SecretStr, AfterValidator(_long_enough)]

SecretSetting = Annotated[
    Annotated[_Secret, Tag("One")] | Annotated[tuple[_Secret, ...], Tag("List")],
    Discriminator(_shape),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "string", "minLength": MIN_LENGTH, "writeOnly": True},
                {"type": "array", "items": {"type": "string", "writeOnly": True}, "description": "newest first"},
            ]
        }
    ),
]
"""One secret, or a list of secrets newest first."""


def drop_empty_secrets(value: SecretStr | tuple[SecretStr, ...] | None) -> SecretStr | tuple[SecretStr, ...] | None:
    """Return the setting without empty list entries; an empty list becomes None (no secret)."""
    if isinstance(value, tuple):
        kept = tuple(item for item in value if item.get_secret_value())
        return kept or None
    return value


def secret_bytes(value: SecretStr | tuple[SecretStr, ...] | None) -> tuple[bytes, ...]:
    """Return the secrets of a setting as bytes, newest first; () when there is none."""
    if value is None:
        return ()
    items = value if isinstance(value, tuple) else (value,)
    return tuple(item.get_secret_value().encode() for item in items)


def _load_jwk_file(value: Any, info: ValidationInfo) -> LoadedText:
    if isinstance(value, LoadedText):
        return value
    if not isinstance(value, str | Path) or not str(value).strip():
        raise ValueError("expected the path of a JWK or JWKS file, relative to the policy file")
    path = (Path((info.context or {}).get("base_dir", ".")) / value).resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"key file {path} does not exist; save the key from GET {{prefix}}/keys before dropping its secret") from None
    except (OSError, UnicodeDecodeError):
        raise ValueError(f"key file {path} cannot be read as UTF-8 text; check the path and its permissions") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError(f"key file {path} is not JSON; it must hold a public JWK or a JWKS") from None
    keys = data.get("keys") if isinstance(data, dict) and "keys" in data else [data]
    if not isinstance(keys, list) or not keys or not all(isinstance(key, dict) and "kty" in key and "d" not in key for key in keys):
        raise ValueError(f"key file {path} must hold a public JWK or a JWKS of public keys (no private 'd')")
    return LoadedText(path=path, text=text, sha256=hashlib.sha256(text.encode()).hexdigest())


JwkFile = Annotated[
    LoadedText,
    BeforeValidator(_load_jwk_file),
    WithJsonSchema({"type": "string", "description": "Path of a JWK or JWKS file, relative to the policy file."}),
]
"""A file of public signing keys kept after their secret was dropped, read once at load time."""
