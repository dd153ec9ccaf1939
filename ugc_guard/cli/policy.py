"""``ugc-guard policy``: check policy files and print their JSON Schema."""

from __future__ import annotations

import json

import click

from ..policy import PolicyError, load_policy
from ..policy.schema import policy_schema


@click.group("policy")
def policy_group() -> None:
    """Check campaign policy files and export their schema."""


@policy_group.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def check(files: tuple[str, ...]) -> None:
    """Validate policy FILES; print one line per problem and exit 1 if any has one."""
    failed = False
    for file in files:
        try:
            policy = load_policy(file)
        except PolicyError as error:
            failed = True
            for line in error.lines:
                click.echo(line, err=True)
            continue
        click.echo(f"{file}: ok (campaign {policy.campaign.id}, terms {policy.terms.version}, licence {policy.licence.id} {policy.licence.version})")
        if policy.secret is None and not policy.development:
            click.echo(f"{file}: warning: secret: not set; the middleware will refuse to start until UGC_GUARD_SECRET is set", err=True)
    if failed:
        raise SystemExit(1)


@policy_group.command("schema")
def schema() -> None:
    """Print the policy JSON Schema (for editor validation and completion)."""
    click.echo(json.dumps(policy_schema(), indent=2, ensure_ascii=False))
