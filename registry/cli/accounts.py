"""Accounts, API tokens and the audit trail."""

from __future__ import annotations

import datetime as dt
import sys

import click

from registry.cli.base import (
    DATABASE_ID,
    EXIT_BAD_INPUT,
    domain_command,
    emit,
    json_option,
    main,
    operator,
    session_scope,
)
from registry.core import accounts, audit
from registry.core.permissions import ROLES, Target, authorize


@main.group()
def token() -> None:
    """API tokens: create (shown once), list, revoke."""


@token.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="Country or framework code (ministry), institution id (institution). Repeatable.",
)
@click.option(
    "--account",
    "account_name",
    default=None,
    help="Account name (default: role and scope); created if new.",
)
@click.option("--label", default=None, help="What the token is for.")
@click.option("--expires-in-days", type=click.IntRange(1, 3650), default=None)
@json_option
@domain_command
def token_create(
    role: str,
    scopes: tuple[str, ...],
    account_name: str | None,
    label: str | None,
    expires_in_days: int | None,
    as_json: bool,
) -> None:
    """Create a token for an account with ROLE and SCOPE; the secret is printed once."""
    actor = operator()
    name = account_name or "-".join([role, *sorted(scopes)])
    expires = (accounts.utcnow() + dt.timedelta(days=expires_in_days)) if expires_in_days else None
    with session_scope() as session:
        authorize(actor, "token.manage", Target("token", name))
        account = accounts.get_or_create_account(session, name, role, list(scopes))
        created, secret = accounts.create_token(session, account, label=label, expires_at=expires)
        audit.record(
            session,
            actor,
            "token.create",
            f"token:{created.id}",
            after={
                "account": name,
                "role": role,
                "scopes": sorted(scopes),
                "label": label,
                "expires_at": expires,
                "hint": created.hint,
            },
        )
        answer = {
            "id": created.id,
            "account": name,
            "role": role,
            "scopes": sorted(scopes),
            "expires_at": expires.isoformat() if expires else None,
            "token": secret,
        }
    emit(
        as_json,
        answer,
        None,
        f"Token {answer['id']} for {name} ({role}). Shown once, keep it safe:\n{secret}",
    )


@token.command("list")
@json_option
@domain_command
def token_list(as_json: bool) -> None:
    """Every token with its account, state and hint (never the secret)."""
    with session_scope() as session:
        rows = [
            {
                "id": t.id,
                "account": t.account.name,
                "role": t.account.role,
                "scopes": t.account.scopes,
                "hint": t.hint + "…",
                "label": t.label,
                "state": t.state(),
                "expires_at": t.expires_at.isoformat() if t.expires_at else None,
            }
            for t in accounts.list_tokens(session)
        ]
    text = (
        "\n".join(
            f"{r['id']:>4}  {r['state']:8} {r['hint']:14} {r['account']} ({r['role']})"
            f" {r['label'] or ''}"
            for r in rows
        )
        or "No tokens."
    )
    emit(as_json, {"tokens": rows}, None, text)


@token.command("revoke")
@click.argument("token_id", type=DATABASE_ID)
@json_option
@domain_command
def token_revoke(token_id: int, as_json: bool) -> None:
    """Revoke token TOKEN_ID at once."""
    actor = operator()
    with session_scope() as session:
        authorize(actor, "token.manage", Target("token", str(token_id)))
        revoked = accounts.revoke_token(session, token_id)
        audit.record(
            session,
            actor,
            "token.revoke",
            f"token:{token_id}",
            after={"revoked_at": revoked.revoked_at},
        )
    emit(as_json, {"id": token_id, "state": "revoked"}, None, f"Token {token_id} revoked.")


@main.group()
def account() -> None:
    """Accounts for the web login."""


@account.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--scope", "scopes", multiple=True)
@json_option
@domain_command
def account_create(name: str, role: str, scopes: tuple[str, ...], as_json: bool) -> None:
    """Create (or set the password of) an account that can log in to the web pages.

    The password is never an argument (it would stay in the shell history and the process
    list): it is asked for, twice, at a terminal, or read as the first line of standard input
    (`registry account create anna --role registrar < password-file`). It must not be a common
    password and must be hard to guess (at least 12 characters); setting it ends the account's
    web sessions."""
    password = read_password()
    actor = operator()
    with session_scope() as session:
        authorize(actor, "token.manage", Target("account", name))
        created = accounts.get_or_create_account(session, name, role, list(scopes))
        accounts.set_password(created, password, user_inputs=[name])
        ended = accounts.end_sessions(session, created)
        audit.record(
            session,
            actor,
            "account.password",
            f"account:{name}",
            after={"role": role, "scopes": sorted(scopes), "sessions_ended": ended},
        )
    emit(as_json, {"account": name, "role": role}, None, f"Account {name} ({role}) can log in.")


def read_password() -> str:
    """A password from the terminal (hidden, asked twice) or the first line of stdin."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@main.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@json_option
@domain_command
def audit_verify(as_json: bool) -> None:
    """Check the chain of audit events: each event's hash matches its content and names the
    event before it. Exit code 2, naming the first bad event, when it does not."""
    with session_scope() as session:
        verdict = audit.verify(session)
    answer = {
        "ok": verdict.ok,
        "checked": verdict.checked,
        "broken_at": verdict.broken_at,
        "reason": verdict.reason,
    }
    if verdict.ok:
        emit(as_json, answer, None, f"The audit trail holds: {verdict.checked} events chained.")
        return
    if as_json:
        emit(True, answer, None, "")
    click.echo(
        f"error: the audit trail is broken at event {verdict.broken_at}: {verdict.reason} "
        f"({verdict.checked} events before it hold).",
        err=True,
    )
    sys.exit(EXIT_BAD_INPUT)
