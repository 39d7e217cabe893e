"""A campaign's configuration: plain data with one JSON serialization path (version-stamped)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from design.acquisition.thresholds import check_thresholds
from physics.errors import ConfigError
from surrogate.base import STRATEGIES

__all__ = ["CONFIG_VERSION", "CampaignConfig", "redact_url"]

CONFIG_VERSION = 1
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def redact_url(url: str) -> str:
    """The URL without user, password, query or fragment (safe to log)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


@dataclass
class CampaignConfig:
    """What a campaign was started with; stored as JSON in the campaign database.

    Attributes:
        name: campaign name (letters, digits, ``_.-``; sent to the service as ``campaign``).
        cycler_url: base URL of the cycler service (credentials are never stored).
        budget: number of experiments (proposals) the campaign runs.
        batch_size: jobs kept in flight; ``None`` = the service's ``max_concurrent_jobs``.
        strategy: ``physics-gp``, ``gp`` or ``sobol``.
        seed: random seed (iteration ``i`` uses ``seed + i``).
        thresholds: property thresholds passed to the acquisition (``name -> value``,
            checked by :func:`design.acquisition.thresholds.check_thresholds`).
        initial_data: the CSV the campaign started from (informative; its rows are in the DB).
        protocols: protocols to request (``None`` = all).
        max_fault_retries: re-runs of a proposal after instrument faults before giving up.
        max_reruns: re-runs of a proposal whose result failed analysis before giving up.
        poll_interval_s: first polling interval; grows x1.5 while nothing changes.
        poll_max_s: longest polling interval.
        plots: whether to draw model and analysis plots into MLflow.
        tracking: whether to log to MLflow at all.
        tracking_uri: the MLflow store given at start (``None``: ``MLFLOW_TRACKING_URI`` or
            the repo's ``mlruns/``); resume uses it again so the parent run continues.
    """

    name: str
    cycler_url: str
    budget: int
    batch_size: int | None = None
    strategy: str = "physics-gp"
    seed: int = 0
    thresholds: dict[str, float] = field(default_factory=dict)
    initial_data: str | None = None
    protocols: list[str] | None = None
    max_fault_retries: int = 5
    max_reruns: int = 2
    poll_interval_s: float = 1.0
    poll_max_s: float = 30.0
    plots: bool = True
    tracking: bool = True
    tracking_uri: str | None = None

    def __post_init__(self) -> None:
        if not _NAME_RE.match(self.name):
            raise ConfigError(
                f"campaign name {self.name!r} must be 1-64 letters, digits, '_', '.' or '-' "
                "and start with a letter or digit"
            )
        if not (isinstance(self.budget, int) and 1 <= self.budget <= 10_000):
            raise ConfigError(f"--budget {self.budget!r} must be an integer in [1, 10000]")
        if self.batch_size is not None and not (1 <= self.batch_size <= 64):
            raise ConfigError(f"--batch-size {self.batch_size!r} must be in [1, 64]")
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"--strategy {self.strategy!r} is not one of {', '.join(STRATEGIES)}")
        if urlsplit(self.cycler_url).scheme not in ("http", "https"):
            raise ConfigError(
                f"--cycler-url {self.cycler_url!r} must be an http:// or https:// URL"
            )
        if urlsplit(self.cycler_url).password or urlsplit(self.cycler_url).username:
            raise ConfigError(
                "--cycler-url must not carry credentials; put the token in CYCLER_TOKEN"
            )
        for name in ("max_fault_retries", "max_reruns"):
            if not 0 <= getattr(self, name) <= 100:
                raise ConfigError(f"{name} = {getattr(self, name)!r} must be in [0, 100]")
        if not (0 < self.poll_interval_s <= self.poll_max_s):
            raise ConfigError("poll_interval_s must be positive and at most poll_max_s")
        self.thresholds = check_thresholds(self.thresholds)
        if self.tracking_uri and (
            urlsplit(self.tracking_uri).password or "token=" in self.tracking_uri
        ):
            raise ConfigError(
                "--tracking-uri must not carry credentials (use MLflow's env variables)"
            )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict with a version stamp."""
        return {"version": CONFIG_VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CampaignConfig:
        """Inverse of :meth:`to_json`.

        Raises:
            ConfigError: unknown version or fields.
        """
        version = data.get("version")
        if version != CONFIG_VERSION:
            raise ConfigError(
                f"campaign config version {version!r} is not supported (expected {CONFIG_VERSION})"
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known - {"version"})
        if unknown:
            raise ConfigError(f"campaign config has unknown fields {unknown}")
        return cls(**{k: v for k, v in data.items() if k in known})
