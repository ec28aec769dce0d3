"""The `registry` command's group and what every command shares: one transaction per command,
one `error:` line and exit 2 for bad input, `--json` output, arguments checked as the API
checks them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import sys
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import click
from marshmallow import Schema, ValidationError
from sqlalchemy.exc import SQLAlchemyError

from registry.config import load_config
from registry.core import inputs
from registry.core.db import MAX_ID, make_engine, make_session_factory
from registry.core.errors import DomainError, InvalidData
from registry.core.permissions import OPERATOR, Actor

EXIT_BAD_INPUT = 2


def database_url() -> str:
    return load_config()["DATABASE_URL"]


def command_engine(url: str):
    """The command's engine; on SQLite a write waits DATABASE_BUSY_TIMEOUT seconds for another
    to end, then the command stops with one `error:` line (domain_command)."""
    return make_engine(url, busy_timeout=load_config()["DATABASE_BUSY_TIMEOUT"])


@contextmanager
def session_scope():
    """One session per command: committed when the command succeeds, rolled back otherwise."""
    url = database_url()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = command_engine(url)
    session = make_session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        engine.dispose()


def domain_command(func: Callable) -> Callable:
    """Turn domain errors, and errors of the database (busy past its timeout, a conflict with
    a concurrent writer, unreachable), into one line on stderr and exit code 2: never a
    traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except DomainError as error:
            fields = "; ".join(
                f"{name}: {' '.join(map(str, said)) if isinstance(said, list) else said}"
                for name, said in _flat(error.errors)
            )
            click.echo(f"error: {error.detail}" + (f" ({fields})" if fields else ""), err=True)
            sys.exit(EXIT_BAD_INPUT)
        except SQLAlchemyError as error:
            cause = getattr(error, "orig", None) or error
            reason = " ".join(str(cause).split())[:300]
            click.echo(
                f"error: the database refused the command; what it had not committed is undone "
                f"({type(cause).__name__}: {reason})",
                err=True,
            )
            sys.exit(EXIT_BAD_INPUT)

    return wrapper


def _flat(errors: dict, prefix: str = ""):
    for name, messages in errors.items():
        if isinstance(messages, dict):
            yield from _flat(messages, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", messages


def emit(as_json: bool, data: dict, schema: Schema | None, text: str) -> None:
    if as_json:
        click.echo(json.dumps(schema.dump(data) if schema else data, ensure_ascii=False, indent=2))
    else:
        click.echo(text)


def decimal_argument(value: str, field: str) -> Decimal:
    try:
        return inputs.parse_decimal(value)
    except ValueError as error:
        raise InvalidData(
            f"{value!r} is not a number here: {error}", errors={field: [str(error)]}
        ) from None


def date_argument(value: str | None, field: str = "on") -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidData(
            f"{value!r} is not a date (YYYY-MM-DD).", errors={field: ["Not a valid date."]}
        ) from None


def loaded_query(schema: Schema, values: dict[str, Any]) -> dict[str, Any]:
    """Options checked with the schema of the API's query for the same answer: what the API
    refuses (400), the command refuses (exit 2), with the same messages."""
    try:
        return schema.load({key: value for key, value in values.items() if value is not None})
    except ValidationError as error:
        raise InvalidData(
            "The options cannot be used as given.", errors=dict(error.messages)
        ) from None


# An id option or argument: what the database can hold (registry.core.db.MAX_ID).
DATABASE_ID = click.IntRange(1, MAX_ID)
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def operator() -> Actor:
    """The person at the server's command line, acting as admin; one request id per command."""
    return dataclasses.replace(OPERATOR, request_id=f"cli-{uuid.uuid4().hex}")


@click.group()
def main() -> None:
    """Cross-border credential recognition and transfer registry."""


def json_file(path: Path, argument: str) -> Any:
    """A JSON file's content; a file that cannot be read as UTF-8 JSON is InvalidData naming
    the command's argument."""
    try:
        # The same checks as a request body's: not too deep, text a database can store.
        return inputs.load_json(path.read_text(encoding="utf-8"), argument)
    except (OSError, UnicodeDecodeError, inputs.NotJSON) as error:
        reason = error.__cause__ if isinstance(error, inputs.NotJSON) else error
        raise InvalidData(
            f"{path} is not a readable JSON file (missing, or not UTF-8 JSON): {reason}",
            errors={argument: [str(reason)]},
        ) from error
