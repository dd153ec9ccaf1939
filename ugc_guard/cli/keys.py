"""``ugc-guard keys``: the signing keys a policy's secrets give, and re-wrapping subject keys after a
new secret was put first in the policy's ``secret`` list (docs/evidence.md, "Keys")."""

from __future__ import annotations

import click

from ..ledger import Ledger
from ..ledger.signing import key_ring, retired_jwks
from ..policy import load_policy
from .source import cli_errors, ledger_options

__all__ = ["keys_group"]


@click.group("keys")
def keys_group() -> None:
    """Rotate the site secret: list the log's signing keys, re-wrap subject keys."""


@keys_group.command("rotate")
@click.option("--campaign", help="Only this campaign's subject keys (default: every campaign in the ledger).")
@click.option("--batch", type=click.IntRange(min=1), default=500, show_default=True, help="Keys per transaction.")
@ledger_options
def rotate(ledger: Ledger, campaign: str | None, batch: int) -> None:
    """Re-wrap every subject key that an older listed secret wrapped under the newest one.

    Run it after putting the new secret first in the policy's secret list (and restarting the site);
    afterwards the old secret can be dropped and personal fields still open. Idempotent: a second run
    re-wraps nothing. Exits 1 when some keys open with none of the listed secrets.
    """
    done = ledger.rewrap_subject_keys(campaign=campaign, batch=batch)
    click.echo(f"re-wrapped: {done.rewrapped}")
    click.echo(f"already current: {done.current}")
    click.echo(f"erased or skipped: {done.erased}")
    if done.unopenable:
        raise click.ClickException(
            f"{done.unopenable} subject key(s) open with none of the listed secrets; "
            "list the secret they were wrapped with (after the new one) and run keys rotate again"
        )


@keys_group.command("list")
@click.option("--policy", "policy_file", required=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="Campaign policy: its secret(s), campaign id and ledger.retired_keys.")
def list_keys(policy_file: str) -> None:
    """List the log's signing keys: kid and status (current, retired), as GET {prefix}/keys publishes them.

    ``ugc-guard proof keys --policy FILE`` prints the whole JWKS (save it before dropping a secret)."""
    with cli_errors():
        policy = load_policy(policy_file)
        if not policy.secrets():
            raise click.ClickException(f"{policy_file}: secret: not set; set UGC_GUARD_SECRET")
        ring = key_ring(policy.secrets(), policy.campaign.id, retired=retired_jwks(policy))
    for key in ring.jwks()["keys"]:
        click.echo(f"{key['kid']}  {key['status']}")
