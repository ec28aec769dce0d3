"""Running the registry: the database schema, the bundled reference data, the server and the
import worker.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from frameworks import reference
from registry.cli.base import (
    database_url,
    domain_command,
    emit,
    json_option,
    main,
    operator,
    session_scope,
)
from registry.config import load_config


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@json_option
def db_upgrade(as_json: bool) -> None:
    """Create or migrate the database to the latest schema."""
    from registry.migrations import upgrade

    url = database_url()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    upgrade(url)
    emit(as_json, {"database": url, "revision": "head"}, None, f"Database at head: {url}")


@main.command("load-reference")
@json_option
@domain_command
def load_reference(as_json: bool) -> None:
    """Load the bundled frameworks, credit systems and grading scales (idempotent)."""
    with session_scope() as session:
        summary = reference.load_reference(session, operator())
    outcomes = [f"{r['code']} {r['version']}: {r['outcome']}" for r in summary["frameworks"]]
    text = "\n".join(
        [
            *outcomes,
            f"credit systems: {summary['credit_systems']}",
            f"grading scales: {summary['grading_scales']}",
        ]
    )
    emit(as_json, summary, None, text)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the web UI and API under gunicorn, in one process with the import worker; SIGTERM
    or Ctrl-C stops it. For several processes: `gunicorn wsgi:app`, REDIS_URL and `registry
    worker`."""
    from registry.server import serve as run_server

    run_server(host, port)


@main.command()
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 32))
def worker(workers: int) -> None:
    """Run import jobs from the queue (Redis when REDIS_URL is set, else instance/huey.sqlite3).
    SIGTERM or Ctrl-C stops it within five seconds: running imports stop after their current
    batch and their jobs go back to the queue."""
    import signal

    from importers.worker import ImportWorker

    runner = ImportWorker(database_url(), workers, load_config()["DATABASE_BUSY_TIMEOUT"])

    def stop(signum, _frame) -> None:
        if runner.stopping.is_set():  # a second Ctrl-C: leave at once
            sys.exit(1)
        runner.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    requeued = runner.start()
    click.echo(
        f"Import worker {runner.name}: {workers} thread(s); "
        f"{len(requeued)} waiting job(s) queued again.",
        err=True,
    )
    while not runner.stopping.wait(0.5):
        pass
    click.echo("Import worker stopping: running jobs go back to the queue.", err=True)
    if not runner.stop():
        click.echo("error: an import did not stop in time; its lease expires.", err=True)
        sys.exit(1)
