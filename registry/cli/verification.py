"""`registry verify FILE`: is a signed credential authentic and unaltered, and by whom?"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from importers.verification import services
from registry.cli.base import date_argument, domain_command, emit, json_option, main
from registry.config import load_config
from registry.core.errors import InvalidData
from registry.issuing import trust_list

# Exit codes: 0 verified, 1 any other verdict (invalid, unsigned, unknown_issuer), 2 bad input.
EXIT_NOT_VERIFIED = 1


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--on", "on", default=None, help="Day of verification (YYYY-MM-DD); today.")
@click.option(
    "--status",
    "status",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A status list credential at hand (repeatable), besides the trust list's status/.",
)
@json_option
@domain_command
def verify(file: Path, on: str | None, status: tuple[Path, ...], as_json: bool) -> None:
    """Verify FILE's signature (VC-JWT, Data Integrity proof, signed ELMO, EDC JAdES/XAdES seal)
    against the trust list (TRUST_LIST), and its status list where one is at hand.

    The registry's own signing key (SIGNING_KEY) counts as trusted for its issuer (ISSUER_ID),
    so the statements it signed (`registry assessments credential`) verify too.

    Exit code 0 when verified, 1 when invalid, unsigned or from an unknown issuer, 2 for bad
    input (no such file, a bad date, XML or JSON that cannot be read, a status file that is not
    a credential)."""
    day = date_argument(on)
    data = _read(file)
    lists = [(path.name, _read(path)) for path in status]
    trust = trust_list(load_config())
    answer = services.verify(data, trust=trust, on=day, status=lists).as_dict()
    lines = [f"{answer['verdict']}: {answer['reason']}"]
    if answer["issuer"]:
        lines.append(f"  issuer: {answer['issuer']}")
    lines += [
        f"  {item['check']}: {item['result']} ({item['detail']})" for item in answer["checks"]
    ]
    emit(as_json, answer, None, "\n".join(lines))
    if answer["verdict"] != "verified":
        sys.exit(EXIT_NOT_VERIFIED)


def _read(file: Path) -> bytes:
    try:
        with file.open("rb") as stream:
            return stream.read(services.MAX_BYTES + 1)
    except OSError as error:
        raise InvalidData(
            f"{file} cannot be read: {error.strerror}", errors={"file": [str(error.strerror)]}
        ) from None
