"""The simulated service's job queue: in memory, thread-safe, progressed lazily from the clock.

A job's status is a function of its creation time, its place in the queue, its duration and
the cancellations before now: every call first replays the events (job ends, and the queued
jobs that take the freed slots) up to the current time, so no background task is needed and
the state is exact at any instant. At most ``max_concurrent_jobs`` jobs run at once, first
in, first out.

Everything random about job ``n`` (its pellet, its duration, an instrument fault, its
measurement noise) is drawn from generators seeded with ``(seed, n)``, so a run reproduces
whatever the timing of the requests.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from experiments.simulator.faults import FaultInjector
from experiments.simulator.twin import CcdSettings, measure

__all__ = ["JobStore", "ServiceError", "iso_utc"]


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


class ServiceError(Exception):
    """An error answer of the service: HTTP status, snake_case code, human message."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message


def iso_utc(t_s: float) -> str:
    """ISO 8601 UTC with milliseconds, e.g. ``2026-11-25T13:02:11.123Z``."""
    return (
        datetime.fromtimestamp(t_s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


@dataclass
class _Job:
    index: int
    campaign: str
    recipe: dict[str, float]
    protocols: list[str]
    key: str
    fingerprint: str
    created_s: float
    updated_s: float
    duration_s: float
    pellet: Any
    failure: dict[str, Any] | None
    status: str = "queued"
    result: dict[str, Any] | None = None

    @property
    def job_id(self) -> str:
        return f"j-{self.index:06d}"

    def to_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "campaign": self.campaign,
            "status": self.status,
            "recipe": dict(self.recipe),
            "protocols": list(self.protocols),
            "idempotency_key": self.key,
            "created_at": iso_utc(self.created_s),
            "updated_at": iso_utc(self.updated_s),
            "error": dict(self.failure) if self.status == "failed" and self.failure else None,
        }


class JobStore:
    """Jobs of the simulated service.

    Args:
        landscape: Object with ``sample_pellet(recipe, rng)`` giving a pellet's truth.
        faults: Decides instrument faults per job.
        seed: Seed of everything random about the jobs.
        job_duration_s: Mean real seconds a job runs.
        jitter: Relative spread of job durations (uniform, +-).
        max_concurrent_jobs: Jobs running at once; the rest wait in the queue.
        ccd_settings: The CCD staircase the twin runs.
        clock: Wall clock in seconds (injectable for tests).
    """

    def __init__(
        self,
        *,
        landscape: Any,
        faults: FaultInjector,
        seed: int = 0,
        job_duration_s: float = 1.0,
        jitter: float = 0.2,
        max_concurrent_jobs: int = 4,
        ccd_settings: CcdSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._landscape = landscape
        self._faults = faults
        self._seed = seed
        self._duration_s = job_duration_s
        self._jitter = jitter
        self._slots = max_concurrent_jobs
        self._ccd = ccd_settings or CcdSettings()
        self._clock = clock
        self._lock = threading.Lock()
        self._jobs: list[_Job] = []
        self._by_key: dict[str, _Job] = {}
        self._queue: deque[_Job] = deque()
        self._running: dict[int, float] = {}  # job index -> end time
        self._cursor_s = clock()

    # -- event replay -------------------------------------------------------------------
    def _fill(self, t_s: float) -> None:
        while self._queue and len(self._running) < self._slots:
            job = self._queue.popleft()
            job.status, job.updated_s = "running", t_s
            self._running[job.index] = t_s + job.duration_s

    def _advance(self, now_s: float) -> None:
        now_s = max(now_s, self._cursor_s)
        while True:
            self._fill(self._cursor_s)
            if not self._running:
                break
            index, end_s = min(self._running.items(), key=lambda item: (item[1], item[0]))
            if end_s > now_s:
                break
            del self._running[index]
            job = self._jobs[index - 1]
            job.status = "failed" if job.failure else "succeeded"
            job.updated_s = end_s
            self._cursor_s = end_s
        self._cursor_s = now_s

    def _find(self, job_id: str) -> _Job:
        prefix, _, digits = job_id.partition("-")
        if prefix == "j" and digits.isdigit() and len(digits) == 6:
            index = int(digits)
            if 1 <= index <= len(self._jobs):
                return self._jobs[index - 1]
        raise ServiceError(404, "job_not_found", f"no job {job_id!r} on this service")

    # -- API ----------------------------------------------------------------------------
    def create(
        self,
        campaign: str,
        recipe: dict[str, Any],
        protocols: list[str],
        key: str,
        check: Callable[[dict[str, Any]], dict[str, float]],
    ) -> tuple[dict[str, Any], bool]:
        """Create a job, or return the one created before with this key.

        The key is looked up first: a known key answers with its job when the body (recipe
        compared as floats, defaults filled in) is the same, else 409. Only a new key's
        recipe goes through ``check``.

        Args:
            campaign: Campaign name.
            recipe: The recipe with defaults filled in.
            protocols: Protocols to run, defaults filled in.
            key: The Idempotency-Key.
            check: Validates the recipe, raising ServiceError (400).

        Returns:
            The job object and whether it is new.

        Raises:
            ServiceError: 409 when the key was used with a different body, 400 from check.
        """
        try:
            canonical = {k: (None if v is None else float(v)) for k, v in recipe.items()}
        except (TypeError, ValueError) as exc:
            raise ServiceError(
                400, "invalid_recipe", f"recipe {recipe!r} holds a non-number"
            ) from exc
        fingerprint = json.dumps(
            {"campaign": campaign, "recipe": canonical, "protocols": protocols}, sort_keys=True
        )
        with self._lock:
            now_s = self._clock()
            self._advance(now_s)
            old = self._by_key.get(key)
            if old is not None:
                if old.fingerprint != fingerprint:
                    raise ServiceError(
                        409,
                        "idempotency_key_reused",
                        f"Idempotency-Key {key!r} was used for job {old.job_id} with a different body",
                    )
                return old.to_json(), False
            recipe = check(canonical)
            index = len(self._jobs) + 1
            job = self._new_job(index, campaign, recipe, protocols, key, fingerprint, now_s)
            self._jobs.append(job)
            self._by_key[key] = job
            self._queue.append(job)
            self._fill(now_s)
            return job.to_json(), True

    def _new_job(
        self,
        index: int,
        campaign: str,
        recipe: dict[str, float],
        protocols: list[str],
        key: str,
        fingerprint: str,
        now_s: float,
    ) -> _Job:
        pellet = self._landscape.sample_pellet(
            dict(recipe), np.random.default_rng([self._seed, index])
        )
        duration_s = self._duration_s * (
            1 + self._jitter * random.Random(f"{self._seed}-{index}-duration").uniform(-1, 1)
        )
        failure = None
        if getattr(pellet, "cracked", False):
            failure = {
                "code": "sample_cracked",
                "message": (
                    f"the pellet (x = {recipe['zbo_fraction']:g}, {recipe['sinter_temperature_c']:g} C, "
                    f"{recipe['dwell_h']:g} h) cracked, bloated or melted in the furnace"
                ),
                "retryable": False,
            }
        elif not _finite_pellet(pellet):
            logger.error("landscape gave non-finite properties for %s: %r", recipe, pellet)
            failure = {
                "code": "instrument_fault",
                "message": "the simulator's landscape gave non-finite properties for this recipe",
                "retryable": True,
            }
        elif self._faults.instrument_fault(self._seed, index):
            failure = {
                "code": "instrument_fault",
                "message": "the potentiostat lost contact with the cell; submit the recipe again",
                "retryable": True,
            }
        return _Job(
            index=index,
            campaign=campaign,
            recipe=dict(recipe),
            protocols=list(protocols),
            key=key,
            fingerprint=fingerprint,
            created_s=now_s,
            updated_s=now_s,
            duration_s=max(duration_s, 0.0),
            pellet=pellet,
            failure=failure,
        )

    def get(self, job_id: str) -> dict[str, Any]:
        """The job object (404 when unknown)."""
        with self._lock:
            self._advance(self._clock())
            return self._find(job_id).to_json()

    def list(self, campaign: str) -> list[dict[str, Any]]:
        """The campaign's jobs in creation order."""
        with self._lock:
            self._advance(self._clock())
            return [job.to_json() for job in self._jobs if job.campaign == campaign]

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Cancel a queued or running job; a finished job is returned as it is."""
        with self._lock:
            now_s = self._clock()
            self._advance(now_s)
            job = self._find(job_id)
            if job.status == "queued":
                self._queue.remove(job)
            elif job.status == "running":
                del self._running[job.index]
            else:
                return job.to_json()
            job.status, job.updated_s = "cancelled", now_s
            self._fill(now_s)
            return job.to_json()

    def result(self, job_id: str) -> dict[str, Any]:
        """The result of a succeeded job (409 otherwise, 404 when unknown)."""
        with self._lock:
            self._advance(self._clock())
            job = self._find(job_id)
            if job.status != "succeeded":
                raise ServiceError(
                    409, "job_not_succeeded", f"job {job_id} is {job.status}: it has no result"
                )
            if job.result is not None:
                return job.result
        result = self._make_result(job)  # outside the lock: deterministic, a few ms
        with self._lock:
            job.result = job.result or result
            return job.result

    def _make_result(self, job: _Job) -> dict[str, Any]:
        pellet = job.pellet
        rng = np.random.default_rng([self._seed, job.index, 1])
        return {
            "job_id": job.job_id,
            "recipe": dict(job.recipe),
            "sample": {
                "sample_id": f"S-{job.index:06d}",
                "thickness_cm": round(float(pellet.thickness_cm), 4),
                "area_cm2": round(float(pellet.area_cm2), 4),
                "bulk_density_g_cm3": round(float(pellet.bulk_density_g_cm3), 4),
            },
            "measurements": measure(pellet, job.protocols, rng, self._ccd),
        }
