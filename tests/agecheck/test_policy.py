"""``age.method: eu-age-verification`` with ``age.trusted_issuers``: checked by ``ugc-guard policy check``, one line per problem."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import Encoding

from tests.agecheck.wallet import make_issuer
from ugc_guard.cli import main
from ugc_guard.policy import PolicyError, load_policy
from ugc_guard.policy.schema import policy_schema


def policy_with(policy_file: Callable[..., Path], age: dict[str, Any], files: dict[str, str | bytes] | None = None) -> Path:
    path = policy_file({"age": age})
    for name, content in (files or {}).items():
        (path.parent / name).write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def check(path: Path) -> tuple[int, list[str], str]:
    result = CliRunner().invoke(main, ["policy", "check", str(path)])
    return result.exit_code, result.stderr.splitlines(), result.stdout


def test_a_freshly_made_issuing_ca_passes_policy_check(policy_file: Callable[..., Path]) -> None:
    issuer = make_issuer()
    path = policy_with(policy_file, {"method": "eu-age-verification", "trusted_issuers": ["issuers/av-ca.pem"]})
    (path.parent / "issuers").mkdir()
    (path.parent / "issuers" / "av-ca.pem").write_text(issuer.ca_pem(), encoding="ascii")
    code, errors, out = check(path)
    assert (code, errors) == (0, [])
    assert out.startswith(f"{path}: ok")
    age = load_policy(path).age
    assert (age.method, age.assurance) == ("eu-age-verification", "eu-age-verification")
    [loaded] = age.trusted_issuers
    assert loaded.subjects == ("CN=Test AV IACA,O=Test AV Provider,C=EU",)
    assert loaded.path == (path.parent / "issuers" / "av-ca.pem").resolve()


def test_a_missing_pem_is_one_line_naming_file_and_field(policy_file: Callable[..., Path]) -> None:
    path = policy_with(policy_file, {"method": "eu-age-verification", "trusted_issuers": ["missing-ca.pem"]})
    code, errors, _ = check(path)
    assert code == 1
    assert errors == [
        f"{path}: age.trusted_issuers[0]: certificate file {(path.parent / 'missing-ca.pem').resolve()} does not exist; "
        "put the issuing CA's PEM certificate there or fix the path"
    ]


def test_a_document_signer_certificate_is_not_a_ca(policy_file: Callable[..., Path]) -> None:
    signer = make_issuer().signer.public_bytes(Encoding.PEM).decode()
    path = policy_with(policy_file, {"method": "eu-age-verification", "trusted_issuers": ["signer.pem"]}, {"signer.pem": signer})
    code, errors, _ = check(path)
    assert code == 1 and len(errors) == 1
    assert errors[0].startswith(f"{path}: age.trusted_issuers[0]: ")
    assert "'CN=Test AV DS 001,O=Test AV Provider,C=EU' is not a CA certificate" in errors[0]


@pytest.mark.parametrize("content", ["not a certificate\n", b"\x00\x01binary", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"])
def test_a_file_without_a_pem_certificate(content: str | bytes, policy_file: Callable[..., Path]) -> None:
    path = policy_with(policy_file, {"method": "eu-age-verification", "trusted_issuers": ["ca.pem"]}, {"ca.pem": content})
    code, errors, _ = check(path)
    assert code == 1 and len(errors) == 1
    assert errors[0].startswith(f"{path}: age.trusted_issuers[0]: ") and "holds no readable PEM certificate" in errors[0]


@pytest.mark.parametrize(
    ("age", "message"),
    [
        ({"method": "eu-age-verification"}, "age: method eu-age-verification needs trusted_issuers"),
        ({"method": "eu-age-verification", "trusted_issuers": ["ca.pem"], "assurance": "document"}, "age: assurance follows method"),
        ({"method": "birth_date", "trusted_issuers": ["ca.pem"]}, "age: trusted_issuers only applies to method eu-age-verification"),
        ({"method": "birth_date", "assurance": "eu-age-verification"}, "age: assurance eu-age-verification is not what method birth_date gives"),
    ],
)
def test_incoherent_age_sections_are_one_line_each(age: dict[str, Any], message: str, policy_file: Callable[..., Path]) -> None:
    path = policy_with(policy_file, age, {"ca.pem": make_issuer().ca_pem()})
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    [line] = caught.value.lines
    assert line.startswith(f"{path}: {message}")


def test_the_policy_with_certificates_dumps_to_json_and_matches_the_schema(policy_file: Callable[..., Path]) -> None:
    import jsonschema
    import yaml

    path = policy_with(policy_file, {"method": "eu-age-verification", "trusted_issuers": ["ca.pem"], "consent_age_by_country": True},
                       {"ca.pem": make_issuer().ca_pem()})  # fmt: skip
    policy = load_policy(path)
    assert policy.age.consent_age_by_country is True
    assert "BEGIN CERTIFICATE" in json.dumps(policy.model_dump(mode="json"))  # the policy digest covers the trust list
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["secret"] = "x" * 32
    jsonschema.validate(data, policy_schema())
