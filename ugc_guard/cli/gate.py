"""``ugc-guard gate``: the terms and age gate's operator commands."""

from __future__ import annotations

import datetime as dt

import click

from ..policy import PolicyError, load_policy
from .output import emit, format_option


@click.group("gate")
def gate_group() -> None:
    """Terms and age gate: minors' acceptances due for re-confirmation."""


@gate_group.command("reconfirmations")
@click.option("--policy", "policy_file", required=True, type=click.Path(dir_okay=False, exists=True), help="Campaign policy file.")
@click.option("--ledger", "ledger_url", default=None, help="Ledger URL (default: the policy's ledger.url).")
@click.option("--on", "on", default=None, help="List those due on or before this date (YYYY-MM-DD; default today).")
@format_option
def reconfirmations(policy_file: str, ledger_url: str | None, on: str | None, output_format: str) -> None:
    """List acceptances given as a minor whose holder is now of age and should confirm again."""
    from ..ledger import Ledger, LedgerError

    try:
        policy = load_policy(policy_file)
    except PolicyError as error:
        raise click.ClickException("\n".join(error.lines)) from None
    try:
        day = dt.date.fromisoformat(on) if on else dt.date.today()
    except ValueError:
        raise click.BadParameter(f"{on!r} is not a date; write YYYY-MM-DD", param_hint="--on") from None
    ledger = Ledger.from_policy(policy, url=ledger_url)
    try:
        rows = ledger.due_reconfirmations(policy.campaign.id, day)
    except LedgerError as error:
        raise click.ClickException(str(error)) from None
    finally:
        ledger.close()
    keys = ("subject", "acceptance_id", "accepted_at", "terms_version", "age_band", "guardian_status", "reconfirm_due")
    emit(({key: getattr(row, key) for key in keys} for row in rows), output_format)
