"""``ugc-guard events``: the webhook outbox: list it, deliver what is due, put dead-lettered events back."""

from __future__ import annotations

import time
from typing import Any

import click

from ..ledger import Ledger
from ..ledger.outbox import OUTBOX_STATUSES, Outbox
from ..observe.delivery import deliver_due
from ..observe.events import endpoint_secrets
from ..policy import Policy
from .output import emit, format_option
from .subject import ledger_and_policy

__all__ = ["events_group"]

COLUMNS = ("id", "campaign", "type", "status", "attempts", "endpoint", "next_attempt_at", "last_error")


@click.group("events")
def events_group() -> None:
    """The webhook outbox: events for the operator's endpoints (docs/operations.md)."""


@events_group.command("list")
@click.option("--status", type=click.Choice(OUTBOX_STATUSES), help="Only events with this status.")
@click.option("--dead", is_flag=True, help="Only dead-lettered events (same as --status dead).")
@click.option("--campaign", help="Only this campaign (default: the policy's, else all).")
@click.option("--limit", type=click.IntRange(1, 10000), default=100, show_default=True, help="Newest events first, at most this many.")
@click.option("--payload", is_flag=True, help="Include each event's JSON body.")
@format_option
@ledger_and_policy
def list_events(ledger: Ledger, policy: Policy | None, status: str | None, dead: bool, campaign: str | None, limit: int,
                payload: bool, output_format: str) -> None:
    """List outbox rows, newest first: one per event and endpoint."""
    campaign = campaign or (policy.campaign.id if policy else None)
    rows = Outbox(ledger).list(status="dead" if dead else status, campaign=campaign, limit=limit)
    emit(({**_row(row), **({"payload": row.payload} if payload else {})} for row in rows), output_format, table_columns=COLUMNS)


@events_group.command("retry")
@click.argument("ids", nargs=-1, type=click.IntRange(1, 2**63 - 1))
@click.option("--all", "everything", is_flag=True, help="Every dead-lettered event of the campaign.")
@click.option("--campaign", help="The campaign (default: the policy's).")
@ledger_and_policy
def retry(ledger: Ledger, policy: Policy | None, ids: tuple[int, ...], everything: bool, campaign: str | None) -> None:
    """Put dead-lettered events (IDS, or --all) back in the queue with fresh attempts."""
    if not ids and not everything:
        raise click.UsageError("name the event ids to retry (ugc-guard events list --dead), or pass --all")
    campaign = campaign or (policy.campaign.id if policy else None)
    outbox = Outbox(ledger)
    if ids:
        found = {row.id for row in outbox.list(status="dead", campaign=campaign, ids=ids, limit=len(ids))}
        if missing := sorted(set(ids) - found):
            where = f" of campaign {campaign}" if campaign else ""
            raise click.ClickException(f"no dead-lettered event{where} has id {', '.join(map(str, missing))}; nothing was retried "
                                       "(ugc-guard events list --dead)")
    count = outbox.retry(ids, campaign=campaign)
    click.echo(f"{count} event(s) queued again")


@events_group.command("deliver")
@click.option("--watch", is_flag=True, help="Keep delivering every few seconds until interrupted.")
@ledger_and_policy
def deliver(ledger: Ledger, policy: Policy | None, watch: bool) -> None:
    """Deliver the campaign's due events now (after a retention run or an erasure from the CLI, or from cron)."""
    if policy is None:
        raise click.UsageError("events deliver needs --policy FILE (its webhook endpoints and secrets)")
    outbox, secrets = Outbox(ledger), endpoint_secrets(policy)
    while True:
        report = deliver_due(outbox, policy.campaign.id, secrets, policy.observe.max_attempts)
        click.echo(f"delivered {report.delivered}, failed {report.failed} (retried later), dead {report.dead}")
        if not watch:
            return
        time.sleep(5)


def _row(row: Any) -> dict[str, Any]:
    return {"id": row.id, "campaign": row.campaign, "event_id": row.event_id, "type": row.type, "status": row.status,
            "attempts": row.attempts, "endpoint": row.endpoint, "created_at": row.created_at.isoformat(),
            "next_attempt_at": row.next_attempt_at.isoformat(),
            "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None, "last_error": row.last_error}
