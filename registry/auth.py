"""Who is asking: a bearer token or a web login becomes the Actor handed to services."""

from __future__ import annotations

import re
import uuid

from flask import Flask, g, request, session

from registry.core.accounts import authenticate, session_account
from registry.core.errors import Unauthenticated
from registry.core.permissions import ANONYMOUS, Actor
from registry.sessions import get_session

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_id() -> str:
    """The caller's X-Request-ID when it is sane, else a fresh one."""
    if "request_id" not in g:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
    return g.request_id


def current_actor() -> Actor:
    """The actor of this request. A bearer token that is unknown, expired or revoked is refused
    outright (401), even for a read, so that a client learns its token is bad."""
    if "actor" in g:
        return g.actor
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthenticated("Use 'Authorization: Bearer <token>'.")
        actor = authenticate(get_session(), secret.strip())
    elif request.blueprint == "web" and session.get("sid"):
        # The login cookie counts on the web pages only, where every form carries a CSRF token;
        # the API takes bearer tokens, so a cross-site request cannot write through it. The
        # cookie names a server-side session, which signing out ends.
        account = session_account(get_session(), str(session["sid"]))
        actor = account.actor() if account else ANONYMOUS
    else:
        actor = ANONYMOUS
    g.actor = Actor(
        actor.name, actor.role, actor.scopes, actor.account_id, actor.token_id, request_id()
    )
    return g.actor


def actor_or_anonymous() -> Actor:
    """For error paths: the actor if it can be told, anonymous otherwise."""
    try:
        return current_actor()
    except Unauthenticated:
        return Actor(ANONYMOUS.name, None, request_id=request_id())


def token_actor() -> Actor | None:
    """The actor of a valid bearer token, or None (no token, or a bad one): for the rate
    limiter, which must count a bad token against its sender's address, not skip it."""
    if not request.headers.get("Authorization") or g.get("bad_token"):
        return None
    try:
        return current_actor()
    except Unauthenticated:
        g.bad_token = True  # looked up once; the 401 itself comes from _check_credentials
        return None


def init_app(app: Flask) -> None:
    @app.before_request
    def _check_credentials():
        # Resolve the caller up front, so that a bad token fails every request, reads included.
        if request.headers.get("Authorization"):
            current_actor()

    @app.after_request
    def _echo_request_id(response):
        response.headers["X-Request-ID"] = request_id()
        return response
