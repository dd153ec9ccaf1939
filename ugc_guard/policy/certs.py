"""CA certificate files named in a policy (``age.trusted_issuers``), read and checked once at load time."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo, WithJsonSchema

__all__ = ["CaCertificates", "LoadedCertificates"]

MAX_FILE = 256 * 1024


class LoadedCertificates(BaseModel):
    """The CA certificates of one PEM file: their PEM text, subjects and SHA-256 fingerprints."""

    model_config = ConfigDict(frozen=True)
    path: Path
    pem: str
    subjects: tuple[str, ...]
    sha256: tuple[str, ...]


def _load(value: Any, info: ValidationInfo) -> LoadedCertificates:
    if isinstance(value, LoadedCertificates):
        return value
    if not isinstance(value, str | Path) or not str(value).strip():
        raise ValueError("expected the path of a PEM file of CA certificates, relative to the policy file")
    path = (Path((info.context or {}).get("base_dir", ".")) / value).resolve()
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE + 1)
    except FileNotFoundError:
        raise ValueError(f"certificate file {path} does not exist; put the issuing CA's PEM certificate there or fix the path") from None
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder; name the PEM certificate file itself") from None
    except OSError as error:
        raise ValueError(f"certificate file {path} cannot be read ({error.strerror}); check its permissions") from None
    if len(data) > MAX_FILE:
        raise ValueError(f"certificate file {path} is larger than {MAX_FILE // 1024} KiB; it should hold a few CA certificates")
    try:
        certificates = x509.load_pem_x509_certificates(data)
        extensions = [certificate.extensions for certificate in certificates]
        subjects = tuple(certificate.subject.rfc4514_string() for certificate in certificates)
    except (ValueError, x509.InvalidVersion):
        raise ValueError(f"{path} holds no readable PEM certificate (-----BEGIN CERTIFICATE-----); export the CA certificate as PEM") from None
    for certificate, extension in zip(certificates, extensions, strict=True):
        try:
            is_ca = extension.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if not is_ca:
            raise ValueError(
                f"{path}: {certificate.subject.rfc4514_string()!r} is not a CA certificate (no basicConstraints CA:TRUE); "
                "name the issuing CA's certificate, not a document signer's"
            )
    return LoadedCertificates(
        path=path,
        pem="".join(certificate.public_bytes(Encoding.PEM).decode("ascii") for certificate in certificates),
        subjects=subjects,
        sha256=tuple(hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest() for certificate in certificates),
    )


CaCertificates = Annotated[
    LoadedCertificates,
    BeforeValidator(_load),
    WithJsonSchema({"type": "string", "description": "Path of a PEM file of CA certificates, relative to the policy file."}),
]
