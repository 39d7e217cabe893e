"""How long a cycler job takes, in instrument-hours (protocol 1.1, section "Durations").

A job's cost is its sintering time, only for a job that makes a new sample, plus the hours
of each protocol it runs::

    hours = [base_h + per_dwell_h * dwell_h] + sum(protocol_hours[p] for p in protocols)

A 1.1 service announces the numbers in its capabilities; for a 1.0 service the client uses
a configured table, by default :data:`DEFAULT_DURATIONS` (the numbers of the protocol's
example: sintering 10 h + 1 h per hour of dwell, EIS 6 h, DC polarization 12 h, symmetric
EIS 4 h, CCD staircase 72 h). A new pellet at the default dwell of 6 h with all four
protocols costs 110 instrument-hours.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from physics.errors import ConfigError

__all__ = ["DEFAULT_DURATIONS", "Durations"]


def _hours(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{what} = {value!r} is not a number of hours")
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{what} = {value!r} h must be a finite number >= 0")
    return float(value)


@dataclass(frozen=True)
class Durations:
    """Instrument-hours of sintering and of each protocol.

    Attributes:
        sintering_base_h: Fixed hours of making a pellet (furnace ramps, cooling, handling).
        sintering_per_dwell_h: Furnace hours per hour of dwell (1.0: the dwell itself).
        protocol_hours: Hours of each protocol, electrode changes included.
        source: ``"service"`` (announced by a 1.1 service) or ``"default"`` (configured).
    """

    sintering_base_h: float
    sintering_per_dwell_h: float
    protocol_hours: Mapping[str, float]
    source: str = field(default="default", compare=False)

    def __post_init__(self) -> None:
        _hours(self.sintering_base_h, "sintering_hours.base")
        _hours(self.sintering_per_dwell_h, "sintering_hours.per_dwell_h")
        if not isinstance(self.protocol_hours, Mapping):
            raise ConfigError(f"protocol_hours = {self.protocol_hours!r} is not a mapping")
        hours = {
            str(p): _hours(h, f"protocol_hours[{p!r}]") for p, h in self.protocol_hours.items()
        }
        object.__setattr__(self, "sintering_base_h", float(self.sintering_base_h))
        object.__setattr__(self, "sintering_per_dwell_h", float(self.sintering_per_dwell_h))
        object.__setattr__(self, "protocol_hours", MappingProxyType(hours))

    def sintering_h(self, dwell_h: float) -> float:
        """Hours of making a pellet: ``base_h + per_dwell_h * dwell_h``.

        Args:
            dwell_h: Dwell at the sintering temperature, h.
        """
        return self.sintering_base_h + self.sintering_per_dwell_h * _hours(dwell_h, "dwell_h")

    def protocol_h(self, protocol: str) -> float:
        """Hours of one protocol.

        Raises:
            ConfigError: The table has no hours for ``protocol`` (naming the known ones).
        """
        try:
            return self.protocol_hours[protocol]
        except KeyError:
            known = ", ".join(self.protocol_hours) or "none"
            raise ConfigError(
                f"no duration for protocol {protocol!r} ({self.source} durations know: {known}); "
                "add it to the durations table"
            ) from None

    def job_hours(self, protocols: Iterable[str], *, dwell_h: float | None) -> float:
        """Instrument-hours of a job.

        Args:
            protocols: The protocols the job runs (a repeat counts again).
            dwell_h: The dwell of the new pellet the job makes, h; None for a follow-up on
                an existing sample (no sintering).

        Returns:
            ``[sintering_h(dwell_h)] + sum(protocol_h(p))``, h.
        """
        total = sum(self.protocol_h(p) for p in protocols)
        return total if dwell_h is None else total + self.sintering_h(dwell_h)

    def to_capabilities(self) -> dict[str, Any]:
        """The capabilities' members: ``{"sintering_hours": {...}, "protocol_hours": {...}}``."""
        return {
            "sintering_hours": {
                "base": self.sintering_base_h,
                "per_dwell_h": self.sintering_per_dwell_h,
            },
            "protocol_hours": dict(self.protocol_hours),
        }

    @classmethod
    def from_capabilities(cls, data: Mapping[str, Any], *, source: str = "service") -> Durations:
        """Inverse of :meth:`to_capabilities` (ConfigError naming a missing or bad member)."""
        sintering = data.get("sintering_hours")
        protocols = data.get("protocol_hours")
        if not isinstance(sintering, Mapping) or not isinstance(protocols, Mapping):
            raise ConfigError(
                "durations need 'sintering_hours' ({'base', 'per_dwell_h'}) and "
                f"'protocol_hours' ({{protocol: hours}}); got {dict(data)!r}"
            )
        for key in ("base", "per_dwell_h"):
            if key not in sintering:
                raise ConfigError(f"sintering_hours lacks {key!r}: {dict(sintering)!r}")
        return cls(sintering["base"], sintering["per_dwell_h"], dict(protocols), source)

    def replace(self, **protocol_hours: float) -> Durations:
        """A copy with some protocols' hours changed, e.g. ``replace(ccd_staircase=96.0)``."""
        return Durations(
            self.sintering_base_h,
            self.sintering_per_dwell_h,
            {**self.protocol_hours, **protocol_hours},
            self.source,
        )


#: The protocol's example numbers; used for a 1.0 service unless the client is given others.
DEFAULT_DURATIONS = Durations(
    sintering_base_h=10.0,
    sintering_per_dwell_h=1.0,
    protocol_hours={
        "eis_blocking": 6.0,
        "dc_polarization": 12.0,
        "eis_symmetric": 4.0,
        "ccd_staircase": 72.0,
    },
)
