"""``ugc-guard proof``: check receipts offline, witness a log, and serve the log's evidence by hand.

``verify`` and ``witness`` need no database, policy or secret (only files, or URLs for a witness);
the other commands read the campaign's ledger and sign with keys derived from its secret.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from ..ledger import Ledger
from ..ledger.checkpoints import log_origin
from ..ledger.prooflog import ProofLog, rebuild_trees
from ..policy import load_policy
from ..proof.jcs import parse_json
from ..proof.keys import KeysError, parse_jwks
from ..proof.receipt import ReceiptError, verify_receipt
from ..proof.witness import WitnessRefusal, WitnessStore, witness
from .source import cli_errors, ledger_source, open_ledger

__all__ = ["proof_group"]

F = TypeVar("F", bound=Callable[..., Any])
MAX_FETCH = 4 * 1024 * 1024
FETCH_TIMEOUT = 15.0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # The log's endpoints never redirect: a redirect means the URL is not the log's (a witness's proofs come from that base).
    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> NoReturn:
        raise urllib.error.HTTPError(req.full_url, code, f"redirects to {newurl} (give that URL if you trust it)", headers, fp)


_OPENER = urllib.request.build_opener(_NoRedirect)


def _fail(prefix: str, reason: object) -> NoReturn:
    click.echo(f"{prefix}: {reason}", err=True)
    raise click.exceptions.Exit(1)


def _read(source: str, what: str) -> str:
    """Return a file's text, or an http(s) URL's body; a failure ends the command with one line."""
    try:
        if source.startswith(("http://", "https://")):
            deadline = time.monotonic() + FETCH_TIMEOUT  # for the whole answer: a source that drips a byte at a time stops too
            with _OPENER.open(urllib.request.Request(source, headers={"User-Agent": "ugc-guard-proof"}), timeout=FETCH_TIMEOUT) as answer:
                body = bytearray()
                while len(body) <= MAX_FETCH and (piece := answer.read1(65536)):
                    body += piece
                    if time.monotonic() > deadline:
                        raise OSError(f"the answer did not arrive within {FETCH_TIMEOUT:g} s")
        else:
            with open(source, "rb") as handle:
                body = bytearray(handle.read(MAX_FETCH + 1))
        if len(body) > MAX_FETCH:
            raise OSError(f"the {'answer' if source.startswith(('http://', 'https://')) else 'file'} is larger than 4 MiB")
        return body.decode("utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as error:
        _fail("error", f"cannot read {what} {source}: {error}")


def _json(source: str, what: str) -> Any:
    try:
        return parse_json(_read(source, what))
    except ValueError as error:
        _fail("error", f"{what} {source} is not JSON: {error}")


@click.group("proof")
def proof_group() -> None:
    """Portable proof: signed receipts, checkpoints, witnesses (see docs/evidence.md)."""


@proof_group.command("verify")
@click.argument("receipt", metavar="RECEIPT.json")
@click.option("--keys", "keys_file", required=True, metavar="KEYS.json", help="The log's key set (JWKS), e.g. saved from GET …/keys.")
@click.option("--checkpoint", "newer", metavar="FILE", help="A later signed checkpoint of the same log to check the receipt against.")
@click.option("--consistency", metavar="FILE", help="With --checkpoint of another size: the proof from GET …/proof/consistency?from=N&to=M.")
def verify(receipt: str, keys_file: str, newer: str | None, consistency: str | None) -> None:
    """Check a signed receipt offline: its signature, every entry's hash and inclusion proof, and the
    checkpoint's signature. Exit 0 when valid; 1 with one line saying what failed.

    A newer checkpoint alone cannot show that the log still holds the receipt's entries: give the
    consistency proof between the two sizes as well (fetch it from the site)."""
    try:
        keys = parse_jwks(_read(keys_file, "keys"))
    except KeysError as error:
        _fail("invalid", f"{keys_file}: {error}")
    later = _read(newer, "checkpoint") if newer else None
    proof = _json(consistency, "consistency proof") if consistency else None
    try:
        result = verify_receipt(_read(receipt, "receipt"), keys, newer=later, consistency=proof)
    except ReceiptError as error:
        _fail("invalid", error)
    more = f" and {result.entries - 1} recorded with it" if result.entries > 1 else ""
    tail = "; consistent with the later checkpoint" if later else ""
    click.echo(
        f"valid: entry {result.entry_id} ({result.kind}){more} in log {result.origin} at tree size "
        f"{result.checkpoint.size}, receipt signed by key {result.kid}{tail}"
    )


@proof_group.command("witness")
@click.argument("source", metavar="SOURCE")
@click.option("--store", required=True, type=click.Path(file_okay=False), metavar="DIR", help="Folder where the witness keeps what it saw.")
@click.option("--keys", "keys_source", metavar="URL|FILE", help="The log's key set; needed the first time, then stored.")
@click.option("--consistency", "proof_source", metavar="URL|FILE", help="The consistency proof (default for a URL SOURCE: from the same site).")
def witness_command(source: str, store: str, keys_source: str | None, proof_source: str | None) -> None:
    """Fetch a signed checkpoint (SOURCE: a URL ending in /checkpoint, or a file), check its signature
    and that the log grew consistently from the last checkpoint stored in DIR, then store it.
    Refuses (exit 1, one line) on a bad signature, a rollback or a fork."""
    note = _read(source, "checkpoint")
    given = _json(keys_source, "keys") if keys_source else None
    base = source[: -len("/checkpoint")] if source.startswith(("http://", "https://")) and source.endswith("/checkpoint") else None

    def fetch(old: int, new: int) -> Any:
        if proof_source is not None:
            return _json(proof_source, "consistency proof")
        if base is None:
            raise OSError("pass --consistency (or give SOURCE as a URL ending in /checkpoint)")
        return _json(f"{base}/proof/consistency?{urllib.parse.urlencode({'from': old, 'to': new})}", "consistency proof")

    try:
        accepted = witness(WitnessStore(store), note, given, fetch)
    except WitnessRefusal as error:
        _fail("refused", error)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        _fail("error", f"the witness store {store} cannot be read or written: {error}")
    grown = "first checkpoint stored" if accepted.previous is None else f"consistent with size {accepted.previous}"
    click.echo(f"accepted: {accepted.checkpoint.origin} at tree size {accepted.checkpoint.size} ({grown})")


def log_options(function: F) -> F:
    """``--ledger``/``--policy`` plus ``--campaign``/``--host`` (without a policy); pass ``log``."""

    @ledger_source("Campaign policy: its ledger, campaign id, host (for the log's name) and secret.")
    @click.option("--campaign", help="Campaign id (without --policy).")
    @click.option("--host", help="The campaign's host, naming the log HOST/ugc-guard/CAMPAIGN (without --policy).")
    @functools.wraps(function)
    def wrapper(ledger_url: str | None, policy_file: str | None, campaign: str | None, host: str | None, **kwargs: Any) -> Any:
        with cli_errors():
            ledger = open_ledger(ledger_url, policy_file)
            try:
                if policy_file is not None:
                    log = ProofLog.from_policy(ledger, load_policy(policy_file))
                else:
                    if not campaign or not host or not os.environ.get("UGC_GUARD_SECRET"):
                        raise click.ClickException("without --policy pass --campaign, --host and set UGC_GUARD_SECRET")
                    log = ProofLog(ledger, campaign, log_origin(host, campaign), [os.environ["UGC_GUARD_SECRET"]])
                return function(log=log, **kwargs)
            finally:
                ledger.close()

    return wrapper  # type: ignore[return-value]


@proof_group.command("checkpoint")
@log_options
def checkpoint(log: ProofLog) -> None:
    """Print the log's current signed checkpoint (what GET …/checkpoint serves)."""
    click.echo(log.checkpoint().note, nl=False)


