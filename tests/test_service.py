"""The service as operators run it, in processes of its own (issue 17).

- The embedded default, `registry serve`: SQLite, gunicorn in one process, the import worker in
  it. One Ctrl-C (SIGINT to the process group, as a terminal sends it) or SIGTERM stops it
  within five seconds; the running import goes back to the queue and the next start completes
  it, with nothing duplicated; 40 assessments answered while an import runs are all 201.
- The production profile: `gunicorn -w 2 wsgi:app` on PostgreSQL, Redis (a database number of
  its own) and `registry worker` processes. A worker killed with SIGKILL mid-job leaves its
  lease to expire and another completes the job, never `failed` in between, with no duplicate;
  SIGTERM stops gunicorn and the worker within five seconds; the two gunicorn workers share
  their rate-limit counters.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.test_redis_queue import redis_is_there

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = [sys.executable, "-m", "registry.cli"]
CREDENTIAL = json.loads((ROOT / "examples" / "credential.json").read_text())
RECORDS = 20_000
STOP_SECONDS = 5.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def institutions_file(path: Path) -> Path:
    """Glasgow (the example credential's institution) and RECORDS colleges: an import that runs
    for seconds, so that it can be stopped half-way."""
    records = [{"name": "University of Glasgow", "alpha_two_code": "GB"}] + [
        {"name": f"Service Test College {n}", "alpha_two_code": "IE"} for n in range(RECORDS)
    ]
    path.write_text(json.dumps(records))
    return path


class Process:
    """A command in a session of its own (its own process group), output kept in a file."""

    def __init__(self, command: list[str], env: dict, cwd: Path, log: Path):
        self.log = log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                command, env=env, cwd=cwd, stdout=out, stderr=out, start_new_session=True
            )

    def signal(self, signum: int, group: bool = False) -> float:
        """Send the signal (to the whole group: a terminal's Ctrl-C); seconds until it ended."""
        started = time.monotonic()
        if group:
            os.killpg(self.popen.pid, signum)
        else:
            self.popen.send_signal(signum)
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"still running 30 s after signal {signum}:\n{self.log.read_text()}")
        return time.monotonic() - started

    def kill(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)


def wait_for(check, what: str, timeout: float = 60.0, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out waiting for {what}")


def up(base: str, headers: dict | None = None) -> bool:
    try:
        answer = requests.get(f"{base}/api/v1/frameworks", headers=headers, timeout=5)
        return answer.status_code == 200
    except requests.RequestException:  # not listening yet, or still loading the application
        return False


def token(env: dict, cwd: Path, role: str) -> dict:
    made = subprocess.run(
        [*REGISTRY, "token", "create", "--role", role, "--json"],
        env=env,
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    return {"Authorization": f"Bearer {json.loads(made.stdout)['token']}"}


def upload(base: str, headers: dict, path: Path) -> int:
    with path.open("rb") as file:
        answer = requests.post(
            f"{base}/api/v1/imports",
            headers=headers,
            data={"format": "institutions-json"},
            files={"file": (path.name, file, "application/json")},
            timeout=30,
        )
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


class Watch:
    """Polls a job through the API from the moment it is uploaded, keeping every state seen."""

    def __init__(self, job_url: str, headers: dict):
        self.job_url, self.headers = job_url, headers
        self.seen: list[str] = []
        self.last: dict = {}

    def poll(self) -> dict:
        try:
            answer = requests.get(self.job_url, headers=self.headers, timeout=5)
        except requests.RequestException:  # the server is being restarted
            return {}
        if answer.status_code == 200:
            self.last = answer.json()
            if not self.seen or self.seen[-1] != self.last["state"]:
                self.seen.append(self.last["state"])
        return self.last

    def until(self, predicate, what: str, timeout: float = 120.0) -> dict:
        return wait_for(lambda: predicate(self.poll()) and self.last, what, timeout)


def half_way(job: dict) -> bool:
    return job.get("state") == "running" and 0 < job.get("read", 0) < RECORDS // 2


def common_env(tmp_path: Path, database_url: str) -> dict:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "REGISTRY_INSTANCE": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "IMPORTS_LEASE_SECONDS": "2",
        "RATELIMIT_AUTHENTICATED": "100000 per minute",
        "SESSION_COOKIE_SECURE": "0",
    }


def prepare(env: dict, cwd: Path) -> None:
    subprocess.run([*REGISTRY, "db", "upgrade"], env=env, cwd=cwd, check=True)
    subprocess.run([*REGISTRY, "load-reference"], env=env, cwd=cwd, check=True, capture_output=True)


def assess_all(base: str, headers: dict, count: int) -> list[int]:
    statuses: list[int] = [0] * count

    def assess(index: int) -> None:
        answer = requests.post(
            f"{base}/api/v1/assessments",
            params={"target": "DE", "target_qualification_type": "bachelor"},
            json=CREDENTIAL,
            headers=headers,
            timeout=60,
        )
        statuses[index] = answer.status_code

    threads = [threading.Thread(target=assess, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_registry_serve_stops_at_one_ctrl_c_and_its_import_resumes(tmp_path):
    database = tmp_path / "registry.sqlite3"
    # No lease expires here (the stop hands the job back): a lease long enough that heartbeats
    # waiting behind 40 concurrent SQLite writers never let it lapse.
    env = {**common_env(tmp_path, f"sqlite:///{database}"), "IMPORTS_LEASE_SECONDS": "15"}
    prepare(env, tmp_path)
    admin, registrar = token(env, tmp_path, "admin"), token(env, tmp_path, "registrar")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = [*REGISTRY, "serve", "--port", str(port)]
    log = tmp_path / "serve.log"

    server = Process(serve, env, tmp_path, log)
    try:
        wait_for(lambda: up(base), "registry serve to answer")
        job_id = upload(base, admin, institutions_file(tmp_path / "colleges.json"))
        watch = Watch(f"{base}/api/v1/imports/{job_id}", admin)
        watch.until(half_way, "the import to be half-way")
        ctrl_c = server.signal(signal.SIGINT, group=True)
    finally:
        server.kill()
    log_text = log.read_text()
    assert ctrl_c < STOP_SECONDS, log_text
    assert "Traceback" not in log_text, log_text
    assert "development server" not in log_text
    with sqlite3.connect(database) as connection:
        handed_back = connection.execute(
            "SELECT state, lease_owner FROM import_job WHERE id = ?", (job_id,)
        ).fetchone()
    assert handed_back == ("queued", None)

    server = Process(serve, env, tmp_path, log)
    try:
        wait_for(lambda: up(base), "registry serve to answer again")
        watch.until(lambda job: job.get("state") == "running", "the import to run again")
        statuses = assess_all(base, registrar, 40)
        still_running = watch.poll()["state"] == "running"
        done = watch.until(lambda job: job.get("state") != "running", "the import to end")
        term = server.signal(signal.SIGTERM)
    finally:
        server.kill()

    print(f"registry serve stopped: Ctrl-C mid-import {ctrl_c:.2f} s, SIGTERM {term:.2f} s")
    assert term < STOP_SECONDS
    assert statuses == [201] * 40
    assert still_running, "the import ended before the assessments were answered"
    assert done["state"] == "completed", done
    assert "failed" not in watch.seen, watch.seen
    # What the first run stored, the second found unchanged: every record once.
    assert done["read"] == RECORDS + 1
    assert done["inserted"] + done["unchanged"] == RECORDS + 1
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM institution").fetchone()[0] == RECORDS + 1


@pytest.fixture
def production(tmp_path):
    """A PostgreSQL database and a Redis database number of the test's own."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url or not redis_is_there():
        if os.environ.get("CI"):
            pytest.fail("CI runs PostgreSQL (TEST_DATABASE_URL) and Redis (.ci/run starts them)")
        pytest.skip("the production profile needs TEST_DATABASE_URL and Redis on 127.0.0.1:6379")
    import redis
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = "test_production_profile"
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    queue_url = "redis://127.0.0.1:6379/14"
    queue = redis.Redis.from_url(queue_url)
    queue.flushdb()
    database_url = make_url(url).set(database=name).render_as_string(hide_password=False)
    env = {**common_env(tmp_path, database_url), "REDIS_URL": queue_url}
    prepare(env, tmp_path)
    yield env, database_url, queue
    queue.flushdb()
    with server.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    server.dispose()


def test_production_profile(production, tmp_path):
    from sqlalchemy import create_engine, text

    env, database_url, queue = production
    engine = create_engine(database_url)

    def lease(job_id: int):
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT state, lease_owner, read FROM import_job WHERE id = :id"),
                {"id": job_id},
            ).one()

    admin = token(env, tmp_path, "admin")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        "2",
        "-c",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "wsgi:app",
    ]
    worker = [*REGISTRY, "worker", "--workers", "1"]
    web = Process(
        gunicorn, {**env, "RATELIMIT_ANONYMOUS": "10 per minute"}, ROOT, tmp_path / "web.log"
    )
    workers = [Process(worker, env, tmp_path, tmp_path / "worker-1.log")]
    try:
        # Asked with a token, so that no anonymous request is counted before the rate test.
        wait_for(lambda: up(base, admin), "gunicorn to answer")
        job_id = upload(base, admin, institutions_file(tmp_path / "colleges.json"))
        watch = Watch(f"{base}/api/v1/imports/{job_id}", admin)
        watch.until(half_way, "the import to be half-way")
        killed_owner = lease(job_id).lease_owner
        workers[0].popen.send_signal(signal.SIGKILL)  # no hand-back: its lease must expire
        workers[0].popen.wait(timeout=10)

        workers.append(Process(worker, env, tmp_path, tmp_path / "worker-2.log"))
        wait_for(
            lambda: (
                (now := lease(job_id)).state == "running"
                and now.lease_owner not in (None, killed_owner)
                and 0 < now.read < RECORDS // 2
            ),
            "the second worker to take the job over",
        )
        watch.poll()
        stopped_worker = workers[1].signal(signal.SIGTERM)  # mid-job: hands the job back
        handed_back = lease(job_id)

        workers.append(Process(worker, env, tmp_path, tmp_path / "worker-3.log"))
        done = watch.until(lambda job: job.get("state") in ("completed", "failed"), "the end")

        # Rate limits: 10 anonymous requests a minute in all, whichever worker answers.
        answers = []
        for _ in range(14):
            with requests.Session() as fresh:  # a new connection each: either worker takes it
                answers.append(fresh.get(f"{base}/api/v1/frameworks", timeout=5).status_code)
        counters = queue.keys("LIMITS*")

        stopped_web = web.signal(signal.SIGTERM)
        stopped_idle_worker = workers[2].signal(signal.SIGTERM)
    finally:
        for process in (web, *workers):
            process.kill()

    logs = {path.name: path.read_text() for path in tmp_path.glob("*.log")}
    assert "taken over" in logs["worker-2.log"], logs
    assert (handed_back.state, handed_back.lease_owner) == ("queued", None), logs
    assert done["state"] == "completed", logs
    assert "failed" not in watch.seen, watch.seen
    assert done["read"] == RECORDS + 1
    assert done["inserted"] + done["unchanged"] == RECORDS + 1
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM institution")).scalar()
    assert stored == RECORDS + 1
    assert tuple(lease(job_id))[:2] == ("completed", None)
    engine.dispose()

    assert answers.count(200) == 10 and answers.count(429) == 4, answers
    assert counters, "the rate-limit counters are not in Redis"
    print(
        f"stopped on SIGTERM: gunicorn {stopped_web:.2f} s, a worker mid-job "
        f"{stopped_worker:.2f} s, an idle worker {stopped_idle_worker:.2f} s"
    )
    assert max(stopped_web, stopped_worker, stopped_idle_worker) < STOP_SECONDS, (
        stopped_web,
        stopped_worker,
        stopped_idle_worker,
    )
