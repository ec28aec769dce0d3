"""Benchmark: the public API's reads under gunicorn on PostgreSQL, each beside a static file
served by the same server, in one run.

    .venv/bin/python bench/api_load.py [--seconds 9] [--connections 4] [--load wrk|threads]

Creates the database `registry_bench` (dropped first if it exists, and again at the end) on the
PostgreSQL server of BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/
postgres), migrates it, loads the bundled reference data and 10,000 synthetic institutions, and
starts `gunicorn -w 2 wsgi:app` on it (no REDIS_URL; the rate limit raised out of the way).
Then it drives each path in turn, in three rounds of a third of `--seconds`, with `wrk` when it
is on PATH, else with Python threads on HTTP/1.1 connections, and prints requests/s of each
beside the static file's (registry/web/static/style.css: the least a request through this
server costs), and their ratio. Target: equivalents and both conversions at >= 0.5x the static
file. Skipped, with a message, when PostgreSQL is unreachable.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import make_url, text  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.timing import load_reference_data  # noqa: E402
from mappings.matching_eval import synthetic_records, variants  # noqa: E402
from registry.core.db import make_engine  # noqa: E402
from registry.institutions.schemas import InstitutionRecordSchema  # noqa: E402
from registry.institutions.services import upsert_many  # noqa: E402

SERVER = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
DATABASE = "registry_bench"
INSTITUTIONS = 10_000
TARGET = 0.5
ROUNDS = 3


def _query(path: str, **params: str) -> str:
    return f"/api/v1/{path}?{urlencode(params)}"


PATHS = {
    "static file": ["/web/static/style.css"],
    "equivalents": [
        _query("equivalents", level=level, target=target)
        for level, target in (
            ("IE-NFQ:8", "GB-SCQF"),
            ("GB-SCQF:10", "DE-DQR"),
            ("AT-NQR:VI", "IT-QNQ"),
            ("NZ-NZQCF:7", "MT-MQF"),
            ("NL-NLQF:4+", "GB-RQF"),
            ("PL-PQF:6", "IE-NFQ"),
        )
    ],
    "levels": [
        f"/api/v1/frameworks/{code}/levels" for code in ("EQF", "IE-NFQ", "DE-DQR", "GB-SCQF")
    ],
    "credits": [
        _query("credits/convert", value=value, **{"from": source, "to": target})
        for value, source, target in (
            ("240", "GB-CATS", "ECTS"),
            ("60", "ECTS", "US-SEM"),
            ("120", "NZ-CR", "ECTS"),
        )
    ],
    "grades": [
        _query("grades/convert", value=value, **{"from": source, "to": target})
        for value, source, target in (
            ("1.7", "DE-1-5", "FR-0-20"),
            ("14", "FR-0-20", "DE-1-5"),
            ("27", "IT-30", "DE-1-5"),
        )
    ],
}


def institution_paths(records) -> list[str]:
    """Noisy names of institutions in the registry, half of them with their country."""
    return [
        _query("institutions", q=query, **({"country": country} if index % 2 else {}))
        for index, (query, country, _) in enumerate(variants(records, 50, seed=2))
    ]


def create_database(server: str) -> str | None:
    """The URL of a fresh, empty database on the server; None when it is unreachable."""
    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {DATABASE}"))
    except OperationalError as error:
        print(f"skipped: PostgreSQL is unreachable at {server} (BENCH_POSTGRES_URL): {error.orig}")
        return None
    finally:
        admin.dispose()
    return make_url(server).set(database=DATABASE).render_as_string(hide_password=False)


def drop_database(server: str) -> None:
    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
    admin.dispose()


def load_data(url: str):
    """The database at head with the reference data and the synthetic institutions (returned)."""
    engine = load_reference_data(url)
    records = synthetic_records(INSTITUTIONS, seed=1, start_id=1)
    schema = InstitutionRecordSchema()
    with Session(engine) as session:
        upsert_many(
            session,
            [schema.load({"name": record.name, "country": record.country}) for record in records],
        )
        session.commit()
    engine.dispose()
    return records


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(url: str, port: int, instance: str) -> subprocess.Popen:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "TEST_DATABASE_URL")
    }
    env.update(
        DATABASE_URL=url,
        REGISTRY_INSTANCE=instance,
        RATELIMIT_ANONYMOUS="100000000 per minute",
        PYTHONPATH=str(ROOT),
    )
    log = Path(instance) / "gunicorn.log"
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if status_of(port, PATHS["static file"][0]) == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit(f"gunicorn did not start:\n{log.read_text()[-2000:]}")


def status_of(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


WRK_SCRIPT = """
local paths = {PATHS}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def with_wrk(port: int, paths: list[str], seconds: float, connections: int) -> float:
    """Requests/s by wrk, its requests going round `paths`; any answer but 200 fails."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(WRK_SCRIPT.replace("PATHS", ", ".join(f'"{path}"' for path in paths)))
        lua.flush()
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "-s", lua.name]
        output = subprocess.run(
            [*command, f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True
        ).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise SystemExit(f"wrk saw failed requests:\n{output}")
    return float(re.search(r"Requests/sec:\s*([\d.]+)", output)[1])


def with_threads(port: int, paths: list[str], seconds: float, connections: int) -> float:
    """Requests/s of `connections` threads, each on its own HTTP/1.1 connection (reopened when
    the server closes it), going round `paths`; any answer but 200 fails."""
    counts = [0] * connections
    failures: list[str] = []
    deadline = time.perf_counter() + seconds

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        index = number
        while time.perf_counter() < deadline:
            path = paths[index % len(paths)]
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failures.append(f"{response.status} {path}")
                break
            if response.will_close:
                connection.close()
            counts[number] += 1
            index += 1
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"failed requests: {failures[:5]}")
    return sum(counts) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=9.0, help="per path")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument(
        "--load", choices=("wrk", "threads"), help="default: wrk when on PATH, else threads"
    )
    args = parser.parse_args()
    url = create_database(SERVER)
    if url is None:
        return 0
    generator = args.load or ("wrk" if shutil.which("wrk") else "threads")
    drive = with_wrk if generator == "wrk" else with_threads
    try:
        paths = {**PATHS, "institutions": institution_paths(load_data(url))}
        with tempfile.TemporaryDirectory() as instance:
            port = free_port()
            server = start_server(url, port, instance)
            try:
                for group in paths.values():  # warm both workers' caches and indexes
                    drive(port, group, 1.0, args.connections)
                # Round after round, so that a drift of the machine's speed touches every path.
                rates = dict.fromkeys(paths, 0.0)
                for _ in range(ROUNDS):
                    for name, group in paths.items():
                        rate = drive(port, group, args.seconds / ROUNDS, args.connections)
                        rates[name] += rate / ROUNDS
            finally:
                server.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
                server.wait(30)
    finally:
        drop_database(SERVER)

    print(
        f"gunicorn -w 2 on PostgreSQL; load: {generator}, "
        f"{args.connections} connections, {args.seconds:g} s a path"
    )
    static = rates["static file"]
    print(f"{'path':13} {'req/s':>8} {'x static':>9}")
    for name, rate in rates.items():
        print(f"{name:13} {rate:8.0f} {rate / static:9.2f}")
    slowest = min(rates[name] for name in ("equivalents", "credits", "grades")) / static
    verdict = "met" if slowest >= TARGET else "MISSED"
    print(f"target: equivalents and conversions >= {TARGET}x the static file: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
