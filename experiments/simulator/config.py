"""Settings of a simulated cycler service (light to import: no web framework)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

from experiments.cycler.durations import DEFAULT_DURATIONS, Durations
from experiments.cycler.models import PROTOCOL_VERSION_1_1, PROTOCOLS
from experiments.simulator.faults import FaultConfig
from experiments.simulator.jobs import REFERENCE_JOB_HOURS
from physics.errors import ConfigError

__all__ = ["SimulatorConfig"]


@dataclass(frozen=True)
class SimulatorConfig:
    """Settings of a simulated service.

    Attributes:
        token: The bearer token clients must send (CYCLER_TOKEN when None).
        seed: Seed of pellets, noise, durations and faults.
        landscape: Name of the truth landscape (``experiments.worlds.landscapes``).
        job_duration_s: Real seconds of a reference job (a new pellet at the default dwell
            with all four protocols, 110 instrument-hours): the time compression. Any job
            takes its instrument-hours times :attr:`hour_s`.
        job_jitter: Relative spread of the instrument-hours a job uses.
        max_concurrent_jobs: Jobs running at once.
        faults: Fault probabilities.
        protocol_version: "1.1" (default) or "1.0" ("1" is read as "1.0").
        sintering_hours: Announced furnace hours, ``{"base": h, "per_dwell_h": h}``.
        protocol_hours: Announced hours of each protocol (all four).
    """

    token: str | None = None
    seed: int = 0
    landscape: str = "calibrated"
    job_duration_s: float = 2.0
    job_jitter: float = 0.2
    max_concurrent_jobs: int = 4
    faults: FaultConfig = field(default_factory=FaultConfig)
    protocol_version: str = PROTOCOL_VERSION_1_1
    sintering_hours: dict[str, float] = field(
        default_factory=lambda: DEFAULT_DURATIONS.to_capabilities()["sintering_hours"]
    )
    protocol_hours: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_DURATIONS.protocol_hours)
    )

    def __post_init__(self) -> None:
        version = {"1": "1.0", "1.0": "1.0", "1.1": "1.1"}.get(str(self.protocol_version).strip())
        if version is None:
            raise ConfigError(
                f"protocol version {self.protocol_version!r}; valid versions: 1.0, 1.1"
            )
        object.__setattr__(self, "protocol_version", version)
        missing = [p for p in PROTOCOLS if p not in self.protocol_hours]
        if missing:
            raise ConfigError(f"protocol hours lack {', '.join(missing)}")
        self.durations()  # ConfigError for a bad number
        if not (0 <= self.job_duration_s <= 86400):
            raise ConfigError(f"job duration {self.job_duration_s!r} s must lie in [0, 86400]")
        if not (0 <= self.job_jitter < 1):
            raise ConfigError(f"job jitter {self.job_jitter!r} must lie in [0, 1)")
        if not (1 <= self.max_concurrent_jobs <= 1000):
            raise ConfigError(
                f"max concurrent jobs {self.max_concurrent_jobs!r} must lie in [1, 1000]"
            )

    @property
    def staged(self) -> bool:
        """Whether the service speaks protocol 1.1."""
        return self.protocol_version == "1.1"

    @property
    def hour_s(self) -> float:
        """Real seconds per instrument-hour: ``job_duration_s / 110``."""
        return self.job_duration_s / REFERENCE_JOB_HOURS

    def durations(self) -> Durations:
        """The announced durations."""
        return Durations.from_capabilities(
            {"sintering_hours": self.sintering_hours, "protocol_hours": self.protocol_hours},
            source="service",
        )

    def resolved_token(self) -> str:
        """The token, from the config or CYCLER_TOKEN; ConfigError when neither is set."""
        token = self.token or os.environ.get("CYCLER_TOKEN", "")
        if not token.strip():
            raise ConfigError(
                "no token for the cycler simulator: set CYCLER_TOKEN (the same value the "
                "clients use), e.g. export CYCLER_TOKEN=$(python -c 'import secrets; "
                "print(secrets.token_urlsafe())')"
            )
        return token.strip()

    def to_json(self) -> str:
        """The config without its token, as JSON (for a subprocess's command line)."""
        data = asdict(self)
        data.pop("token")
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> SimulatorConfig:
        """Inverse of :meth:`to_json` (the token comes from CYCLER_TOKEN)."""
        data = json.loads(text)
        data["faults"] = FaultConfig.from_dict(data.get("faults") or {})
        return cls(**data)
