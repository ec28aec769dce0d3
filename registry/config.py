"""Settings. Everything comes from the environment, with defaults that work on a fresh clone."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from registry.core.instance import INSTANCE_DIR


def default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'registry.sqlite3'}"


def instance_secret() -> str:
    """A random session-signing key kept under instance/, made on first use: a fresh install is
    never left with a known key. Set SECRET_KEY to share one key between several servers."""
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    """Defaults; `load_config` reads the environment when the app or a command starts."""

    API_TITLE = "Credential recognition registry"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "v1/openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    # Served from the swagger-ui-bundle package, so the docs page works with no network.
    OPENAPI_SWAGGER_UI_URL = "/api/docs/assets/"
    TESTING = False
    # Per client (a valid token, else the address), over all routes; see registry/limits.py.
    RATELIMIT_ANONYMOUS = "300 per minute"
    RATELIMIT_AUTHENTICATED = "1200 per minute"
    # Refused requests written to the audit trail one by one, per client; past it one summary.
    AUDIT_REFUSALS = "30 per minute"
    # Failed sign-ins before sign-in is refused until the window ends: per name, per address.
    LOGIN_FAILURES_PER_ACCOUNT = "5 per 15 minutes"
    LOGIN_FAILURES_PER_ADDRESS = "20 per 15 minutes"
    # SQLite: seconds a write waits for another's to end before it is answered 503 with
    # Retry-After (registry/errors.py); a write transaction takes the lock when it begins.
    DATABASE_BUSY_TIMEOUT = 30.0


def load_config(overrides: dict | None = None) -> dict:
    settings = {key: getattr(Config, key) for key in dir(Config) if key.isupper()}
    settings["DATABASE_URL"] = os.environ.get("DATABASE_URL") or default_database_url()
    overrides = overrides or {}
    if "SECRET_KEY" not in overrides:
        settings["SECRET_KEY"] = os.environ.get("SECRET_KEY") or instance_secret()
    # The login cookie is Secure (sent over HTTPS only) unless SESSION_COOKIE_SECURE=0, for a
    # development server over plain HTTP on another host than this one (browsers keep Secure
    # cookies of http://localhost and http://127.0.0.1).
    settings["SESSION_COOKIE_SECURE"] = os.environ.get("SESSION_COOKIE_SECURE", "1") != "0"
    settings["MAX_CONTENT_LENGTH"] = int(os.environ.get("MAX_CONTENT_LENGTH", 64 * 1024 * 1024))
    settings["REDIS_URL"] = os.environ.get("REDIS_URL")
    settings["IMPORTS_DIR"] = Path(os.environ.get("IMPORTS_DIR", INSTANCE_DIR / "uploads"))
    # The issuers' keys and certificates signed credentials are verified against (README).
    settings["TRUST_LIST"] = Path(os.environ.get("TRUST_LIST", INSTANCE_DIR / "trust"))
    # Off by default: did:web documents and status lists are fetched only when this is 1.
    settings["TRUST_ONLINE"] = os.environ.get("TRUST_ONLINE", "0") == "1"
    # The operator's Ed25519 key the registry signs its statements with (`registry keys create`),
    # the issuer it signs as (its did:key by default; a did:web the operator publishes), and the
    # public address printed in check URLs (the request's own address when unset).
    settings["SIGNING_KEY"] = Path(
        os.environ.get("SIGNING_KEY", INSTANCE_DIR / "signing" / "registry-ed25519.pem")
    )
    settings["ISSUER_ID"] = os.environ.get("ISSUER_ID") or None
    settings["PUBLIC_URL"] = os.environ.get("PUBLIC_URL") or None
    # Tests run an import inside the request; a server hands it to the queue.
    settings["IMPORTS_INLINE"] = False
    settings["DATABASE_BUSY_TIMEOUT"] = float(
        os.environ.get("DATABASE_BUSY_TIMEOUT", settings["DATABASE_BUSY_TIMEOUT"])
    )
    for name in (
        "RATELIMIT_ANONYMOUS",
        "RATELIMIT_AUTHENTICATED",
        "AUDIT_REFUSALS",
        "LOGIN_FAILURES_PER_ACCOUNT",
        "LOGIN_FAILURES_PER_ADDRESS",
    ):
        settings[name] = os.environ.get(name, settings[name])
    settings.update(overrides)
    return settings
