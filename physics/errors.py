"""The project's exceptions: one base class and specific subclasses.

Every error a user can cause (a bad file, a bad recipe, a misbehaving service) is a
:class:`GBSError`; the CLI prints its message on one line and exits non-zero, without a
traceback. Messages name the offending value and, where there are any, the valid choices.
"""

from __future__ import annotations

__all__ = [
    "AnalysisError",
    "CalibrationError",
    "CampaignError",
    "CircuitError",
    "ConfigError",
    "CyclerAuthError",
    "CyclerError",
    "CyclerProtocolError",
    "CyclerRejectedError",
    "CyclerUnavailableError",
    "DataError",
    "FileFormatError",
    "FitError",
    "GBSError",
    "ModelError",
]


class GBSError(Exception):
    """Base class of every error this project raises on purpose."""

    exit_code: int = 1


class CircuitError(GBSError, ValueError):
    """A circuit string cannot be parsed, or parameters do not match the circuit."""


class FitError(GBSError):
    """A fit could not be carried out (too few points, no finite values, no convergence)."""


class FileFormatError(GBSError, ValueError):
    """An instrument or data file is malformed, truncated or of the wrong kind."""


class AnalysisError(GBSError, ValueError):
    """Raw measurement data cannot be turned into a property (NaN, wrong shape, no decay...)."""


class DataError(GBSError, ValueError):
    """A measurement table is invalid (missing columns, NaN, unit mix-ups, duplicates)."""


class CalibrationError(GBSError):
    """The process model cannot be calibrated on the given table."""


class ModelError(GBSError):
    """A surrogate was used before fitting, or cannot be fitted on the given data."""


class ConfigError(GBSError, ValueError):
    """A command-line option or configuration value is invalid."""


class CampaignError(GBSError):
    """A campaign cannot be created, resumed or continued."""


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
