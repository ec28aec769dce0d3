"""Domain errors carrying data; `registry.errors` maps them to HTTP, the CLI to exit codes."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    title = "Error"

    def __init__(self, detail: str, *, errors: dict[str, Any] | None = None, **data: Any):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}
        self.data = data


class NotFound(DomainError):
    title = "Not found"


class Hidden(NotFound):
    """A private record the actor may not see: it answers exactly as a record that does not
    exist, but a write refused this way is still audited (`action`, `target` are kept out of
    the answer)."""

    def __init__(self, detail: str, *, action: str, target: str, **data: Any):
        super().__init__(detail, **data)
        self.refused = {"action": action, "target": target}


class Conflict(DomainError):
    """The record exists already; `data["existing"]` names it."""

    title = "Conflict"


class InvalidData(DomainError):
    """Input that fails validation; `errors` maps each field to its messages."""

    title = "Invalid data"


class PermissionDenied(DomainError):
    title = "Permission denied"


class Unauthenticated(DomainError):
    """No credentials, or credentials that are unknown, expired or revoked."""

    title = "Unauthenticated"
