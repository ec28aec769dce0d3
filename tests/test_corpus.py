"""Real files written by others (../shared/corpus): each row of its manifest, judged by the
corpus's own checker (check.py) exactly as `python3 ../shared/corpus/check.py . ../shared/corpus`
judges it: imported faithfully, refused with one `error:` line and exit 2, or read with the named
records rejected; and a second import of a file read changes nothing. One test per file, so a
failure names the file and the reason."""

from __future__ import annotations

import csv
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import SHARED

ROOT = Path(__file__).resolve().parents[1]
CORPUS = SHARED / "corpus"
REGISTRY = ROOT / ".venv" / "bin" / "registry"


def _rows() -> list:
    manifest = CORPUS / "manifest.tsv"
    if not manifest.is_file():
        reason = f"{manifest} is absent: the corpus sits beside the project in CI"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-corpus")]
    with manifest.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [pytest.param(row, id=f"{row['command']}:{row['file']}") for row in rows]


@pytest.fixture(scope="module")
def checker():
    if not REGISTRY.exists():
        pytest.skip(f"{REGISTRY} is missing: the checker runs the installed command (make test)")
    spec = importlib.util.spec_from_file_location("corpus_check", CORPUS / "check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reference(checker, tmp_path_factory) -> tuple[Path, dict]:
    """A migrated database with the reference data, copied for each file."""
    database = checker.build_reference(str(ROOT), tmp_path_factory.mktemp("corpus"))
    return database, checker.max_ids(database)


@pytest.mark.parametrize("row", _rows())
def test_a_real_file_is_handled_as_its_manifest_says(row, checker, reference, tmp_path):
    database, before = reference
    copy = tmp_path / "run.db"
    shutil.copyfile(database, copy)
    answer = checker.registry(
        str(ROOT), ["import", row["command"], str(CORPUS / row["file"])], copy, checker.TIMEOUT
    )
    stored = checker.Stored(copy, before, row["command"])
    try:
        reason = checker.judge(row, answer, stored)
    finally:
        stored.close()
    assert reason is None, f"{reason} ({row['why']})"
    if row["expect"] != "refuse":
        # The same file again changes nothing.
        again = checker.registry(
            str(ROOT),
            ["import", row["command"], str(CORPUS / row["file"]), "--json"],
            copy,
            checker.TIMEOUT,
        )
        counts = json.loads(again.stdout)
        assert (counts["inserted"], counts["updated"]) == (0, 0), counts
