"""Errors talking to a cycler service (what the client raises)."""

from __future__ import annotations

from physics.errors import GBSError

__all__ = [
    "CyclerAuthError",
    "CyclerError",
    "CyclerProtocolError",
    "CyclerRejectedError",
    "CyclerUnavailableError",
]


class CyclerError(GBSError):
    """Base class of errors talking to a cycler service."""


class CyclerAuthError(CyclerError):
    """The service refused the token (HTTP 401)."""


class CyclerRejectedError(CyclerError):
    """The service rejected the request (HTTP 400/404/409): retrying will not help."""

    def __init__(self, message: str, status_code: int, code: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code


class CyclerUnavailableError(CyclerError):
    """The service stayed unreachable or busy after all retries."""


class CyclerProtocolError(CyclerError):
    """The service answered something the protocol does not allow (garbage, NaN, wrong type)."""
