"""A presentation from the test wallet verifies; one hostile presentation per check is refused with its reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.agecheck.conftest import ORIGIN, new_session
from tests.agecheck.wallet import (
    Issuer,
    encode,
    issue,
    make_ca,
    make_issuer,
    new_key,
    now,
    present,
    response,
    sign1,
)  # fmt: skip
from ugc_guard.agecheck import AgeProofError, Reason, Session, TrustList, verify_presentation


def refused(presentation: str, session: Session, trust: TrustList, at: dt.datetime | None = None) -> AgeProofError:
    with pytest.raises(AgeProofError) as caught:
        verify_presentation(presentation, session, trust, at or now())
    return caught.value


def test_a_valid_presentation_proves_the_band(issuer: Issuer, trust: TrustList, session: Session) -> None:
    expires = now() + dt.timedelta(days=90)
    credential = issue(issuer, {"age_over_18": True}, valid_until=expires)
    proof = verify_presentation(present(credential, origin=ORIGIN, nonce=session.nonce), session, trust, now())
    assert (proof.band, proof.outcome, proof.years_to_majority) == ("18+", "alone", 0)
    assert (proof.method, proof.assurance) == ("eu-age-verification", "eu-age-verification")
    assert proof.issuer == "CN=Test AV DS 001,O=Test AV Provider,C=EU"
    assert proof.attestation_expires == expires


@pytest.mark.parametrize("alg", ["ES384", "EdDSA"])
def test_other_accepted_algorithms_verify(alg: str, session: Session) -> None:
    other = make_issuer(alg=alg)
    credential = issue(other, {"age_over_18": True}, device_key=new_key(alg))
    proof = verify_presentation(present(credential, origin=ORIGIN, nonce=session.nonce), session, TrustList.from_pem([other.ca_pem()]), now())
    assert proof.band == "18+"


def test_a_minor_in_the_guardian_band_is_told_apart(issuer: Issuer, trust: TrustList) -> None:
    session = new_session((18, 16))
    credential = issue(issuer, {"age_over_18": False, "age_over_16": True})
    proof = verify_presentation(present(credential, origin=ORIGIN, nonce=session.nonce), session, trust, now())
    assert (proof.band, proof.outcome, proof.years_to_majority) == ("16-17", "with-guardian", 2)


def test_an_adult_needs_only_the_higher_claim_even_when_both_were_asked(issuer: Issuer, trust: TrustList) -> None:
    session = new_session((18, 16))
    credential = issue(issuer, {"age_over_18": True, "age_over_16": True})
    presentation = present(credential, origin=ORIGIN, nonce=session.nonce, disclose=["age_over_18"])
    assert verify_presentation(presentation, session, trust, now()).band == "18+"


def test_untrusted_ca(session: Session, trust: TrustList) -> None:
    stranger = make_issuer(ca=make_ca("Some Other CA"))
    error = refused(present(issue(stranger, {"age_over_18": True}), origin=ORIGIN, nonce=session.nonce), session, trust)
    assert error.reason is Reason.untrusted_issuer
    assert "Some Other CA" in error.detail


def test_a_forged_ca_with_the_trusted_name_breaks_the_chain(session: Session, trust: TrustList) -> None:
    forger = make_issuer(ca=make_ca("Test AV IACA"))
    error = refused(present(issue(forger, {"age_over_18": True}), origin=ORIGIN, nonce=session.nonce), session, trust)
    assert error.reason is Reason.chain_invalid


def test_an_expired_signer_certificate_breaks_the_chain(session: Session) -> None:
    ca = make_ca()
    lapsed = make_issuer(ca=ca, signer_not_after=now() - dt.timedelta(days=1))
    error = refused(present(issue(lapsed, {"age_over_18": True}), origin=ORIGIN, nonce=session.nonce), session, TrustList([ca[1]]))
    assert error.reason is Reason.chain_invalid
    assert "expired" in error.detail


@pytest.mark.parametrize("options", [{"signer_key_usage": False}, {"signer_is_ca": True}])
def test_a_signer_certificate_unfit_for_signing_breaks_the_chain(options: dict[str, bool], session: Session) -> None:
    ca = make_ca()
    unfit = make_issuer(ca=ca, **options)
    error = refused(present(issue(unfit, {"age_over_18": True}), origin=ORIGIN, nonce=session.nonce), session, TrustList([ca[1]]))
    assert error.reason is Reason.chain_invalid


def test_issuer_signature_over_another_mso(issuer: Issuer, trust: TrustList, session: Session) -> None:
    credential = issue(issuer, {"age_over_18": True})
    other = issue(issuer, {"age_over_18": True}, valid_until=now() + dt.timedelta(days=9000))
    credential.issuer_auth[2] = other.issuer_auth[2]  # a longer-lived MSO under the first one's signature
    error = refused(present(credential, origin=ORIGIN, nonce=session.nonce), session, trust)
    assert error.reason is Reason.issuer_signature


def test_mso_signed_by_a_key_other_than_the_certificates(issuer: Issuer, trust: TrustList, session: Session) -> None:
    credential = issue(issuer, {"age_over_18": True})
    resigned = sign1(new_key(), "ES256", credential.issuer_auth[2], credential.issuer_auth[1])
    credential.issuer_auth = resigned
    assert refused(present(credential, origin=ORIGIN, nonce=session.nonce), session, trust).reason is Reason.issuer_signature


def test_a_refused_algorithm(issuer: Issuer, trust: TrustList, session: Session) -> None:
    credential = issue(issuer, {"age_over_18": True})
    credential.issuer_auth[0] = cbor2.dumps({1: -257})  # RS256 claimed in the protected header
    error = refused(present(credential, origin=ORIGIN, nonce=session.nonce), session, trust)
    assert error.reason is Reason.issuer_signature
    assert "-257" in error.detail


def test_expired_mso(issuer: Issuer, trust: TrustList, session: Session) -> None:
    credential = issue(issuer, {"age_over_18": True}, valid_from=now() - dt.timedelta(days=100), valid_until=now() - dt.timedelta(days=1))
    assert refused(present(credential, origin=ORIGIN, nonce=session.nonce), session, trust).reason is Reason.mso_expired


def test_mso_not_yet_valid(issuer: Issuer, trust: TrustList, session: Session) -> None:
    credential = issue(issuer, {"age_over_18": True}, valid_from=now() + dt.timedelta(days=1))
    assert refused(present(credential, origin=ORIGIN, nonce=session.nonce), session, trust).reason is Reason.mso_not_yet_valid


def _retag(item: cbor2.CBORTag, **changes: Any) -> cbor2.CBORTag:
    return cbor2.CBORTag(24, cbor2.dumps({**cbor2.loads(item.value), **changes}))


def test_tampered_value_fails_its_digest(issuer: Issuer, trust: TrustList) -> None:
    session = new_session((18, 16))
    credential = issue(issuer, {"age_over_18": False, "age_over_16": True})
    credential.items["eu.europa.ec.av.1"][0] = _retag(credential.items["eu.europa.ec.av.1"][0], elementValue=True)
    error = refused(present(credential, origin=ORIGIN, nonce=session.nonce), session, trust)
    assert error.reason is Reason.value_digest
    assert "age_over_18" in error.detail


def test_an_element_moved_to_another_digest_id_fails(issuer: Issuer, trust: TrustList, session: Session) -> None:
    credential = issue(issuer, {"age_over_18": True, "age_in_years": 19})
    credential.items["eu.europa.ec.av.1"][0] = _retag(credential.items["eu.europa.ec.av.1"][0], digestID=1)
    assert refused(present(credential, origin=ORIGIN, nonce=session.nonce), session, trust).reason is Reason.value_digest


def test_wrong_doctype(issuer: Issuer, trust: TrustList, session: Session) -> None:
    credential = issue(issuer, {"age_over_18": True}, doctype="org.iso.18013.5.1.mDL")
    error = refused(present(credential, origin=ORIGIN, nonce=session.nonce), session, trust)
    assert error.reason is Reason.doctype
    assert "org.iso.18013.5.1.mDL" in error.detail


def test_document_doctype_that_the_mso_does_not_back(issuer: Issuer, trust: TrustList, session: Session) -> None:
    credential = issue(issuer, {"age_over_18": True}, mso_doctype="org.iso.18013.5.1.mDL")
    assert refused(present(credential, origin=ORIGIN, nonce=session.nonce), session, trust).reason is Reason.doctype


def test_presentation_for_another_nonce(issuer: Issuer, trust: TrustList, session: Session) -> None:
    presentation = present(issue(issuer, {"age_over_18": True}), origin=ORIGIN, nonce=new_session().nonce)
    error = refused(presentation, session, trust)
    assert error.reason is Reason.device_signature
    assert ORIGIN in error.detail


def test_presentation_for_another_origin(issuer: Issuer, trust: TrustList, session: Session) -> None:
    presentation = present(issue(issuer, {"age_over_18": True}), origin="https://evil.example", nonce=session.nonce)
    assert refused(presentation, session, trust).reason is Reason.device_signature


def test_device_key_other_than_the_attested_one(issuer: Issuer, trust: TrustList, session: Session) -> None:
    presentation = present(issue(issuer, {"age_over_18": True}), origin=ORIGIN, nonce=session.nonce, signing_key=new_key())
    assert refused(presentation, session, trust).reason is Reason.device_signature


def test_claim_false(issuer: Issuer, trust: TrustList, session: Session) -> None:
    presentation = present(issue(issuer, {"age_over_18": False}), origin=ORIGIN, nonce=session.nonce)
    error = refused(presentation, session, trust)
    assert error.reason is Reason.claim_false
    assert "not over 18" in error.detail


def test_under_the_guardian_band_is_claim_false(issuer: Issuer, trust: TrustList) -> None:
    session = new_session((18, 16))
    presentation = present(issue(issuer, {"age_over_18": False, "age_over_16": False}), origin=ORIGIN, nonce=session.nonce)
    assert refused(presentation, session, trust).reason is Reason.claim_false


@pytest.mark.parametrize(("claims", "disclose"), [({"age_over_18": True}, []), ({"age_over_21": True}, None)])
def test_claim_missing(claims: dict[str, bool], disclose: list[str] | None, issuer: Issuer, trust: TrustList, session: Session) -> None:
    presentation = present(issue(issuer, claims), origin=ORIGIN, nonce=session.nonce, disclose=disclose)
    error = refused(presentation, session, trust)
    assert error.reason is Reason.claim_missing
    assert "age_over_18" in error.detail


def test_claim_in_another_namespace_is_missing(issuer: Issuer, trust: TrustList, session: Session) -> None:
    presentation = present(issue(issuer, {"age_over_18": True}, namespace="org.iso.18013.5.1"), origin=ORIGIN, nonce=session.nonce)
    assert refused(presentation, session, trust).reason is Reason.claim_missing


def test_claim_that_is_not_a_boolean(issuer: Issuer, trust: TrustList, session: Session) -> None:
    presentation = present(issue(issuer, {"age_over_18": 1}), origin=ORIGIN, nonce=session.nonce)
    assert refused(presentation, session, trust).reason is Reason.malformed


def test_device_mac_is_refused(issuer: Issuer, trust: TrustList, session: Session) -> None:
    mapped = response(issue(issuer, {"age_over_18": True}), origin=ORIGIN, nonce=session.nonce)
    mapped["documents"][0]["deviceSigned"]["deviceAuth"] = {"deviceMac": [b"", {}, None, b"\x00" * 32]}
    assert refused(encode(mapped), session, trust).reason is Reason.device_signature


def test_no_document_is_claim_missing(issuer: Issuer, trust: TrustList, session: Session) -> None:
    empty = {"version": "1.0", "documents": [], "status": 0}
    assert refused(encode(empty), session, trust).reason is Reason.claim_missing


def test_a_signature_of_the_wrong_length_is_not_an_exception(issuer: Issuer, trust: TrustList, session: Session) -> None:
    credential = issue(issuer, {"age_over_18": True})
    credential.issuer_auth[3] = credential.issuer_auth[3][:-1]
    assert refused(present(credential, origin=ORIGIN, nonce=session.nonce), session, trust).reason is Reason.issuer_signature


def test_device_key_off_the_curve_is_malformed(issuer: Issuer, trust: TrustList, session: Session) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    credential = issue(issuer, {"age_over_18": True}, device_key=key)
    mso = cbor2.loads(cbor2.loads(credential.issuer_auth[2]).value)
    mso["deviceKeyInfo"]["deviceKey"][-3] = b"\x01" * 32
    credential.issuer_auth = sign1(issuer.signer_key, "ES256", cbor2.dumps(cbor2.CBORTag(24, cbor2.dumps(mso))), credential.issuer_auth[1])
    error = refused(present(credential, origin=ORIGIN, nonce=session.nonce), session, trust)
    assert error.reason is Reason.malformed
    assert "deviceKey" in error.detail


def test_bands_are_the_gates_own_labels(issuer: Issuer, trust: TrustList) -> None:
    from ugc_guard.rules.age import AgeOutcome, AgeRule, band_labels

    labels = band_labels(AgeRule(minimum=18, guardian_minimum=16))
    session = new_session((18, 16))
    adult = verify_presentation(present(issue(issuer, {"age_over_18": True}), origin=ORIGIN, nonce=session.nonce), session, trust, now())
    minor_claims = {"age_over_18": False, "age_over_16": True}
    minor = verify_presentation(present(issue(issuer, minor_claims), origin=ORIGIN, nonce=session.nonce), session, trust, now())
    assert [(adult.band, adult.outcome), (minor.band, minor.outcome)] == [
        (labels[0], AgeOutcome.alone),
        (labels[1], AgeOutcome.with_guardian),
    ]
