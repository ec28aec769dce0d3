"""setup.py builds the compiled modules when it can and goes on without them when it cannot: a
machine without a C compiler still installs (and reads ELMO and checks its records in Python)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What `setup.py build_ext` reads.
FILES = (
    "setup.py",
    "pyproject.toml",
    "README.md",
    "importers/__init__.py",
    "importers/_elmo_walk.pyx",
    "importers/_xmltree.pyx",
    "registry/__init__.py",
    "registry/catalogue/__init__.py",
    "registry/catalogue/_record_checks.pyx",
)
MODULES = ("importers._elmo_walk", "importers._xmltree", "registry.catalogue._record_checks")


def test_without_a_c_compiler_the_build_goes_on(tmp_path):
    pytest.importorskip("Cython", reason="Cython is a test requirement (and a build one)")
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    done = subprocess.run(
        [sys.executable, "setup.py", "build_ext", "--inplace", "--build-temp", "tmp"],
        cwd=tmp_path,
        env={**os.environ, "CC": "false"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    for module in MODULES:
        assert f'building extension "{module}" failed' in done.stdout + done.stderr
    assert not list(tmp_path.rglob("*.so"))
