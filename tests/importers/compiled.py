"""What the tests of a compiled module ask first: that it was built."""

from __future__ import annotations

import os
from typing import TypeVar

import pytest

T = TypeVar("T")


def built(found: T | None, module: str) -> T:
    """`found` (what the code uses from `module`); a failure in CI, which has a C compiler and
    so must have built it, and a skip elsewhere (an install without a C compiler)."""
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{module} was not built: CI has a C compiler")
        pytest.skip(f"{module} is not built (no C compiler at install)")
    return found
