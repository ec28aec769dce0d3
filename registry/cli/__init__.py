"""The `registry` command: thin wrappers over the same services the API calls.

Every command takes `--json` for machine output. Bad input (a domain error) prints one clear
line on stderr and exits with code 2; each command is one transaction.
"""

from registry.cli import (  # noqa: F401 (each module adds its commands to the group)
    accounts,
    assessments,
    grade_tables,
    imports,
    lookups,
    match_reviews,
    pathway_evaluations,
    pathways,
    service,
    statements,
    verification,
)
from registry.cli.base import main

__all__ = ["main"]
