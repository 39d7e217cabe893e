"""Errors of the surrogate layer."""

from __future__ import annotations

from physics.errors import GBSError

__all__ = ["ModelError"]


class ModelError(GBSError):
    """A surrogate was used before fitting, or cannot be fitted on the given data."""
