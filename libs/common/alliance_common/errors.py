"""Error categories that domain code raises; entrypoints turn them into RFC 9457 problems.

Plain Python, no HTTP: a domain says *what* went wrong, the adapter says which status.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class InvalidInput(DomainError):
    """A value is well-formed JSON but breaks a business rule (e.g. a bad check digit)."""

    status = 422
    title = "Invalid input"


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    """The request is valid but the current state does not allow it."""

    status = 409
    title = "Conflict"


class Unavailable(DomainError):
    """A component this call needs did not answer; nothing was changed, so trying again is safe."""

    status = 503
    title = "Service unavailable"