@proof_group.command("keys")
@log_options
def keys_command(log: ProofLog) -> None:
    """Print the log's key set as JWKS (what GET …/keys serves)."""
    click.echo(json.dumps(log.jwks(), indent=2))


@proof_group.command("receipt")
@click.argument("entry_id", type=int)
@log_options
def receipt(log: ProofLog, entry_id: int) -> None:
    """Print a signed receipt for entry ENTRY_ID and the entries recorded with it."""
    click.echo(log.issue_receipt(entry_id).to_json())


@proof_group.command("consistency")
@click.argument("old", type=click.IntRange(min=0))
@click.option("--to", "new", type=click.IntRange(min=0), help="The later tree size (default: now).")
@log_options
def consistency(log: ProofLog, old: int, new: int | None) -> None:
    """Print the consistency proof from tree size OLD to a later size (JSON, hashes only)."""
    click.echo(json.dumps(log.consistency(old, new), indent=2))


@proof_group.command("tree")
@click.option("--campaign", help="Only this campaign (default: all).")
@click.option("--rebuild", is_flag=True, help="Replace the stored tree by the one computed from the entries.")
@ledger_source("Campaign policy: its ledger.url.")
def tree_command(ledger_url: str | None, policy_file: str | None, campaign: str | None, rebuild: bool) -> None:
    """Check the stored Merkle tree against the entries (exit 1 if it differs), or rebuild it after a
    damaged or partial restore."""
    with cli_errors():
        ledger: Ledger = open_ledger(ledger_url, policy_file)
        try:
            results = rebuild_trees(ledger, campaign, write=rebuild)
        finally:
            ledger.close()
    differs = False
    for name, (size, root, matched) in results.items():
        state = "rebuilt" if rebuild else "stored tree matches" if matched else "STORED TREE DIFFERS (run with --rebuild)"
        differs = differs or not (matched or rebuild)
        click.echo(f"campaign {name}: {size} entries, root {base64.b64encode(root).decode()}, {state}")
    if differs:
        raise click.exceptions.Exit(1)
