"""Instrument-hours of a campaign's jobs: what one job used, and what the campaign spent.

A job's hours (protocol 1.1, "Durations")::

    hours = [base_h + per_dwell_h * dwell_h] + sum(protocol_hours[p] for p in protocols)

(the bracket only for a job that makes a new sample; a cracked pellet used only its furnace
hours). A 1.1 service reports what a finished job used (``instrument_hours``); otherwise the
campaign estimates it with :func:`estimate_hours` from the service's durations (a 1.0
service's are the client's configured table). The total is split over its parts (sintering
and each protocol) in proportion to their nominal hours (:func:`split_hours`), so the hours
per protocol add up to the hours spent.

Each job records its hours once, when it ends (``jobs.instrument_hours``; a replay after a
crash writes the same figure again, never adds), and :func:`hours_summary` sums them:

- *spent*: the hours of every finished job;
- *committed*: spent, plus the expected hours of the jobs still live (what the
  ``--budget-hours`` admission rule counts);
- *furnace energy proxy* (:func:`furnace_energy_proxy_kkh`): over every finished job that
  sintered a pellet (a new-sample job, cracked ones included), dwell hours times the furnace's
  temperature above room temperature, in kK h.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from design.store.database import JobRecord, Store, dumps, loads
from design.store.states import LIVE_JOB_STATUSES, JobKind
from experiments.cycler.durations import Durations
from physics.schema import DEFAULT_DWELL_H

__all__ = [
    "ROOM_TEMPERATURE_K",
    "SINTERING",
    "HoursSummary",
    "JobHours",
    "estimate_hours",
    "furnace_energy_proxy_kkh",
    "hours_summary",
    "set_job_hours",
    "split_hours",
]

#: The part of a job's hours spent making its pellet (furnace, ramps, handling).
SINTERING = "sintering"
#: Room temperature of the energy proxy, K.
ROOM_TEMPERATURE_K = 298.15
_ZERO_C_K = 273.15


def furnace_energy_proxy_kkh(sinterings: Iterable[tuple[float, float]]) -> float:
    """Furnace energy proxy of some sinterings, kK h (thousand kelvin-hours).

    ``sum(dwell_h * (T_C + 273.15 - 298.15) / 1000)`` over ``(sinter_temperature_c,
    dwell_h)`` pairs: the dwell at temperature weighted by how far the furnace is above room
    temperature (heat loss of a furnace at steady state grows about linearly with it). Ramps
    are left out (the same for every recipe of a service). 6 h at 1000 C is 5.85 kK h.

    Raises:
        ValueError: a temperature or dwell that is not a finite number, or a negative dwell.
    """
    total = 0.0
    for temperature_c, dwell_h in sinterings:
        t, d = float(temperature_c), float(dwell_h)
        if not (math.isfinite(t) and math.isfinite(d)) or d < 0:
            raise ValueError(f"sintering at {temperature_c!r} C for {dwell_h!r} h is not valid")
        total += d * (t + _ZERO_C_K - ROOM_TEMPERATURE_K) / 1000.0
    return total


@dataclass(frozen=True)
class JobHours:
    """The instrument-hours a finished job used.

    Attributes:
        total_h: hours, h.
        source: ``service`` (the job object's ``instrument_hours``) or ``estimate``.
        parts_h: the hours by part (``sintering`` and each protocol), summing to ``total_h``.
    """

    total_h: float
    source: str
    parts_h: Mapping[str, float] = field(default_factory=dict)


def _nominal_parts(
    durations: Durations, protocols: Iterable[str], dwell_h: float | None, cracked: bool
) -> dict[str, float]:
    parts: dict[str, float] = {}
    if dwell_h is not None:
        parts[SINTERING] = durations.sintering_h(dwell_h)
    if not cracked:
        for p in protocols:
            parts[p] = parts.get(p, 0.0) + durations.protocol_h(p)
    return parts


def estimate_hours(
    durations: Durations,
    kind: str,
    protocols: Iterable[str],
    dwell_h: float | None,
    *,
    cracked: bool = False,
) -> float:
    """Nominal instrument-hours of a job.

    Args:
        durations: the service's durations.
        kind: ``new`` (makes a sample: sintering counts) or ``follow_up``.
        protocols: the protocols the job runs (a repeat counts again).
        dwell_h: the new pellet's dwell, h (ignored for a follow-up).
        cracked: the pellet cracked in the furnace: only the sintering counts.

    Returns:
        ``[sintering_h(dwell_h)] + sum(protocol_h(p))``, h.
    """
    dwell = dwell_h if kind == JobKind.NEW else None
    return sum(_nominal_parts(durations, protocols, dwell, cracked).values())


def split_hours(
    total_h: float,
    durations: Durations,
    kind: str,
    protocols: Iterable[str],
    dwell_h: float | None,
    *,
    cracked: bool = False,
) -> dict[str, float]:
    """Split ``total_h`` over sintering and protocols in proportion to their nominal hours.

    ``part_h = total_h * nominal_part_h / sum(nominal_h)``; with no nominal hours at all the
    whole goes to the first part (or to sintering).
    """
    dwell = dwell_h if kind == JobKind.NEW else None
    parts = _nominal_parts(durations, protocols, dwell, cracked)
    nominal = sum(parts.values())
    if not parts:
        return {SINTERING: float(total_h)} if total_h else {}
    if nominal <= 0:
        first = next(iter(parts))
        return {k: (float(total_h) if k == first else 0.0) for k in parts}
    return {k: float(total_h) * v / nominal for k, v in parts.items()}


@dataclass
class HoursSummary:
    """A campaign's instrument-hours.

    Attributes:
        spent_h: hours used by finished jobs, h.
        committed_h: ``spent_h`` plus the expected hours of live jobs, h.
        parts_h: spent hours by part (``sintering`` and each protocol), h.
        by_service_h: spent hours by service, h.
        budget_h: the campaign's ``--budget-hours`` (``None``: none).
        furnace_energy_proxy_kkh: :func:`furnace_energy_proxy_kkh` of the pellets sintered
            by finished jobs, kK h.
    """

    spent_h: float = 0.0
    committed_h: float = 0.0
    parts_h: dict[str, float] = field(default_factory=dict)
    by_service_h: dict[str, float] = field(default_factory=dict)
    budget_h: float | None = None
    furnace_energy_proxy_kkh: float = 0.0

    @property
    def left_h(self) -> float | None:
        """Hours not yet committed (``None`` without an hours budget)."""
        return None if self.budget_h is None else self.budget_h - self.committed_h

    def metrics(self) -> dict[str, float]:
        """``instrument_hours``, ``instrument_hours_<part>`` and ``furnace_energy_proxy_kkh``
        (for MLflow and the display)."""
        out = {
            "instrument_hours": self.spent_h,
            "furnace_energy_proxy_kkh": self.furnace_energy_proxy_kkh,
        }
        out.update({f"instrument_hours_{k}": v for k, v in sorted(self.parts_h.items())})
        return out


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _sintering(job: JobRecord, default_dwell_h: float) -> tuple[float, float] | None:
    """``(sinter_temperature_c, dwell_h)`` of a finished job that sintered a pellet."""
    if job.kind != JobKind.NEW:
        return None
    recipe = job.request.get("recipe") or {}
    temperature = _finite(recipe.get("sinter_temperature_c"))
    dwell = _finite(recipe.get("dwell_h", default_dwell_h))
    if temperature is None or dwell is None or dwell < 0:
        return None
    return temperature, dwell


def hours_summary(
    store: Store,
    campaign_id: int,
    *,
    budget_h: float | None = None,
    default_dwell_h: float = DEFAULT_DWELL_H,
) -> HoursSummary:
    """Sum the hours of a campaign's jobs (see the module docstring).

    ``default_dwell_h`` is the dwell of a recipe that names none (the energy proxy).
    """
    out = HoursSummary(budget_h=budget_h)
    sinterings = []
    for job in store.jobs(campaign_id):
        used = _finite(job.instrument_hours)
        if used is not None:
            pair = _sintering(job, default_dwell_h)
            if pair is not None:
                sinterings.append(pair)
            out.spent_h += used
            out.committed_h += used
            out.by_service_h[job.service] = out.by_service_h.get(job.service, 0.0) + used
            for part, h in (loads(job.hours_json) or {}).items():
                out.parts_h[part] = out.parts_h.get(part, 0.0) + float(h)
        elif job.status in LIVE_JOB_STATUSES:  # running, queued, or its POST not confirmed
            out.committed_h += _finite(job.expected_hours) or 0.0
    out.furnace_energy_proxy_kkh = furnace_energy_proxy_kkh(sinterings)
    return out


def set_job_hours(rec: JobRecord, hours: JobHours | None) -> None:
    """Within a transaction: record what a finished job used (overwrites: counted once)."""
    if hours is None:
        return
    rec.instrument_hours = float(hours.total_h)
    rec.hours_source = hours.source
    rec.hours_json = dumps(dict(hours.parts_h))
