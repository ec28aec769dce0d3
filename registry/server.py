"""`registry serve`: the application under gunicorn, the production server, in one process.

One worker process (the embedded import worker and SQLite want one), with threads so that
requests go on beside each other. SIGTERM or one Ctrl-C stops it: requests in flight get
GRACE_SECONDS to end, the running import is handed back to the queue (importers.worker, at
the worker process's exit), and the whole stop takes under five seconds.
"""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

# Seconds a stopping server gives a worker process to end before it is killed (gunicorn.conf.py
# uses the same for `gunicorn wsgi:app`), and the part of them a running import has to stop and
# be handed back.
GRACE_SECONDS = 4
IMPORT_GRACE_SECONDS = 2.5


def worker_exit(_server, worker) -> None:
    """gunicorn calls this in a worker process as it ends, before the interpreter's shutdown
    waits for the request threads: the embedded import worker hands its job back first, while
    there is time."""
    import_worker = getattr(worker.wsgi, "extensions", {}).get("registry.import_worker")
    if import_worker is not None:
        import_worker.stop(grace=IMPORT_GRACE_SECONDS)


class Server(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from registry.app import create_app

        return create_app()


def serve(host: str, port: int, threads: int = 8) -> None:
    Server(
        {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": threads,
            "graceful_timeout": GRACE_SECONDS,
            "worker_exit": worker_exit,
            "accesslog": "-",
            "proc_name": "registry",
            "control_socket_disable": True,
        }
    ).run()
