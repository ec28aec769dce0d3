"""Where an embedded installation keeps its files: the SQLite database, the import queue,
uploads and the session key (`REGISTRY_INSTANCE`, default instance/ in the project)."""

from __future__ import annotations

import os
from pathlib import Path

INSTANCE_DIR = Path(
    os.environ.get("REGISTRY_INSTANCE", Path(__file__).resolve().parents[2] / "instance")
)
