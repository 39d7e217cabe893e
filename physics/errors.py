"""The base error of the project and the errors of the physics layer.

Every error a user can cause (a bad file, a bad recipe, a misbehaving service) is a
:class:`GBSError`; the CLI prints its message on one line and exits non-zero, without a
traceback. Messages name the offending value and, where there are any, the valid choices.

Each layer owns its errors, all subclasses of :class:`GBSError`: this module (files, tables,
fits, analyses, calibration, configuration values), :mod:`surrogate.errors`,
:mod:`experiments.cycler.errors` and :mod:`design.errors`.
"""

from __future__ import annotations

__all__ = [
    "AnalysisError",
    "CalibrationError",
    "CircuitError",
    "ConfigError",
    "DataError",
    "FileFormatError",
    "FitError",
    "GBSError",
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


class ConfigError(GBSError, ValueError):
    """A command-line option or configuration value is invalid."""
