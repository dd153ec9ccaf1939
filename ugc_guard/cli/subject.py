"""``ugc-guard subject``: find, export and erase a subject for requests that arrive by e-mail."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from ..hooks import HookFailed, call_hook_sync
from ..ledger import Ledger, LedgerError, Receipt
from ..observe.events import file_refs as event_files
from ..observe.events import record_events
from ..pages.subjects import erase_subject, export_subject, find_subjects, subject_campaign
from ..policy import Policy, load_policy
from .output import emit, format_option
from .source import cli_errors, ledger_source, open_ledger

__all__ = ["deliverer", "ledger_and_policy", "subject_group"]

F = TypeVar("F", bound=Callable[..., Any])


def ledger_and_policy(function: F) -> F:
    """Like ``ledger_options``, but also pass the loaded ``policy`` (None without ``--policy``)."""

    @ledger_source("Campaign policy: its ledger, secret, campaign id and hooks.")
    @functools.wraps(function)
    def wrapper(ledger_url: str | None, policy_file: str | None, **kwargs: Any) -> Any:
        with cli_errors():
            policy = load_policy(policy_file) if policy_file else None
            ledger = open_ledger(ledger_url, policy_file)
            try:
                return function(ledger=ledger, policy=policy, **kwargs)
            finally:
                ledger.close()

    return wrapper  # type: ignore[return-value]


def deliverer(policy: Policy | None) -> Callable[[dict[str, Any]], None] | None:
    """Return a function handing an event to the policy's content-deletion hook, or None without one."""
    target = policy.hooks.content_deletion if policy else None
    if not target:
        return None
    return lambda event: call_hook_sync(target, event)


def _campaign(policy: Policy | None, campaign: str | None) -> str | None:
    return campaign or (policy.campaign.id if policy else None)


@click.group("subject")
def subject_group() -> None:
    """Find, export and erase a subject (privacy requests that arrive by e-mail or letter)."""


@subject_group.command("find")
@click.option("--email", help="A parent's or guardian's e-mail address (opens the sealed addresses; needs the secret).")
@click.option("--content-sha256", metavar="HEX", help="SHA-256 of a file the person sent (original or re-encoded).")
@click.option("--receipt", "receipt_file", type=click.Path(dir_okay=False, allow_dash=True), help="A receipt JSON file the person kept.")
@click.option("--campaign", help="Only this campaign id (default: the policy's, else all).")
@format_option
@ledger_and_policy
def find(ledger: Ledger, policy: Policy | None, email: str | None, content_sha256: str | None, receipt_file: str | None,
         campaign: str | None, output_format: str) -> None:
    """List the subject pseudonyms matching an e-mail, a file hash or a receipt."""
    if not (email or content_sha256 or receipt_file):
        raise click.ClickException("give --email, --content-sha256 or --receipt FILE")
    if email and not ledger.can_open_personal:
        raise click.ClickException("--email needs the site secret to open sealed addresses; pass --policy or set UGC_GUARD_SECRET")
    receipt = None
    if receipt_file:
        try:
            text = sys.stdin.read() if receipt_file == "-" else Path(receipt_file).read_text(encoding="utf-8")
            receipt = Receipt.from_json(text)
        except (OSError, UnicodeDecodeError) as error:
            raise click.ClickException(f"{receipt_file}: cannot read the receipt ({getattr(error, 'strerror', None) or error})") from None
        except LedgerError as error:
            raise click.ClickException(f"{receipt_file}: {error}") from None
    rows = find_subjects(ledger, email=email, content_sha256=content_sha256, receipt=receipt, campaign=_campaign(policy, campaign))
    if not rows:
        raise click.ClickException("no subject matches")
    emit(rows, output_format)


@subject_group.command("export")
@click.argument("subject")
@click.option("--campaign", help="The campaign (default: the policy's, else the only one the subject is in).")
@click.option("--out", default="-", type=click.Path(dir_okay=False, allow_dash=True), help="File to write (default: standard output).")
@ledger_and_policy
def export(ledger: Ledger, policy: Policy | None, subject: str, campaign: str | None, out: str) -> None:
    """Write everything recorded about SUBJECT as JSON (format ugc-guard-subject-export/1, docs/rights.md)."""
    name = subject_campaign(ledger, subject, _campaign(policy, campaign))
    controller = None
    if policy is not None:
        controller = {"name": policy.controller.name, "contact": str(policy.controller.contact),
                      "privacy_url": str(policy.controller.privacy_url) if policy.controller.privacy_url else None}
    document = export_subject(ledger, name, subject, controller=controller,
                              portrait_withdrawable=policy.portrait.withdrawable if policy else True)
    text = json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n"
    if out == "-":
        click.echo(text, nl=False)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(f"{out}: cannot write ({error.strerror})") from None
    click.echo(f"{out}: {len(document['entries'])} entries, {len(document['submissions'])} submissions of {subject}", err=True)


@subject_group.command("erase")
@click.argument("subject")
@click.option("--campaign", help="The campaign (default: the policy's, else the only one the subject is in).")
@click.option("--reason", default="erasure request (GDPR Art. 17)", show_default=True, help="Recorded with the erasure.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@ledger_and_policy
def erase(ledger: Ledger, policy: Policy | None, subject: str, campaign: str | None, reason: str, yes: bool) -> None:
    """Erase SUBJECT: their files go to the content-deletion hook, then their key is destroyed so their
    personal fields can never be read again. The chain still verifies. Cannot be undone."""
    name = subject_campaign(ledger, subject, _campaign(policy, campaign))
    if not yes:
        click.confirm(f"Erase subject {subject} of campaign {name}? This cannot be undone", abort=True)
    deliver = deliverer(policy)
    try:
        result = erase_subject(ledger, name, subject, reason=reason, requested_by="operator", deliver=deliver)
    except HookFailed as error:
        raise click.ClickException(f"{error}; nothing was erased, run the command again") from None
    record_events(ledger, policy, "subject.erased", subject=subject, requested_by="operator", files=event_files(result.files))
    if result.files and deliver is None:
        click.echo(f"warning: no hooks.content_deletion (give --policy); delete these {len(result.files)} file(s) yourself:", err=True)
        for item in result.files:
            click.echo(f"  {item['content_sha256']}", err=True)
    if result.already_erased:
        click.echo(f"{subject} was already erased; {len(result.files)} remaining file(s) handled")
        return
    assert result.receipt is not None
    click.echo(f"erased {subject} in {name}: erasure entry {result.receipt.entry_id}, {len(result.files)} file(s) "
               f"{'handed to the deletion hook' if result.hook_called else 'marked erased'}")
