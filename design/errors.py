"""Errors of the design layer (campaigns)."""

from __future__ import annotations

from physics.errors import GBSError

__all__ = ["CampaignError", "CampaignInterruptedError"]


class CampaignError(GBSError):
    """A campaign cannot be created, resumed or continued."""


class CampaignInterruptedError(CampaignError):
    """The user stopped a running campaign (Ctrl-C or SIGTERM); it can be resumed."""

    exit_code = 130
