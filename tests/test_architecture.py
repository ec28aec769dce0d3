"""The layering rules of DESIGN.md, checked on the import statements of every module."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOP = {
    "registry.app",
    "registry.config",
    "registry.errors",
    "registry.auth",
    "registry.api",
    "registry.web",
    "registry.cli",
    "registry.sessions",
    "registry.migrations",
}

# Each layer may import only from itself and the layers listed for it.
ALLOWED = {
    "registry.core": set(),
    "frameworks": {"registry.core"},
    "registry.institutions": {"registry.core", "frameworks"},
    "registry.catalogue": {"registry.core", "frameworks", "registry.institutions"},
    # The review queue of ambiguous matches: fed by assessments (mappings), above institutions.
    "registry.match_reviews": {"registry.core", "frameworks", "registry.institutions"},
    # Stored verdicts on uploaded files, named by imports and assessments (verifying itself,
    # the cryptography, is importers.verification's).
    "registry.verifications": {"registry.core", "registry.institutions"},
    "mappings": {
        "registry.core",
        "frameworks",
        "registry.institutions",
        "registry.catalogue",
        "registry.match_reviews",
        "registry.verifications",
    },
    "importers": {
        "registry.core",
        "frameworks",
        "registry.institutions",
        "registry.catalogue",
        "registry.match_reviews",
        "registry.verifications",
        "mappings",
    },
    # Signed statements: the stored answers (mappings, catalogue) signed and checked.
    "registry.statements": {
        "registry.core",
        "frameworks",
        "registry.institutions",
        "registry.catalogue",
        "registry.match_reviews",
        "mappings",
        "importers",
    },
}
PROJECT = ("registry", "frameworks", "mappings", "importers")
CONFINED = {
    "rapidfuzz": "mappings.matching",
    "lxml": "importers",
    "click": "registry.cli",
    "flask": None,
    "flask_smorest": None,
    "werkzeug": None,
}


def modules():
    for package in PROJECT:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            yield name, path


def layer_of(name: str) -> str | None:
    for layer in sorted(ALLOWED, key=len, reverse=True):
        if name == layer or name.startswith(layer + "."):
            return layer
    return None


def imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


@pytest.mark.parametrize("name, path", sorted(modules()), ids=lambda v: str(v))
def test_layers(name, path):
    own = layer_of(name)
    for imported in imports(path):
        target = layer_of(imported)
        if own is not None and imported.split(".")[0] in PROJECT:
            assert target is not None and (target == own or target in ALLOWED[own]), (
                f"{name} (layer {own}) imports {imported}"
            )
        root = imported.split(".")[0]
        if root in CONFINED:
            home = CONFINED[root]
            if home is None:
                assert own is None, f"{name} imports {imported}: only the top layer uses Flask"
            else:
                assert name == home or name.startswith(home + "."), f"{name} imports {root}"


def test_importing_the_core_does_not_pull_in_flask():
    import subprocess
    import sys

    code = (
        "import sys, registry.core.db, registry.core.errors, frameworks.services, "
        "mappings.services; print('flask' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "False"
