"""Settings. Everything comes from the environment, with defaults that work on a fresh clone."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("REGISTRY_INSTANCE", PROJECT_ROOT / "instance"))


def default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'registry.sqlite3'}"


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


def load_config(overrides: dict | None = None) -> dict:
    settings = {key: getattr(Config, key) for key in dir(Config) if key.isupper()}
    settings["DATABASE_URL"] = os.environ.get("DATABASE_URL") or default_database_url()
    settings["SECRET_KEY"] = os.environ.get("SECRET_KEY", "dev-only-change-me")
    settings["MAX_CONTENT_LENGTH"] = int(os.environ.get("MAX_CONTENT_LENGTH", 64 * 1024 * 1024))
    settings.update(overrides or {})
    return settings
