"""gunicorn's settings for `gunicorn wsgi:app`, read from the project folder: a stop (SIGTERM)
gives requests in flight a few seconds, not gunicorn's default 30 (registry/server.py)."""

from registry.server import GRACE_SECONDS

graceful_timeout = GRACE_SECONDS
# gunicorn's control socket (one path per user) is not used by the registry, and two servers on
# one machine would contend for it.
control_socket_disable = True
