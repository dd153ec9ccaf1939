"""``ugc-guard requests``: the log of privacy requests that arrive by e-mail, and their deadlines."""

from __future__ import annotations

import datetime as dt

import click

from ..ledger import Ledger
from ..ledger.requests import REGIMES, REQUEST_KINDS
from ..pages.log import due_rows
from .output import emit, format_option
from .source import ledger_options

__all__ = ["requests_group"]


def _date(option: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.ClickException(f"{option}: {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-03-01") from None


@click.group("requests")
def requests_group() -> None:
    """Log privacy requests (access, erasure…) and list their answer deadlines (GDPR, CCPA)."""


@requests_group.command("add")
@click.option("--received", required=True, metavar="DATE", help="The day the request arrived (YYYY-MM-DD).")
@click.option("--regime", type=click.Choice(REGIMES), required=True,
              help="gdpr: one month (+2); ccpa: confirm in 10 business days, answer in 45 days (+45).")
@click.option("--kind", type=click.Choice(REQUEST_KINDS), default="access", show_default=True, help="What is asked.")
@click.option("--subject", help="The subject pseudonym, once found (ugc-guard subject find).")
@click.option("--campaign", help="The campaign id.")
@click.option("--reference", help="Your ticket or mail id. Not the person's e-mail address: this log is not sealed.")
@format_option
@ledger_options
def add(ledger: Ledger, received: str, regime: str, kind: str, subject: str | None, campaign: str | None,
        reference: str | None, output_format: str) -> None:
    """Log a request; print it with its deadlines."""
    day = _date("--received", received)
    assert day is not None
    logged = ledger.add_request(regime=regime, kind=kind, received=day, campaign=campaign, subject=subject, reference=reference)
    emit(due_rows([logged], dt.datetime.now(dt.UTC).date()), output_format)


@requests_group.command("due")
@click.option("--on", "on", metavar="DATE", help="Count days left from this day (default: today, UTC).")
@click.option("--all", "show_all", is_flag=True, help="Also list answered requests.")
@format_option
@ledger_options
def due(ledger: Ledger, on: str | None, show_all: bool, output_format: str) -> None:
    """Open requests with their deadlines, soonest first; overdue ones are marked."""
    day = _date("--on", on) or dt.datetime.now(dt.UTC).date()
    emit(due_rows(ledger.rights_requests(open_only=not show_all), day), output_format)


@requests_group.command("extend")
@click.argument("request_id", type=int)
@ledger_options
def extend(ledger: Ledger, request_id: int) -> None:
    """Note that the requester was told the answer takes the extension (GDPR +2 months, CCPA +45 days)."""
    logged = ledger.extend_request(request_id)
    (row,) = due_rows([logged], dt.datetime.now(dt.UTC).date())
    click.echo(f"request {request_id}: extended, answer by {row['answer_by']}")


@requests_group.command("close")
@click.argument("request_id", type=int)
@click.option("--outcome", required=True, help="What was done, e.g. 'export sent', 'erased u123'.")
@click.option("--on", "on", metavar="DATE", help="The day it was answered (default: today).")
@ledger_options
def close(ledger: Ledger, request_id: int, outcome: str, on: str | None) -> None:
    """Mark a request answered."""
    logged = ledger.close_request(request_id, outcome=outcome, on=_date("--on", on))
    click.echo(f"request {request_id}: answered on {logged.closed_on}")
