"""Judging what a person declares when accepting: terms version, ticks, age, guardian addresses.

:func:`settle` returns the age result and guardian addresses or raises :class:`AcceptRefusal` (a problem
code plus the page message). It holds a new age band against the subject's earlier one
(:mod:`.redeclare`: a band cannot be talked up) and a guardian address against the minor's own
(:mod:`.mailboxes`). With ``age.method: eu-age-verification`` the age is the subject's recorded
attestation (:func:`attested_result`), never something typed. Nothing here reads the request;
nothing is recorded but a lower age band.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from ..ledger import AgeResult
from ..policy.age import AgeMethod
from ..problems import Problem
from ..rules.age import AgeError, AgeJudgement, AgeOutcome, AgeRule, age_on, band_labels, judge_band, judge_birth_date, parse_birth_date
from ..rules.consent_ages import consent_age, guardian_need
from ..rules.mailboxes import normalise_address, same_mailbox
from ..rules.redeclare import Declared, RecentRefusals, band_range, contradicts, strength
from ..rules.standing import Standing

if TYPE_CHECKING:
    from .service import Gate

__all__ = ["AcceptInput", "AcceptRefusal", "settle"]

_REFUSED: WeakKeyDictionary[Gate, RecentRefusals] = WeakKeyDictionary()
"""Per gate: bands refused as too young, in this process (see :class:`RecentRefusals`)."""


class AcceptRefusal(Problem):
    """A refused acceptance: a :class:`Problem` that also names the terms page's message ``key`` and its values."""

    def __init__(self, code: str, key: str, detail: str, **values: Any) -> None:
        super().__init__(code, detail)
        self.key, self.values = key, values


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
        raise AcceptRefusal(code, f"err_{error.reason}", str(error)) from None
    return result, band_range(result.band)[0]


def _country(gate: Gate, given: AcceptInput) -> str | None:
    """Return the country of residence when the policy asks for it; raises :class:`AcceptRefusal` for one that is not a code."""
    if not gate.policy.age.consent_age_by_country or not (given.country or "").strip():
        return None
    code = (given.country or "").strip().upper()
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        raise AcceptRefusal("invalid-request", "err_country", "country must be an ISO 3166-1 alpha-2 code such as NL, or empty")
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
    if not given.accept_terms or (require_licence and not given.accept_licence):
        raise AcceptRefusal("invalid-request", "err_tick", "accept_terms and accept_licence must both be true")
    country = _country(gate, given)
    result, youngest = _age(gate, given, standing, today)
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
        if given.own_email and given.own_email.strip():
            try:
                own = [*own, normalise_address(given.own_email)]
            except ValueError:
                raise AcceptRefusal("invalid-request", "err_own_email", "own_email is not a valid e-mail address") from None
        for raw in given.guardian_emails[: gate.guardians_required]:
            try:
                emails.append(normalise_address(raw))
            except ValueError:
                raise AcceptRefusal("invalid-request", "err_guardian_email", "guardian_email is not a valid e-mail address") from None
            if same_mailbox(emails[-1], own):
                raise AcceptRefusal("invalid-request", "err_guardian_own", "a guardian e-mail address must not be the participant's own address")
        if len(emails) < gate.guardians_required:
            raise AcceptRefusal("invalid-request", "err_guardian_email", f"{gate.guardians_required} guardian e-mail address(es) needed")
        if len({email.casefold() for email in emails}) != len(emails):
            raise AcceptRefusal("invalid-request", "err_guardian_distinct", "the guardian e-mail addresses must differ")
    return result, emails


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
