"""The import worker: threads that take jobs off the queue, run them, and stop when told.

Embedded in the web process (one thread over the SQLite queue under instance/) and run as
`registry worker` (over Redis). Not huey's own consumer: that one installs signal handlers of
its own, which in a web process took SIGTERM and Ctrl-C away from the server. Here the server
or the command owns the signals and calls `stop()`: a running import stops after its current
batch, its job goes back to the queue, and `stop()` returns within the grace it is given.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from importers import jobs
from registry.core.db import SQLITE_BUSY_TIMEOUT, make_engine, make_session_factory

log = logging.getLogger("registry.imports")

# How long an idle thread waits before it asks a queue that does not block (SQLite) again.
POLL_SECONDS = 0.5


class ImportWorker:
    def __init__(
        self,
        database_url: str,
        threads: int = 1,
        busy_timeout: float = SQLITE_BUSY_TIMEOUT,
    ):
        self.database_url = database_url
        self.name = jobs.worker_name()
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._count = threads
        self._busy_timeout = busy_timeout
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()
        self.sessions = self._sessions(database_url)

    def _sessions(self, url: str) -> sessionmaker[Session]:
        """A session factory for the database a message names: the worker's own, or (a queue
        shared by several registries) another, with an engine kept for the next job."""
        with self._lock:
            if url not in self._engines:
                self._engines[url] = make_engine(url, busy_timeout=self._busy_timeout)
            return make_session_factory(self._engines[url])

    def start(self) -> list[int]:
        """Queue again what a stopped or dead worker left (see jobs.requeue_interrupted), then
        start the threads. Returns the ids of the jobs queued again."""
        requeued = jobs.requeue_interrupted(self.sessions, self.database_url)
        for index in range(self._count):
            self._spawn(self._take_jobs, f"import-worker-{index}", f"{self.name}/{index}")
        self._spawn(self._sweep, "import-worker-sweep")
        atexit.register(self.stop)
        return requeued

    def _spawn(self, target, name: str, *args) -> None:
        thread = threading.Thread(target=target, name=name, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _take_jobs(self, owner: str) -> None:
        while not self.stopping.is_set():
            try:
                task = jobs.huey.dequeue()
            except Exception:
                log.exception("The import queue cannot be read; trying again.")
                self.stopping.wait(1)
                continue
            if task is None:
                if not jobs.huey.storage.blocking:
                    self.stopping.wait(POLL_SECONDS)
                continue
            if type(task) is not jobs.import_task.task_class or len(task.args) != 2:
                # Not a message this version writes: dropped, said in the log; a job it was for
                # is still queued in the database and is queued again when a worker starts.
                log.error(
                    "Import queue message not understood, dropped: %s %r", task.name, task.args
                )
                continue
            job_id, url = task.args
            if self.stopping.is_set():  # taken as the worker stops: left for the next one
                jobs.import_task(job_id, url)
                return
            try:
                job = jobs.run_job(self._sessions(url), job_id, owner, self.stopping)
            except Exception:
                # The database failed under the job: its lease expires and it is taken over.
                log.exception("Import job %s stopped on an error.", job_id)
                continue
            if job is not None and job.state == "queued":  # handed back: for the next worker
                jobs.import_task(job_id, url)

    def _sweep(self) -> None:
        """Take over the jobs of workers that died (lease expired), every third of a lease."""
        while not self.stopping.wait(jobs.lease_seconds() / 3):
            try:
                taken = jobs.take_over_expired(self.sessions, self.database_url)
            except Exception:
                log.exception("The import jobs cannot be swept; trying again.")
                continue
            if taken:
                log.warning("Import jobs %s taken over from a worker that stopped.", taken)

    def stop(self, grace: float = 4.0) -> bool:
        """Stop taking jobs, hand back the running ones; True when every thread ended in time."""
        self.stopping.set()
        deadline = time.monotonic() + grace
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        ended = not any(thread.is_alive() for thread in self._threads)
        if ended:
            atexit.unregister(self.stop)
            for engine in self._engines.values():
                engine.dispose()
        return ended
