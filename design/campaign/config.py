"""A campaign's configuration: plain data with one JSON serialization path (version-stamped).

Version 2 added several cycler services (``other_cycler_urls``), the instrument-hours budget
(``budget_hours``, with the sample budget ``budget`` now optional) and the protocol policy
(``protocol_policy``: ``all`` or ``staged``). A version-1 configuration reads as one service,
a sample budget and the ``all`` policy, which is what it was.

Version 3 added ``minimize_temperature`` (the sintering temperature as a fourth objective); a
version-1 or -2 configuration reads with it off, which is what it was.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from design.acquisition.thresholds import check_temperature_objective, check_thresholds
from physics.errors import ConfigError
from surrogate.base import STRATEGIES

__all__ = [
    "CONFIG_VERSION",
    "PROTOCOL_POLICIES",
    "CampaignConfig",
    "redact_url",
    "service_name",
    "token_variable",
]

CONFIG_VERSION = 3
_READABLE_VERSIONS = (1, 2, 3)
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: ``--protocols``: every protocol in one job per sample, or staged tests (impedance and
#: polarization first, the Na-metal tests as a follow-up chosen by gain per instrument-hour).
PROTOCOL_POLICIES: tuple[str, ...] = ("all", "staged")
_MAX_SERVICES = 16


def service_name(index: int) -> str:
    """The name of the campaign's ``index``-th cycler service (0-based): ``cycler-1``..."""
    return f"cycler-{index + 1}"


def token_variable(index: int) -> str:
    """The environment variable holding the token of service ``index`` (0-based).

    ``CYCLER_TOKEN`` for the first service (as the protocol says), ``CYCLER_TOKEN_2``,
    ``CYCLER_TOKEN_3``... for the others, in the order of ``--cycler-url``.
    """
    return "CYCLER_TOKEN" if index == 0 else f"CYCLER_TOKEN_{index + 1}"


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
        cycler_url: base URL of the (first) cycler service, ``cycler-1`` (credentials are
            never stored).
        other_cycler_urls: base URLs of further services, ``cycler-2``, ``cycler-3``... in
            order (tokens: :func:`token_variable`).
        budget: number of samples (new-sample proposals) the campaign makes; ``None``: no
            sample budget (then ``budget_hours`` is required).
        budget_hours: instrument-hours the campaign may use (sintering and tests, all
            services together); ``None``: no hours budget.
        protocol_policy: ``all`` (one job per sample with every protocol) or ``staged``
            (see :mod:`design.campaign.policies`).
        batch_size: jobs kept in flight on each service; ``None`` = each service's
            ``max_concurrent_jobs``.
        strategy: ``physics-gp``, ``gp`` or ``sobol``.
        seed: random seed (iteration ``i`` uses ``seed + i``).
        thresholds: property thresholds passed to the acquisition (``name -> value``,
            checked by :func:`design.acquisition.thresholds.check_thresholds`).
        minimize_temperature: the sintering temperature is a fourth objective, minimized
            (4-D hypervolume; a ``sinter_temperature_c`` threshold is its reference).
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
    budget: int | None = None
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
    other_cycler_urls: list[str] = field(default_factory=list)
    budget_hours: float | None = None
    protocol_policy: str = "all"
    minimize_temperature: bool = False

    @property
    def cycler_urls(self) -> list[str]:
        """Every service's URL, in order: ``cycler-1`` first."""
        return [self.cycler_url, *self.other_cycler_urls]

    @property
    def services(self) -> dict[str, str]:
        """Service name -> URL, in order (``cycler-1``, ``cycler-2``...)."""
        return {service_name(i): url for i, url in enumerate(self.cycler_urls)}

    def __post_init__(self) -> None:
        if not _NAME_RE.match(self.name):
            raise ConfigError(
                f"campaign name {self.name!r} must be 1-64 letters, digits, '_', '.' or '-' "
                "and start with a letter or digit"
            )
        if self.budget is None and self.budget_hours is None:
            raise ConfigError(
                "give a budget: --budget N (samples) or --budget-hours H (instrument-hours), "
                "or both"
            )
        if self.budget is not None and not (
            isinstance(self.budget, int) and not isinstance(self.budget, bool)
        ):
            raise ConfigError(f"--budget {self.budget!r} must be an integer in [1, 10000]")
        if self.budget is not None and not 1 <= self.budget <= 10_000:
            raise ConfigError(f"--budget {self.budget!r} must be an integer in [1, 10000]")
        if self.budget_hours is not None:
            if isinstance(self.budget_hours, bool) or not isinstance(
                self.budget_hours, int | float
            ):
                raise ConfigError(f"--budget-hours {self.budget_hours!r} must be a number of hours")
            self.budget_hours = float(self.budget_hours)
            if not 1.0 <= self.budget_hours <= 1e6:
                raise ConfigError(
                    f"--budget-hours {self.budget_hours:g} must lie in [1, 1000000] "
                    "instrument-hours"
                )
        if self.protocol_policy not in PROTOCOL_POLICIES:
            raise ConfigError(
                f"--protocols {self.protocol_policy!r} is not one of {', '.join(PROTOCOL_POLICIES)}"
            )
        if self.batch_size is not None and not (1 <= self.batch_size <= 64):
            raise ConfigError(f"--batch-size {self.batch_size!r} must be in [1, 64]")
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"--strategy {self.strategy!r} is not one of {', '.join(STRATEGIES)}")
        self._check_urls()
        for name in ("max_fault_retries", "max_reruns"):
            if not 0 <= getattr(self, name) <= 100:
                raise ConfigError(f"{name} = {getattr(self, name)!r} must be in [0, 100]")
        if not (0 < self.poll_interval_s <= self.poll_max_s):
            raise ConfigError("poll_interval_s must be positive and at most poll_max_s")
        self.thresholds = check_thresholds(self.thresholds)
        if not isinstance(self.minimize_temperature, bool):
            raise ConfigError(
                f"minimize_temperature = {self.minimize_temperature!r} must be true or false"
            )
        check_temperature_objective(self.thresholds, self.minimize_temperature)
        if self.tracking_uri and (
            urlsplit(self.tracking_uri).password or "token=" in self.tracking_uri
        ):
            raise ConfigError(
                "--tracking-uri must not carry credentials (use MLflow's env variables)"
            )

    def _check_urls(self) -> None:
        urls = self.cycler_urls
        if len(urls) > _MAX_SERVICES:
            raise ConfigError(f"{len(urls)} --cycler-url: at most {_MAX_SERVICES} services")
        seen: dict[str, int] = {}
        for i, url in enumerate(urls):
            if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
                raise ConfigError(f"--cycler-url {url!r} must be an http:// or https:// URL")
            if urlsplit(url).password or urlsplit(url).username:
                raise ConfigError(
                    f"--cycler-url must not carry credentials; put the token in {token_variable(i)}"
                )
            same = url.rstrip("/").lower()
            if same in seen:
                raise ConfigError(
                    f"--cycler-url {redact_url(url)} is given twice ({service_name(seen[same])} "
                    f"and {service_name(i)}): give each service once"
                )
            seen[same] = i

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
        if version not in _READABLE_VERSIONS:
            raise ConfigError(
                f"campaign config version {version!r} is not supported (this gbs reads "
                f"{', '.join(map(str, _READABLE_VERSIONS))}): upgrade gbs-design"
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known - {"version"})
        if unknown:
            raise ConfigError(f"campaign config has unknown fields {unknown}")
        return cls(**{k: v for k, v in data.items() if k in known})
