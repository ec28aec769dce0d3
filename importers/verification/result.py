"""What a verification answers: a verdict, its reason, the issuer vouched for, and every check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Verdict = Literal["verified", "invalid", "unsigned", "unknown_issuer"]
VERDICTS: tuple[str, ...] = ("verified", "invalid", "unsigned", "unknown_issuer")
# What one check found: `not_checked` is said aloud, never read as a pass.
RESULTS: tuple[str, ...] = ("passed", "failed", "not_checked")


def check(name: str, result: str, detail: str) -> dict[str, str]:
    """One line of the report: {"check": "signature", "result": "passed", "detail": "..."}."""
    assert result in RESULTS, result
    return {"check": name, "result": result, "detail": detail}


@dataclass(frozen=True)
class Verification:
    """The answer for one file. `issuer` is the issuer the trust list vouches for (verified), or
    the one the file claims (otherwise), or None where the file names none."""

    verdict: Verdict
    reason: str
    issuer: str | None = None
    checks: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self):
        assert self.verdict in VERDICTS, self.verdict

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "issuer": self.issuer,
            "checks": [dict(item) for item in self.checks],
        }
