"""Rate limits per client, with flask-limiter, and the counters that keep refusals and failed
sign-ins from flooding the audit trail or guessing passwords.

A client is its token when the token is valid, else its address: a bogus bearer header is
counted against the address it comes from (and its 401 too), never let through uncounted. The
limit is one budget per client over the whole application, not one per route. Counters live in
memory per process by default and in Redis when REDIS_URL is set, so that several workers share
them.
"""

from __future__ import annotations

import time

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse

from registry.auth import token_actor


def rate_key() -> str:
    actor = token_actor()
    if actor is not None and actor.token_id is not None:
        return f"token:{actor.token_id}"
    return "address:" + get_remote_address()


def rate_limit() -> str:
    config = current_app.config
    if token_actor() is not None:
        return config["RATELIMIT_AUTHENTICATED"]
    return config["RATELIMIT_ANONYMOUS"]


def _limiter() -> Limiter:
    return current_app.extensions["registry.limiter"]


def _item(setting: str) -> RateLimitItem:
    return parse(current_app.config[setting])


def _once_per_window(item: RateLimitItem) -> RateLimitItem:
    return type(item)(1, item.multiples)


def refusal_to_audit() -> str:
    """Whether this client's refusal is written to the audit trail: "record" up to
    AUDIT_REFUSALS a window, then "summary" once (a single event saying that further refusals
    from this client are counted, not written, until the window ends), then "skip". The trail
    grows by a bounded number of rows per client, however hard it is flooded."""
    item, key = _item("AUDIT_REFUSALS"), rate_key()
    counters = _limiter().limiter
    if counters.hit(item, "audit-refusals", key):
        return "record"
    if counters.hit(_once_per_window(item), "audit-refusals-summary", key):
        return "summary"
    return "skip"


def _login_keys(name: str) -> list[tuple[str, str, str]]:
    return [
        ("LOGIN_FAILURES_PER_ACCOUNT", "login-failures-account", name.casefold()[:200]),
        ("LOGIN_FAILURES_PER_ADDRESS", "login-failures-address", get_remote_address()),
    ]


def login_wait(name: str) -> int:
    """Seconds before this account name may be tried again from this address (0: now).
    After LOGIN_FAILURES_PER_ACCOUNT failures for one name, or LOGIN_FAILURES_PER_ADDRESS from
    one address, sign-in is refused until the window ends, right password or not."""
    counters = _limiter().limiter
    wait = 0
    for setting, namespace, key in _login_keys(name):
        item = _item(setting)
        if not counters.test(item, namespace, key):
            reset, _ = counters.get_window_stats(item, namespace, key)
            wait = max(wait, int(reset - time.time()) + 1)
    return wait


def login_failed(name: str) -> None:
    counters = _limiter().limiter
    for setting, namespace, key in _login_keys(name):
        counters.hit(_item(setting), namespace, key)


def init_app(app: Flask) -> Limiter:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    limiter = Limiter(
        key_func=rate_key, app=app, application_limits=[rate_limit], headers_enabled=True
    )
    app.extensions["registry.limiter"] = limiter
    return limiter
