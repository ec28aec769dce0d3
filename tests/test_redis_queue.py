"""The production queue: with REDIS_URL set, an import job queued by one process is run by
`registry worker`, another process (issue 17: the Redis path crashed at start, the client
library was not a dependency). Needs a Redis server on 127.0.0.1:6379 (database 15 is used and
emptied); CI starts one."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_is_there() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def env(tmp_path):
    if not redis_is_there():
        if os.environ.get("CI"):
            pytest.fail("CI must run Redis on 127.0.0.1:6379 (.ci/run starts it)")
        pytest.skip("no Redis server on 127.0.0.1:6379")
    import redis

    queue = redis.Redis.from_url(REDIS_URL)
    queue.flushdb()
    database = tmp_path / "registry.sqlite3"
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "REDIS_URL": REDIS_URL,
        "PYTHONPATH": str(ROOT),
    }
    registry = [sys.executable, "-m", "registry.cli"]
    subprocess.run([*registry, "db", "upgrade"], env=environment, check=True, cwd=tmp_path)
    yield environment, database, registry
    queue.flushdb()


def test_a_job_queued_in_redis_is_run_by_a_worker_process(env, tmp_path):
    environment, database, registry = env
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([{"name": "Queue College", "alpha_two_code": "IE"}]))
    queue_it = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from importers import jobs
        from registry.core.db import make_engine, make_session_factory
        from registry.core.permissions import OPERATOR
        assert type(jobs.huey).__name__ == "RedisHuey"
        url = os.environ["DATABASE_URL"]
        with make_session_factory(make_engine(url))() as session, open({str(listed)!r}, "rb") as f:
            job = jobs.create_job(
                session, OPERATOR, "institutions-json", f, "list.json", {{}},
                Path({str(tmp_path / "uploads")!r}), 1 << 20,
            )
            session.commit()
            jobs.import_task(job.id, url)
        """
    )
    subprocess.run([sys.executable, "-c", queue_it], env=environment, check=True, cwd=tmp_path)
    worker = subprocess.Popen(
        [*registry, "worker", "--workers", "1"],
        env=environment,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline, state = time.monotonic() + 60, None
        while time.monotonic() < deadline:
            with sqlite3.connect(database) as connection:
                state = connection.execute("SELECT state FROM import_job").fetchone()[0]
            if state in ("completed", "failed"):
                break
            time.sleep(0.2)
        assert state == "completed"
        with sqlite3.connect(database) as connection:
            names = connection.execute("SELECT name FROM institution").fetchall()
        assert names == [("Queue College",)]
    finally:
        worker.kill()
        worker.wait(timeout=10)
