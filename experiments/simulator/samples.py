"""Samples of the simulated service (protocol 1.1): one pellet, measured by several jobs.

A job that makes a new sample sinters one pellet, whose true properties the landscape draws
once; every later job on that sample (a follow-up) measures the same pellet: the same
thickness, area, density and truth, and the same hidden cell parameters (CPE exponents,
where in a CCD step it shorts), with new measurement noise. The hidden parameters are
those the making job's generator draws first, so a follow-up's data continue that job's.

When a follow-up is refused (checked in this order):

- ``404 unknown_sample``: no sample of that id on this service;
- ``409 sample_not_in_campaign``: the sample belongs to another campaign;
- ``409 sample_not_ready``: the job making it is still queued or running (follow-ups wait
  for the pellet to exist; submit once that job has finished);
- ``409 sample_consumed``: the pellet cracked in the furnace, was never made (its job was
  cancelled), or a job running ``ccd_staircase`` on it has been accepted. Consumption is
  reserved when such a job is accepted, since later jobs would find a plated-through cell,
  and released only if that job is cancelled before it starts.

A sample is on one instrument at a time: jobs on the same sample run one after another, in
the order they were submitted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from experiments.simulator.errors import ServiceError
from experiments.simulator.twin import Hidden

__all__ = ["Sample", "sample_index"]

logger = logging.getLogger(__name__)
_PELLET_FIELDS = (
    "thickness_cm",
    "area_cm2",
    "bulk_density_g_cm3",
    "sigma_bulk_ms_cm",
    "sigma_gb_ms_cm",
    "activation_energy_ev",
    "electronic_fraction",
    "r_int_ohm_cm2",
    "ccd_ma_cm2",
)


def _finite_pellet(pellet: Any) -> bool:
    """Whether every property the twin uses is a finite number (positive where it must be)."""
    try:
        values = {name: float(getattr(pellet, name)) for name in _PELLET_FIELDS}
    except (AttributeError, TypeError, ValueError):
        return False
    if not all(np.isfinite(v) for v in values.values()):
        return False
    positive = ("thickness_cm", "area_cm2", "sigma_bulk_ms_cm", "sigma_gb_ms_cm")
    return all(values[name] > 0 for name in positive)


def sample_index(sample_id: str) -> int | None:
    """The job index in ``S-000123`` (the job that made it), or None for another form."""
    prefix, _, digits = sample_id.partition("-")
    if prefix == "S" and digits.isdigit() and len(digits) == 6:
        return int(digits)
    return None


@dataclass
class Sample:
    """One pellet.

    Attributes:
        index: Index of the job that made it (its id is ``S-<index>``).
        campaign: The campaign of that job.
        recipe: The recipe it was made with (defaults filled in).
        pellet: Its true properties (from the landscape).
        maker: The job that made it (``status`` and ``failure`` are read).
        consumed_by: Index of the accepted job whose CCD staircase uses it up, or None.
        busy: Index of the job measuring it now, or None.
    """

    index: int
    campaign: str
    recipe: dict[str, float]
    pellet: Any
    maker: Any
    consumed_by: int | None = None
    busy: int | None = None

    @property
    def sample_id(self) -> str:
        return f"S-{self.index:06d}"

    def hidden(self, seed: int) -> Hidden:
        """The cell's hidden parameters: the first draw of the making job's generator."""
        return Hidden.draw(np.random.default_rng([seed, self.index, 1]))

    def block(self) -> dict[str, Any]:
        """The ``sample`` block of a result."""
        return {
            "sample_id": self.sample_id,
            "thickness_cm": round(float(self.pellet.thickness_cm), 4),
            "area_cm2": round(float(self.pellet.area_cm2), 4),
            "bulk_density_g_cm3": round(float(self.pellet.bulk_density_g_cm3), 4),
        }

    def failure(self, new_sample: bool) -> dict[str, Any] | None:
        """The job error the pellet itself causes, if any.

        A new pellet may crack in the furnace (``sample_cracked``, the landscape's draw;
        never on a follow-up: the furnace is behind it). A pellet whose truth is not finite
        (a broken landscape) fails every job as ``instrument_fault`` rather than crash.
        """
        recipe = self.recipe
        if new_sample and getattr(self.pellet, "cracked", False):
            return {
                "code": "sample_cracked",
                "message": (
                    f"the pellet (x = {recipe['zbo_fraction']:g}, "
                    f"{recipe['sinter_temperature_c']:g} C, {recipe['dwell_h']:g} h) cracked, "
                    "bloated or melted in the furnace"
                ),
                "retryable": False,
            }
        if not _finite_pellet(self.pellet):
            logger.error("landscape gave non-finite properties for %s: %r", recipe, self.pellet)
            return {
                "code": "instrument_fault",
                "message": "the simulator's landscape gave non-finite properties for this recipe",
                "retryable": True,
            }
        return None

    def check_followup(self, campaign: str) -> None:
        """Refuse a new follow-up job on this sample when it cannot be measured.

        Raises:
            ServiceError: 409 ``sample_not_in_campaign``, ``sample_not_ready`` or
                ``sample_consumed`` (see the module docstring).
        """
        sid, maker = self.sample_id, self.maker
        if campaign != self.campaign:
            raise ServiceError(
                409,
                "sample_not_in_campaign",
                f"sample {sid} belongs to another campaign, not to {campaign!r}",
            )
        if maker.status in ("queued", "running"):
            raise ServiceError(
                409,
                "sample_not_ready",
                f"sample {sid} is still being made by job {maker.job_id} ({maker.status}); "
                "submit follow-ups once that job has finished",
            )
        if maker.status == "cancelled":
            raise ServiceError(
                409,
                "sample_consumed",
                f"sample {sid} was never made: job {maker.job_id} was cancelled",
            )
        if maker.failure and maker.failure.get("code") == "sample_cracked":
            raise ServiceError(
                409,
                "sample_consumed",
                f"sample {sid} cracked in the furnace: there is nothing left to measure",
            )
        if self.consumed_by is not None:
            raise ServiceError(
                409,
                "sample_consumed",
                f"sample {sid} is used up: the CCD staircase of job j-{self.consumed_by:06d} "
                "plates it through; make a new sample",
            )
