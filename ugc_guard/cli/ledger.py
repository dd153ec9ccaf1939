"""``ugc-guard ledger``: query, export and verify the acceptance ledger (a thin layer over :class:`Ledger`)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from ..ledger import SUBMISSION_STATUSES, EntryView, Ledger, LedgerError, Page, Receipt
from .output import emit, format_option
from .source import ledger_options, parse_time

__all__ = ["ledger_group"]

F = TypeVar("F", bound=Callable[..., Any])

SUBMISSION_TABLE = ("id", "campaign", "subject", "recorded_at", "status", "content_sha256", "original_name",
                    "detected_type", "size")
"""The columns of ``query submissions --format table`` (JSON and CSV carry every column)."""
ACCEPTANCE_TABLE = ("id", "campaign", "subject", "recorded_at", "terms_version", "language", "capacity",
                    "collection_method")
HISTORY_TABLE = ("id", "campaign", "kind", "recorded_at", "ref", "status", "content_sha256", "terms_version")


def _paged(fetch: Callable[[int | None], Page], limit: int | None) -> Iterator[EntryView]:
    after, count = None, 0
    while True:
        page = fetch(after)
        for item in page.items:
            if limit is not None and count >= limit:
                return
            count += 1
            yield item
        if page.next is None:
            return
        after = page.next


def flat(view: EntryView) -> dict[str, Any]:
    """Return an entry as one flat row (payload keys beside the columns), for single-kind listings."""
    row = view.as_dict()
    data = row.pop("data")
    return {**row, **{key: value for key, value in data.items() if key not in row}}


@click.group("ledger")
def ledger_group() -> None:
    """Query, export and verify the acceptance ledger."""


@ledger_group.group("query")
def query() -> None:
    """List acceptances, submissions, the grants of a file, or a subject's history."""


def _window(function: F) -> F:
    for decorator in reversed([
        click.option("--campaign", help="Only this campaign id."),
        click.option("--since", metavar="TIME", help="Recorded at or after (ISO 8601, UTC unless it says otherwise)."),
        click.option("--until", metavar="TIME", help="Recorded before (ISO 8601)."),
        click.option("--limit", type=click.IntRange(min=1), help="At most this many rows (default: all)."),
        format_option,
    ]):
        function = decorator(function)
    return function


@query.command("acceptances")
@_window
@click.option("--subject", help="Only this subject pseudonym.")
@click.option("--terms-version", help="Only acceptances of this terms version.")
@ledger_options
def query_acceptances(ledger: Ledger, campaign: str | None, since: str | None, until: str | None, limit: int | None,
                      output_format: str, subject: str | None, terms_version: str | None) -> None:
    """Terms acceptances, oldest first."""
    start, end = parse_time("--since", since), parse_time("--until", until)
    rows = _paged(lambda after: ledger.acceptances(campaign=campaign, subject=subject, terms_version=terms_version,
                                                   since=start, until=end, after=after, limit=1000), limit)
    emit((flat(row) for row in rows), output_format, table_columns=ACCEPTANCE_TABLE)


def submission_flat(view: EntryView) -> dict[str, Any]:
    """Return a submission as one flat row: ``status`` is its current status, ``recorded_status`` the one
    it was recorded with (``received``)."""
    row = flat(view)
    current = row.pop("current_status", None)
    return {**row, "status": current or row["status"], "recorded_status": row["status"]}


@query.command("submissions")
@_window
@click.option("--subject", help="Only this subject pseudonym.")
@click.option("--status", type=click.Choice(SUBMISSION_STATUSES),
              help="Only submissions whose current status is this ('received' until the app answered).")
@click.option("--content-sha256", metavar="HEX", help="Only this file (SHA-256 of its content).")
@ledger_options
def query_submissions(ledger: Ledger, campaign: str | None, since: str | None, until: str | None, limit: int | None,
                      output_format: str, subject: str | None, status: str | None, content_sha256: str | None) -> None:
    """Submissions, oldest first, with their current status."""
    start, end = parse_time("--since", since), parse_time("--until", until)
    rows = _paged(lambda after: ledger.submissions(campaign=campaign, subject=subject, status=status,
                                                   content_sha256=content_sha256, since=start, until=end, after=after,
                                                   limit=1000), limit)
    emit((submission_flat(row) for row in rows), output_format, table_columns=SUBMISSION_TABLE)


@query.command("grants")
@click.argument("submission", required=False, type=int)
@click.option("--content-sha256", metavar="HEX", help="Who granted what for this file (original or re-encoded SHA-256).")
@format_option
@ledger_options
def query_grants(ledger: Ledger, submission: int | None, content_sha256: str | None, output_format: str) -> None:
    """The acceptance, submission, licence and portrait grants (and later entries) of SUBMISSION or a file."""
    if (submission is None) == (content_sha256 is None):
        raise click.ClickException("name a submission id or --content-sha256 HEX (one of the two)")
    if submission is not None:
        entries = ledger.grants(submission)
        if not entries:
            raise click.ClickException(f"no submission with entry id {submission}")
        emit((row.as_dict() for row in entries), output_format)
        return
    found = ledger.by_content(content_sha256 or "")
    rows: list[dict[str, Any]] = []
    for item in found:
        for view in ([item["acceptance"]] if item["acceptance"] else []) + [item["submission"], *item["entries"]]:
            rows.append({"submission_id": item["submission"].id, "current_status": item["status"], **view.as_dict()})
    emit(rows, output_format)


