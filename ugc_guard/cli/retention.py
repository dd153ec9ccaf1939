"""``ugc-guard retention run``: apply the policy's retention periods (thin layer over :func:`run_retention`)."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from typing import Any

import click

from ..ledger import Ledger
from ..policy import Policy
from ..retention import LOGS_NOTE, run_retention
from .output import emit, format_option
from .source import parse_time
from .subject import deliverer, ledger_and_policy

__all__ = ["retention_group"]


@click.group("retention")
def retention_group() -> None:
    """Delete what the policy's retention periods say is due."""


@retention_group.command("run")
@click.option("--dry-run", is_flag=True, help="Only list what is due; change nothing and call no hook.")
@click.option("--now", "now", metavar="TIME", help="Pretend it is this time (ISO 8601), e.g. to preview next month.")
@click.option("--batch", type=click.IntRange(1, 5000), default=500, show_default=True,
              help="Submissions per hook call and per ledger transaction.")
@click.option("--wait", type=click.FloatRange(min=0), default=0, show_default=True,
              help="Seconds to wait when another run holds the lock (then give up).")
@click.option("--no-hook", is_flag=True, help="Record expiries without a content-deletion hook (the app deletes "
              "files from `ugc-guard ledger query submissions --status expired`).")
@format_option
@ledger_and_policy
def run(ledger: Ledger, policy: Policy | None, dry_run: bool, now: str | None, batch: int, wait: float, no_hook: bool,
        output_format: str) -> None:
    """Expire due submissions (content-deletion hook, then a retention entry and status `expired` each) and
    erase personal data past `retention.personal_data`. Safe to interrupt and re-run: nothing is done twice."""
    if policy is None:
        raise click.ClickException("retention run needs --policy FILE (its retention periods, campaign and hooks)")
    deliver = None if no_hook else deliverer(policy)
    if deliver is None and not no_hook and not dry_run:
        raise click.ClickException(f"{policy.campaign.id}: hooks.content_deletion is not set, so no file would be deleted; "
                                   "set it, or pass --no-hook if the app deletes expired files itself")
    moment = parse_time("--now", now)
    with ExitStack() as stack:
        progress = None
        if sys.stderr.isatty():
            total = ledger.count_retention_candidates(policy.campaign.id)
            bar: Any = stack.enter_context(click.progressbar(length=total, label="Checking submissions", file=sys.stderr))
            progress = bar.update
        try:
            report = run_retention(ledger, policy, now=moment, dry_run=dry_run, deliver=deliver, batch=batch, wait=wait,
                                   progress=progress)
        except KeyboardInterrupt:
            click.echo("\ninterrupted: the batches finished so far are recorded; run again to continue", err=True)
            raise SystemExit(130) from None
    if dry_run:
        emit(({"kind": due.kind, "target": due.target, "subject": due.subject, "rule": due.rule,
               "due_at": due.due_at.isoformat()} for due in report.due), output_format)
        click.echo(f"dry run: {len(report.due)} due of {report.checked} submissions checked, {len(report.unconfirmed)} "
                   "unconfirmed uploads to mark 'not stored (unconfirmed)'; nothing changed", err=True)
        return
    for ids, error in report.failed:
        click.echo(f"not done ({len(ids)} submission(s) {ids[0]}…{ids[-1]}): {error}; a re-run retries them", err=True)
    click.echo(f"{policy.campaign.id}: {len(report.unconfirmed)} unconfirmed uploads marked 'not stored (unconfirmed)', "
               f"{report.checked} submissions checked, {report.expired} expired, "
               f"{report.subjects_erased} subjects' personal data erased, {sum(len(ids) for ids, _ in report.failed)} failed")
    click.echo(f"logs: {LOGS_NOTE}", err=True)
    if not report.ok:
        raise SystemExit(1)
