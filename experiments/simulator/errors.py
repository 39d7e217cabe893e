"""The simulated service's error answers."""

from __future__ import annotations

__all__ = ["ServiceError"]


class ServiceError(Exception):
    """An error answer of the service: HTTP status, snake_case code, human message."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