@query.command("subject")
@click.argument("subject")
@click.option("--campaign", help="Only this campaign id.")
@format_option
@ledger_options
def query_subject(ledger: Ledger, subject: str, campaign: str | None, output_format: str) -> None:
    """Everything recorded about SUBJECT, oldest first (personal fields opened when the secret is known)."""
    rows = _paged(lambda after: ledger.history(subject, campaign=campaign, after=after), None)
    emit((with_current_status(row.as_dict()) for row in rows), output_format, table_columns=HISTORY_TABLE)


def with_current_status(row: dict[str, Any]) -> dict[str, Any]:
    """Return an entry row whose ``status`` is a submission's current status (``recorded_status`` the one
    the entry was recorded with, which its hash covers)."""
    current = row.pop("current_status", None)
    return {**row, "status": current or row["status"], "recorded_status": row["status"]}


@ledger_group.command("export")
@click.option("--campaign", required=True, help="The campaign to export.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True, allow_dash=True),
              help="File to write (- for standard output).")
@click.option("--format", "output_format", type=click.Choice(["jsonl", "json", "csv"]), default="jsonl", show_default=True)
@ledger_options
def export(ledger: Ledger, campaign: str, out: str, output_format: str) -> None:
    """Stream every entry of a campaign to a file, in chain order, in constant memory."""
    total = next((c["entries"] for c in ledger.stats(campaign)["campaigns"] if c["campaign"] == campaign), 0)
    handle = sys.stdout if out == "-" else _open_out(out)
    try:
        rows = (row.as_dict() for row in ledger.iter_entries(campaign=campaign))
        if sys.stderr.isatty() and out != "-":
            with click.progressbar(length=total, label=f"Exporting {campaign}", file=sys.stderr) as bar:
                count = emit(_ticking(rows, bar.update), output_format, out=handle)
        else:
            count = emit(rows, output_format, out=handle)
    finally:
        if handle is not sys.stdout:
            handle.close()
    if out != "-":
        click.echo(f"{out}: {count} entries of campaign {campaign}", err=True)


def _open_out(path: str) -> Any:
    try:
        return Path(path).open("w", encoding="utf-8", newline="")
    except OSError as error:
        raise click.ClickException(f"{path}: cannot write ({error.strerror})") from None


def _ticking(rows: Iterator[dict[str, Any]], tick: Callable[[int], None]) -> Iterator[dict[str, Any]]:
    for row in rows:
        tick(1)
        yield row


@ledger_group.command("verify")
@click.option("--campaign", help="Only this campaign's chain.")
@ledger_options
def verify(ledger: Ledger, campaign: str | None) -> None:
    """Recompute every hash chain; name the first entry that does not match (exit 1). A progress bar
    on standard error when it is a terminal."""
    if sys.stderr.isatty():
        total = sum(row.get("entries", 0) for row in ledger.stats(campaign)["campaigns"])
        with click.progressbar(length=total, label="Verifying entries", file=sys.stderr) as bar:
            result = ledger.verify(campaign, progress=bar.update)
    else:
        result = ledger.verify(campaign)
    for finding in result.findings:
        click.echo(f"FAILED {finding}", err=True)
    if not result.ok:
        raise SystemExit(1)
    click.echo(f"ok: {result.entries} entries in {result.campaigns} campaign chain(s) verified")


@ledger_group.command("verify-receipt")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@ledger_options
def verify_receipt(ledger: Ledger, file: str) -> None:
    """Check a receipt FILE (JSON) against the ledger; list what differs (exit 1)."""
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{file}: cannot read the receipt ({getattr(error, 'strerror', None) or error})") from None
    try:
        receipt = Receipt.from_json(text)
    except LedgerError as error:
        raise click.ClickException(f"{file}: {error}") from None
    check = ledger.verify_receipt(receipt)
    for problem in check.problems:
        click.echo(f"{file}: {problem}", err=True)
    if not check.ok:
        raise SystemExit(1)
    click.echo(f"{file}: ok, entry {receipt.entry_id} at position {receipt.position} of campaign {receipt.campaign} matches the ledger")


@ledger_group.command("stats")
@click.option("--campaign", help="Only this campaign.")
@format_option
@ledger_options
def stats(ledger: Ledger, campaign: str | None, output_format: str) -> None:
    """Entries per campaign and kind, submission statuses, erased subjects."""
    emit(ledger.stats(campaign)["campaigns"], output_format)


@query.command("takedowns")
@click.option("--campaign", help="Only this campaign id.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many rows (default: all).")
@format_option
@ledger_options
def query_takedowns(ledger: Ledger, campaign: str | None, limit: int | None, output_format: str) -> None:
    """Submissions whose portrait or processing consent was withdrawn: content the app must take down."""

    def rows() -> Iterator[dict[str, Any]]:
        after, count = None, 0
        while True:
            page = ledger.takedowns(campaign=campaign, after=after, limit=1000)
            for row in page:
                if limit is not None and count >= limit:
                    return
                count += 1
                yield row
            if len(page) < 1000:
                return
            after = page[-1]["submission_id"]

    emit(rows(), output_format)


@ledger_group.command("mark-used")
@click.argument("submission", type=int)
@click.option("--production", help="Name of the production it went into.")
@click.option("--used-on", metavar="DATE", help="The day it was used (default: today, UTC).")
@ledger_options
def mark_used(ledger: Ledger, submission: int, production: str | None, used_on: str | None) -> None:
    """Record that SUBMISSION went into a production: exempt from the unused-footage retention rule (seed 001)
    and the anchor for 'last use' periods."""
    day = parse_time("--used-on", used_on)
    receipt = ledger.mark_used(submission, production=production, used_on=day.date() if day else None)
    click.echo(f"submission {submission}: marked used (entry {receipt.entry_id})")
