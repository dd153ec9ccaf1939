"""The policy's ``secret``: one string as before, or a list newest first; retired public key files."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from ugc_guard.ledger.signing import key_ring, retired_jwks
from ugc_guard.policy import PolicyError, load_policy
from ugc_guard.sites import Site

NEW, OLD = "new-secret-" + "n" * 16, "old-secret-" + "o" * 16
HINT = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"


def test_a_single_string_works_as_before(policy_file: Callable[..., Path]) -> None:
    policy = load_policy(policy_file({"secret": "${S}"}), environ={"S": NEW})
    assert isinstance(policy.secret, SecretStr) and policy.secret.get_secret_value() == NEW
    assert policy.secrets() == (NEW.encode(),)
    site = Site.build(policy)
    assert (site.secret, site.secrets) == (NEW.encode(), (NEW.encode(),))


def test_a_list_is_newest_first_and_unset_slots_are_dropped(policy_file: Callable[..., Path]) -> None:
    path = policy_file({"secret": ["${S}", "${UGC_GUARD_OLD_SECRET:-}", OLD]})
    policy = load_policy(path, environ={"S": NEW})
    assert policy.secrets() == (NEW.encode(), OLD.encode())
    site = Site.build(policy)
    assert (site.secret, site.secrets) == (NEW.encode(), (NEW.encode(), OLD.encode()))
    kept = load_policy(path, environ={"S": NEW, "UGC_GUARD_OLD_SECRET": "older-secret-" + "x" * 8})
    assert kept.secrets() == (NEW.encode(), b"older-secret-xxxxxxxx", OLD.encode())


@pytest.mark.parametrize("value", [[], ["${UGC_GUARD_OLD_SECRET:-}"], "${UGC_GUARD_SECRET:-}"])
def test_an_empty_list_or_unset_variable_means_no_secret(policy_file: Callable[..., Path], value: object) -> None:
    policy = load_policy(policy_file({"secret": value}), environ={})
    assert policy.secret is None and policy.secrets() == ()
    with pytest.raises(PolicyError, match="secret: no signing secret"):
        Site.build(policy)


@pytest.mark.parametrize(
    ("value", "lines"),
    [
        ("short", [f"secret: the secret must be at least 16 characters; {HINT}"]),
        ([NEW, "short"], [f"secret[1]: the secret must be at least 16 characters; {HINT}"]),
        (["tiny", "${UGC_GUARD_OLD_SECRET:-}", "also-short"],
         [f"secret[0]: the secret must be at least 16 characters; {HINT}", f"secret[2]: the secret must be at least 16 characters; {HINT}"]),
        ([NEW, 42], ["secret[1]: Input should be a valid string"]),
        ({"value": NEW}, ["secret: Input should be a valid string"]),
    ],
)
def test_errors_are_one_line_per_entry_naming_its_index(policy_file: Callable[..., Path], value: object, lines: list[str]) -> None:
    path = policy_file({"secret": value})
    with pytest.raises(PolicyError) as raised:
        load_policy(path, environ={})
    assert raised.value.lines == [f"{path}: {line}" for line in lines]


def test_retired_key_files_are_read_at_load_time(policy_file: Callable[..., Path], tmp_path: Path) -> None:
    old_ring = key_ring([OLD], "test-campaign")
    folder = tmp_path / "policy"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "old.jwks").write_text(json.dumps(old_ring.jwks()))
    (folder / "old.jwk").write_text(json.dumps(old_ring.jwks()["keys"][0]))
    policy = load_policy(policy_file({"secret": NEW, "ledger": {"retired_keys": ["old.jwks", "old.jwk"]}}), environ={})
    assert [key["kid"] for key in retired_jwks(policy)] == [old_ring.current.kid] * 2
    ring = key_ring(policy.secrets(), "test-campaign", retired=retired_jwks(policy))
    assert [(key["kid"], key["status"]) for key in ring.jwks()["keys"]] == [
        (key_ring([NEW], "test-campaign").current.kid, "current"), (old_ring.current.kid, "retired")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist; save the key from GET {prefix}/keys before dropping its secret"),
        ("not json", "is not JSON; it must hold a public JWK or a JWKS"),
        ('{"keys": []}', "must hold a public JWK or a JWKS of public keys (no private 'd')"),
        ('{"kty": "OKP", "crv": "Ed25519", "x": "AA", "d": "AA"}', "must hold a public JWK or a JWKS of public keys (no private 'd')"),
    ],
)
def test_bad_retired_key_files_are_one_line_errors(policy_file: Callable[..., Path], tmp_path: Path, content: str | None, message: str) -> None:
    folder = tmp_path / "policy"
    folder.mkdir(parents=True, exist_ok=True)
    if content is not None:
        (folder / "old.jwks").write_text(content)
    path = policy_file({"secret": NEW, "ledger": {"retired_keys": ["old.jwks"]}})
    with pytest.raises(PolicyError) as raised:
        load_policy(path, environ={})
    assert raised.value.lines == [f"{path}: ledger.retired_keys[0]: key file {(folder / 'old.jwks').resolve()} {message}"]
