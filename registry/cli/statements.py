"""`registry keys create|show`: the operator's signing key; `registry assessments credential`,
`registry transfers credential`, `registry pathways credential`: a stored record's statement,
signed, on stdout."""

from __future__ import annotations

import json

import click

from registry.cli.base import DATABASE_ID, domain_command, main, operator, session_scope
from registry.cli.pathways import pathways
from registry.config import load_config
from registry.issuing import issuing
from registry.statements import keys, services


@main.group("keys")
def keys_group() -> None:
    """The registry's signing key (SIGNING_KEY), which its signed statements are signed with."""


@keys_group.command("create")
@click.option(
    "--force", is_flag=True, help="Replace an existing key (old statements stop verifying)."
)
@click.option(
    "--if-missing", is_flag=True, help="Do nothing when a key exists already (for make run)."
)
@domain_command
def keys_create(force: bool, if_missing: bool) -> None:
    """Generate an Ed25519 key at SIGNING_KEY (mode 0600) and print its public JWK and issuer.

    An existing key is never replaced without --force: the statements signed with it would
    no longer verify. The issuer is ISSUER_ID, or the key's did:key when that is unset."""
    config = load_config()
    path, issuer = config["SIGNING_KEY"], config["ISSUER_ID"]
    if if_missing and not force and keys.load(path, issuer) is not None:
        click.echo(f"A signing key exists at {path}; kept.")
        return
    key = keys.create(path, issuer, force=force)
    click.echo(f"Signing key written to {path}")
    click.echo(f"issuer: {key.issuer}")
    click.echo(f"did:key: {keys.did_key(key.private)}")
    click.echo(json.dumps(key.public_jwk(), indent=2))


@keys_group.command("show")
@domain_command
def keys_show() -> None:
    """Print the public key as a JWK Set and the issuer's DID document (never the private key).

    For ISSUER_ID=did:web:HOST, publish the DID document at https://HOST/.well-known/did.json
    (the registry serves it there itself)."""
    config = load_config()
    key = keys.required(config["SIGNING_KEY"], config["ISSUER_ID"])
    click.echo(json.dumps({"jwks": key.jwks(), "did_document": key.did_document()}, indent=2))


def _credential_command(group: click.Group, kind: str, what: str) -> None:
    help_text = (
        f"Print {what} NUMBER as a W3C Verifiable Credential signed with the registry's key "
        "(SIGNING_KEY), as its issuer (ISSUER_ID).\n\nSave it to a file and `registry verify` "
        "checks it. Its id is the check URL, on PUBLIC_URL."
    )

    @group.command("credential", help=help_text)
    @click.argument("number", type=DATABASE_ID)
    @click.option(
        "--format",
        "fmt",
        type=click.Choice(services.FORMATS),
        default="jwt",
        show_default=True,
        help="jwt: a VC-JWT (compact JWS); di: JSON with a Data Integrity proof.",
    )
    @domain_command
    def command(number: int, fmt: str) -> None:
        with session_scope() as session:
            _, body = services.signed(
                session, operator(), issuing(load_config()), kind, number, fmt
            )
        click.echo(
            body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, indent=2)
        )


@main.group("assessments")
def assessments_group() -> None:
    """Stored assessments (statements of comparability)."""


@main.group("transfers")
def transfers_group() -> None:
    """Stored transfer evaluations."""


_credential_command(assessments_group, "assessment", "the statement of comparability of assessment")
_credential_command(transfers_group, "transfer", "transfer evaluation")
_credential_command(pathways, "pathway", "pathway evaluation")
