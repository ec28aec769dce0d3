"""gunicorn's settings for `gunicorn wsgi:app`, read from the project folder: a stop (SIGTERM)
gives a worker a few seconds, not gunicorn's default 30, and an embedded import worker (no
REDIS_URL) hands its job back as the worker ends (registry/server.py)."""

from registry.server import GRACE_SECONDS, worker_exit  # noqa: F401 (a gunicorn hook)

graceful_timeout = GRACE_SECONDS
# gunicorn's control socket (one path per user) is not used by the registry, and two servers on
# one machine would contend for it.
control_socket_disable = True
