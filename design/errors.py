"""Errors of the design layer (campaigns)."""

from __future__ import annotations

from physics.errors import GBSError

__all__ = [
    "CampaignError",
    "CampaignInterruptedError",
    "InputTooLargeError",
    "OutputPathError",
    "TrackingError",
]


class CampaignError(GBSError):
    """A campaign cannot be created, resumed or continued."""


class CampaignInterruptedError(CampaignError):
    """The user stopped a running campaign (Ctrl-C or SIGTERM); it can be resumed."""

    exit_code = 130


class TrackingError(GBSError):
    """The MLflow store cannot be reached or written (the message says which and what to do)."""


class OutputPathError(GBSError):
    """An output path is a folder where a file is expected (or the reverse), or not writable."""


class InputTooLargeError(GBSError):
    """An input is beyond the size this tool handles in reasonable time (the limit is named)."""
