"""Judging what a person declares when accepting: terms version, ticks, age, guardian addresses.

:func:`settle` returns the age result and guardian addresses or raises :class:`AcceptRefusal` (a problem
code plus the page message). It holds a new age band against the subject's earlier one
(:mod:`.redeclare`: a band cannot be talked up) and a guardian address against the minor's own
(:mod:`.mailboxes`). With ``age.method: eu-age-verification`` the age is the subject's recorded
attestation (:func:`attested_result`), never something typed. Nothing here reads the request;
nothing is recorded but a lower age band.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from ..ledger import AgeResult
from ..policy.age import AgeMethod
from ..problems import Problem
from ..rules.age import AgeError, AgeJudgement, AgeOutcome, AgeRule, age_on, band_labels, judge_band, judge_birth_date, parse_birth_date
from ..rules.consent_ages import consent_age, guardian_need
from ..rules.mailboxes import mailbox_key, normalise_address, same_mailbox
from ..rules.redeclare import Declared, RecentRefusals, band_range, contradicts, strength
from ..rules.standing import Standing

if TYPE_CHECKING:
    from .service import Gate

__all__ = ["AcceptInput", "AcceptRefusal", "FieldError", "settle"]

_REFUSED: WeakKeyDictionary[Gate, RecentRefusals] = WeakKeyDictionary()
"""Per gate: bands refused as too young, in this process (see :class:`RecentRefusals`)."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One thing wrong with a form: the ``field`` (the input's id, None for the form as a whole), the
    page message ``key`` with its ``values``, the problem ``code`` and the API ``detail``."""

    field: str | None
    key: str
    code: str
    detail: str
    values: dict[str, Any] = dataclasses.field(default_factory=dict)


class AcceptRefusal(Problem):
    """A refused acceptance: a :class:`Problem` (the first error's code and detail) that also carries
    every error found (:attr:`errors`, for the page) and the first one's message ``key`` and values."""

    def __init__(self, code: str, key: str, detail: str, *, errors: list[FieldError] | None = None, **values: Any) -> None:
        super().__init__(code, detail)
        self.key, self.values = key, values
        self.errors = errors or [FieldError(None, key, code, detail, values)]

    @classmethod
    def of(cls, errors: list[FieldError]) -> AcceptRefusal:
        first = errors[0]
        return cls(first.code, first.key, first.detail, errors=errors, **first.values)


@dataclass(frozen=True, slots=True)
class AcceptInput:
    terms_version: str
    accept_terms: bool
    accept_licence: bool
    birth_date: str | None
    age_band: str | None
    guardian_emails: tuple[str, ...]
    lang: str | None
    own_email: str | None = None
    """The minor's own address (optional): a guardian address reaching the same mailbox is refused."""
    country: str | None = None
    """Country of residence (ISO 3166-1 alpha-2), asked where the policy sets ``age.consent_age_by_country``."""


def attested_result(standing: Standing, rule: AgeRule) -> AgeJudgement:
    """Return the age result of the subject's recorded attestation (method ``eu-age-verification``).

    Raises :class:`AcceptRefusal` ``age-not-verified`` when the recorded band (if any) did not come from an
    attestation. A band the policy no longer admits is the ``refused`` outcome.
    """
    if standing.age_band is None or standing.age_assurance != AgeMethod.eu_age_verification:
        raise AcceptRefusal(
            "age-not-verified", "err_not_attested",
            "this campaign checks age with a Proof of Age attestation: present one through the age/request and "
            "age/response endpoints (the terms page's button) before accepting",
        )  # fmt: skip
    labels = band_labels(rule)
    if standing.age_band == labels[0]:
        return AgeJudgement(standing.age_band, AgeOutcome.alone, 0)
    if rule.guardian_minimum is not None and standing.age_band == labels[1]:
        return AgeJudgement(standing.age_band, AgeOutcome.with_guardian, rule.minimum - rule.guardian_minimum)
    return AgeJudgement(standing.age_band, AgeOutcome.refused, 0)


def _age(gate: Gate, given: AcceptInput, standing: Standing, today: _dt.date) -> tuple[AgeJudgement | None, int]:
    """Return the age result by the policy's method (None for ``external``) and the youngest age it
    admits: the age in years from a birth date, the lowest age of a band otherwise."""
    method = gate.policy.age.method
    try:
        if method == AgeMethod.birth_date:
            birth = parse_birth_date(given.birth_date or "", today)
            return judge_birth_date(birth, today, gate.age_rule), age_on(birth, today)
        if method == AgeMethod.age_band:
            result = judge_band(given.age_band or "", gate.age_rule)
        elif method == AgeMethod.eu_age_verification:
            result = attested_result(standing, gate.age_rule)
        else:
            return None, 0  # "external": the app records the age result itself
    except AgeError as error:
        code = "invalid-request" if error.reason == "age-band-unknown" else "birth-date-invalid"
        place = "age_band_0" if error.reason == "age-band-unknown" else "birth_day"
        key = "err_birth-date-missing" if method == AgeMethod.birth_date and not (given.birth_date or "").strip() else f"err_{error.reason}"
        raise AcceptRefusal.of([FieldError(place, key, code, str(error))]) from None
    return result, band_range(result.band)[0]


def _country(gate: Gate, given: AcceptInput) -> str | None:
    """Return the country of residence when the policy asks for it; raises :class:`AcceptRefusal` for one that is not a code."""
    if not gate.policy.age.consent_age_by_country or not (given.country or "").strip():
        return None
    code = (given.country or "").strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        detail = "country must be an ISO 3166-1 alpha-2 code such as NL, or empty"
        raise AcceptRefusal.of([FieldError("country", "err_country", "invalid-request", detail)])
    return code


def _judge(
    gate: Gate, given: AcceptInput, standing: Standing, today: _dt.date, *, require_licence: bool, own: list[str]
) -> tuple[AgeJudgement | None, list[str]]:
    """Return the age result and the normalised guardian e-mails, or raise :class:`AcceptRefusal`.

    ``own`` holds the addresses known to be the person's own (from the app); ``given.own_email`` is added.
    A guardian is needed for the licence below ``age.minimum`` and, with ``age.consent_age_by_country``,
    for the personal data below the consent age of the person's country (:mod:`ugc_guard.rules.consent_ages`).
    """
    if given.terms_version != gate.terms_rule.version:
        raise AcceptRefusal("terms-version-mismatch", "err_version", f"terms_version must be the current version {gate.terms_rule.version!r}")
    errors: list[FieldError] = []
    if not given.accept_terms:
        errors.append(FieldError("accept_terms", "err_accept_terms", "invalid-request", "accept_terms must be true"))
    if require_licence and not given.accept_licence:
        errors.append(FieldError("accept_licence", "err_accept_licence", "invalid-request", "accept_licence must be true"))
    country: str | None = None
    result: AgeJudgement | None = None
    youngest = 0
    for step in ("country", "age"):  # every field is judged, so the page can show every error at once
        try:
            if step == "country":
                country = _country(gate, given)
            else:
                result, youngest = _age(gate, given, standing, today)
        except AcceptRefusal as refusal:
            errors += refusal.errors
    if errors:
        if result is None:  # the age is unknown yet: addresses given are still checked, so no error waits for a second round
            errors += _address_errors(given)
        raise AcceptRefusal.of(errors)
    age = gate.policy.age
    need = guardian_need(youngest, age.minimum, country, age.consent_age_by_country)
    if result is not None and result.outcome is AgeOutcome.alone and need.personal_data:
        # of age for the licence, not yet for consenting alone to the processing of personal data where they live
        result = AgeJudgement(result.band, AgeOutcome.with_guardian, consent_age(country) - youngest)
    if result is not None and result.outcome is AgeOutcome.refused:
        lowest = gate.age_rule.guardian_minimum or gate.age_rule.minimum
        raise AcceptRefusal("age-below-minimum", "err_below", f"participants must be at least {lowest}", age=lowest, band=result.band)
    emails: list[str] = []
    if result is not None and result.outcome is AgeOutcome.with_guardian:
        emails = _guardian_emails(gate, given, own)
    return result, emails


def _address_errors(given: AcceptInput) -> list[FieldError]:
    """Return an error for each address given that is not an e-mail address (checked before the age is known)."""
    fields = [("own_email", given.own_email or "")]
    fields += [("guardian_email" if index == 0 else f"guardian_email_{index + 1}", raw) for index, raw in enumerate(given.guardian_emails)]
    errors = []
    for place, raw in fields:
        try:
            if raw.strip():
                normalise_address(raw)
        except ValueError:
            key = "err_own_email" if place == "own_email" else "err_guardian_email"
            errors.append(FieldError(place, key, "invalid-request", f"{place} is not a valid e-mail address"))
    return errors


def _guardian_emails(gate: Gate, given: AcceptInput, own: list[str]) -> list[str]:
    """Return the normalised guardian e-mails of a minor, or raise :class:`AcceptRefusal` with every address error."""
    errors: list[FieldError] = []
    if given.own_email and given.own_email.strip():
        try:
            own = [*own, normalise_address(given.own_email)]
        except ValueError:
            errors.append(FieldError("own_email", "err_own_email", "invalid-request", "own_email is not a valid e-mail address"))
    emails: list[str] = []
    for index, raw in enumerate(given.guardian_emails[: gate.guardians_required]):
        place = "guardian_email" if index == 0 else f"guardian_email_{index + 1}"
        try:
            emails.append(normalise_address(raw))
        except ValueError:
            errors.append(FieldError(place, "err_guardian_email", "invalid-request", "guardian_email is not a valid e-mail address"))
            continue
        if same_mailbox(emails[-1], own):
            detail = "a guardian e-mail address must not be the participant's own address"
            errors.append(FieldError(place, "err_guardian_own", "invalid-request", detail))
    given_count = len(given.guardian_emails[: gate.guardians_required])
    if given_count < gate.guardians_required:
        place = "guardian_email" if given_count == 0 else f"guardian_email_{given_count + 1}"
        detail = f"{gate.guardians_required} guardian e-mail address(es) needed"
        errors.append(FieldError(place, "err_guardian_email", "invalid-request", detail))
    elif not errors and len({mailbox_key(email) for email in emails}) != len(emails):  # two spellings of one mailbox
        detail = "the guardian e-mail addresses must differ"
        errors.append(FieldError(f"guardian_email_{len(emails)}", "err_guardian_distinct", "invalid-request", detail))
    if errors:
        raise AcceptRefusal.of(errors)
    return emails


async def settle(
    gate: Gate, subject: str | None, standing: Standing, given: AcceptInput, *, own: list[str], require_licence: bool
) -> tuple[AgeJudgement | None, list[str]]:
    """Return the age result and normalised guardian e-mails for ``given``, held against what ``subject``
    declared before (``standing``, read fresh); raise :class:`AcceptRefusal` otherwise.

    ``own`` holds the addresses the app knows as the person's own. A band below the minimum is noted
    before the refusal (in the ledger when the subject already has a recorded band, in this process
    otherwise); a band that raises an earlier one is refused with ``age-redeclared``.
    """
    today = _dt.date.today()
    age = gate.policy.age
    new_strength = strength(str(age.method), age.assurance)
    try:
        result, emails = _judge(gate, given, standing, today, require_licence=require_licence, own=own)
    except AcceptRefusal as refusal:
        if refusal.code == "age-below-minimum" and subject is not None:
            band = str(refusal.values["band"])
            if standing.age_band is not None:
                if standing.age_band != band:  # the same lower band again adds nothing
                    await gate.ledger.record_age_result(gate.campaign, subject, AgeResult(band, str(age.method), age.assurance))
                    gate.forget(subject)
                refusal.key = "err_below_recorded"
            else:
                _REFUSED.setdefault(gate, RecentRefusals()).note(subject, Declared(band, new_strength))
        raise
    if result is not None and subject is not None:
        earlier: list[Declared] = []
        if standing.age_band is not None:
            due = _dt.date.fromisoformat(standing.reconfirm_due) if standing.reconfirm_due else None
            earlier.append(Declared(standing.age_band, strength(None, standing.age_assurance), due))
        noted = _REFUSED[gate].get(subject) if gate in _REFUSED else None
        earlier += [noted] if noted is not None else []
        for before in earlier:
            if contradicts(before, result.band, new_strength, today):
                raise AcceptRefusal(
                    "age-redeclared", "err_redeclared",
                    f"you already declared the age band {before.band}; a new declaration cannot raise it "
                    "(only a stronger age check can)", band=before.band, contact=str(gate.policy.controller.contact),
                )  # fmt: skip
    return result, emails
