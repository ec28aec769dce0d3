"""Rate limits per token (or per address for anonymous callers), with flask-limiter.

Counters live in memory per process by default and in Redis when REDIS_URL is set, so that
several workers share them.
"""

from __future__ import annotations

import hashlib

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address


def rate_key() -> str:
    header = request.headers.get("Authorization", "")
    if header:
        return "token:" + hashlib.sha256(header.encode()).hexdigest()[:24]
    return "address:" + get_remote_address()


def rate_limit() -> str:
    config = current_app.config
    if request.headers.get("Authorization"):
        return config["RATELIMIT_AUTHENTICATED"]
    return config["RATELIMIT_ANONYMOUS"]


def init_app(app: Flask) -> Limiter:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    limiter = Limiter(key_func=rate_key, app=app, default_limits=[rate_limit], headers_enabled=True)
    return limiter
