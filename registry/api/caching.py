"""Public reads answered from memory, and revalidated by HTTP caches.

A public read (equivalents, conversions, frameworks and levels, institutions) answers the same
to everyone, and its answer changes only when a write renews one of the change tokens it
depends on (registry.core.changes). So its answer is tagged with a hash of the endpoint, its
path and query arguments (in name order), today's date (the default of `on`) and those tokens.
A request reads the tokens (one query), answers 304 when the client already holds that tag, the
body this process stored under it when there is one, and otherwise computes it (the query is
parsed and validated then, by the view). A write in any process renews a token,
which changes the tag of every answer it could affect: nothing stale is served, and nothing
needs telling the other processes.

Only published data is kept: drafts are never in a public answer, an endpoint that shows more to
some callers (`anonymous_only`) is kept for anonymous callers only, and errors are not kept.
Every other API answer is marked `private, no-store`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import threading

from flask import Flask, Response, current_app, request

from registry.auth import current_actor
from registry.sessions import current_tokens

# Any cache may keep a public answer but must ask again (If-None-Match) before each use: a
# revalidation costs the server one query, and an answer is never out of date by a max-age.
PUBLIC = "public, no-cache"
PRIVATE = "private, no-store"
# Answers kept per process, the oldest dropped first: institution search takes any text.
MAX_ANSWERS = 2048


class Answers:
    """Response bodies by tag, at most `size` of them."""

    def __init__(self, size: int = MAX_ANSWERS) -> None:
        self.size = size
        self._bodies: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def get(self, tag: str) -> bytes | None:
        return self._bodies.get(tag)

    def put(self, tag: str, body: bytes) -> None:
        with self._lock:
            if len(self._bodies) >= self.size:
                del self._bodies[next(iter(self._bodies))]
            self._bodies[tag] = body


def answer_tag(tokens: tuple[str, ...]) -> str:
    """The tag of this request's answer, the same in every process: the endpoint, its path
    arguments, its query arguments in name order, today's date and the tokens' values."""
    path = sorted((name, str(value)) for name, value in (request.view_args or {}).items())
    query = sorted(request.args.items(multi=True))
    material = [request.endpoint, path, query, dt.date.today().isoformat(), tokens]
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()[:32]


def public_read(*tokens: str, anonymous_only: bool = False):
    """Serve this GET view from the process's answers, validated by the change tokens it
    depends on; put it above flask-smorest's decorators, so that a kept answer costs no
    parsing either.

    `anonymous_only`: the answer shows more to some callers (drafts to their authority), so
    only anonymous callers' answers are kept; an authenticated caller's is computed each time
    and marked private."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if anonymous_only and not current_actor().anonymous:
                response = view(*args, **kwargs)
                response.headers["Cache-Control"] = PRIVATE
                response.vary.add("Authorization")
                return response
            tag = answer_tag(current_tokens(tokens))
            if request.if_none_match.contains_weak(tag):
                response = current_app.response_class(status=304)
            else:
                answers: Answers = current_app.extensions["registry.answers"]
                body = answers.get(tag)
                if body is None:
                    response = view(*args, **kwargs)
                    if response.status_code == 200:
                        answers.put(tag, response.get_data())
                else:
                    response = current_app.response_class(body, mimetype="application/json")
            # Weak: processes agree on the answer, not always byte for byte (ties in a search).
            response.set_etag(tag, weak=True)
            response.headers["Cache-Control"] = PUBLIC
            if anonymous_only:
                response.vary.add("Authorization")
            return response

        # flask-smorest documents the ETag header, If-None-Match and the 304.
        wrapper._apidoc = {**getattr(wrapper, "_apidoc", {}), "etag": True}
        return wrapper

    return decorate


def init_app(app: Flask, blueprints: set[str]) -> None:
    """Keep answers in this app (one per process), and mark every answer of the API's
    `blueprints` that `public_read` did not mark as private."""
    app.extensions["registry.answers"] = Answers()

    def private_by_default(response: Response) -> Response:
        if request.blueprint in blueprints and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = PRIVATE
        return response

    app.after_request(private_by_default)
