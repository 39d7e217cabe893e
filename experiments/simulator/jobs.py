"""The simulated service's job queue: in memory, thread-safe, progressed lazily from the clock.

A job's status is a function of its creation time, its place in the queue, its duration and
the cancellations before now: every call first replays the events (job ends, and the queued
jobs that take the freed slots) up to the current time, so no background task is needed and
the state is exact at any instant. At most ``max_concurrent_jobs`` jobs run at once, first
in, first out, except that a job waits while another job measures its sample.

Time: a job uses its instrument-hours (protocol 1.1: sintering when it makes a new sample,
plus its protocols' hours; a cracked pellet only its sintering), varied by ``jitter``, and
takes ``instrument_hours * hour_s`` real seconds. The compression ``hour_s`` is set by
``job_duration_s``, the real seconds of a reference job (a new pellet at the default 6 h
dwell with all four protocols: :data:`REFERENCE_JOB_HOURS` = 110 h at the default
durations), so ``hour_s = job_duration_s / 110``: at the service's default of 2 s per
reference job, one lab day takes 0.44 s and a CCD staircase alone 1.3 s.

Everything random about job ``n`` (its pellet, its hours, an instrument fault, its
measurement noise) is drawn from generators seeded with ``(seed, n)``, so a run reproduces
whatever the timing of the requests.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from experiments.cycler.durations import DEFAULT_DURATIONS, Durations
from experiments.cycler.models import PROTOCOLS
from experiments.simulator.errors import ServiceError
from experiments.simulator.faults import FaultInjector
from experiments.simulator.samples import Sample, sample_index
from experiments.simulator.twin import CcdSettings, measure
from physics.schema import DEFAULT_DWELL_H

__all__ = ["REFERENCE_JOB_HOURS", "JobStore", "ServiceError", "iso_utc"]


#: Instrument-hours of the reference job that ``job_duration_s`` times (110 h).
REFERENCE_JOB_HOURS = DEFAULT_DURATIONS.job_hours(PROTOCOLS, dwell_h=DEFAULT_DWELL_H)
_TERMINAL = ("succeeded", "failed", "cancelled")


def iso_utc(t_s: float) -> str:
    """ISO 8601 UTC with milliseconds, e.g. ``2026-11-25T13:02:11.123Z``."""
    return (
        datetime.fromtimestamp(t_s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


@dataclass
class _Job:
    index: int
    campaign: str
    sample: Sample
    new_sample: bool
    protocols: list[str]
    key: str
    fingerprint: str
    created_s: float
    updated_s: float
    hours: float  # instrument-hours it uses when it runs to its end
    duration_s: float
    failure: dict[str, Any] | None
    status: str = "queued"
    started_s: float | None = None
    used_h: float | None = None
    result: dict[str, Any] | None = None

    @property
    def job_id(self) -> str:
        return f"j-{self.index:06d}"

    def to_json(self, staged: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "job_id": self.job_id,
            "campaign": self.campaign,
            "status": self.status,
            "recipe": dict(self.sample.recipe),
            "protocols": list(self.protocols),
            "idempotency_key": self.key,
            "created_at": iso_utc(self.created_s),
            "updated_at": iso_utc(self.updated_s),
            "error": dict(self.failure) if self.status == "failed" and self.failure else None,
        }
        if staged:
            out["sample_id"] = self.sample.sample_id
            if self.used_h is not None:
                out["instrument_hours"] = round(self.used_h, 4)
        return out


class JobStore:
    """Jobs and samples of the simulated service.

    Args:
        landscape: Object with ``sample_pellet(recipe, rng)`` giving a pellet's truth.
        faults: Decides instrument faults per job.
        seed: Seed of everything random about the jobs.
        job_duration_s: Real seconds of the reference job (:data:`REFERENCE_JOB_HOURS`);
            every job takes its instrument-hours times ``job_duration_s / 110``.
        jitter: Relative spread of the hours a job uses (uniform, +-).
        max_concurrent_jobs: Jobs running at once; the rest wait in the queue.
        ccd_settings: The CCD staircase the twin runs.
        clock: Wall clock in seconds (injectable for tests).
        durations: The hours the service announces (default: the protocol's example).
        staged: Protocol 1.1: job objects carry ``sample_id`` and ``instrument_hours``,
            and follow-up jobs are taken. False: a 1.0 service.
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
        durations: Durations | None = None,
        staged: bool = True,
    ) -> None:
        self._landscape = landscape
        self._faults = faults
        self._seed = seed
        self.hour_s = job_duration_s / REFERENCE_JOB_HOURS
        self._jitter = jitter
        self._slots = max_concurrent_jobs
        self._ccd = ccd_settings or CcdSettings()
        self._clock = clock
        self.durations = durations or DEFAULT_DURATIONS
        self.staged = staged
        self._lock = threading.Lock()
        self._jobs: list[_Job] = []
        self._by_key: dict[str, _Job] = {}
        self._samples: dict[str, Sample] = {}
        self._queue: deque[_Job] = deque()
        self._running: dict[int, float] = {}  # job index -> end time
        self._cursor_s = clock()

    # -- event replay -------------------------------------------------------------------
    def _fill(self, t_s: float) -> None:
        """Start queued jobs, in order, while slots are free; skip those whose sample is busy."""
        for job in list(self._queue):
            if len(self._running) >= self._slots:
                break
            if job.sample.busy is not None:
                continue
            self._queue.remove(job)
            job.status, job.updated_s, job.started_s = "running", t_s, t_s
            job.sample.busy = job.index
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
            job.updated_s, job.used_h = end_s, job.hours
            job.sample.busy = None
            self._cursor_s = end_s
        self._cursor_s = now_s

    def _find(self, job_id: str) -> _Job:
        prefix, _, digits = job_id.partition("-")
        if prefix == "j" and digits.isdigit() and len(digits) == 6:
            index = int(digits)
            if 1 <= index <= len(self._jobs):
                return self._jobs[index - 1]
        raise ServiceError(404, "job_not_found", f"no job {job_id!r} on this service")

    def _known(self, key: str, fingerprint: str) -> dict[str, Any] | None:
        """The job created before with ``key`` and the same body; 409 for another body."""
        old = self._by_key.get(key)
        if old is None:
            return None
        if old.fingerprint != fingerprint:
            raise ServiceError(
                409,
                "idempotency_key_reused",
                f"Idempotency-Key {key!r} was used for job {old.job_id} with a different body",
            )
        return old.to_json(self.staged)

    def _enqueue(self, job: _Job, now_s: float) -> dict[str, Any]:
        self._jobs.append(job)
        self._by_key[job.key] = job
        self._queue.append(job)
        self._fill(now_s)
        return job.to_json(self.staged)

    # -- API ----------------------------------------------------------------------------
    def create(
        self,
        campaign: str,
        recipe: dict[str, Any],
        protocols: list[str],
        key: str,
        check: Callable[[dict[str, Any]], dict[str, float]],
    ) -> tuple[dict[str, Any], bool]:
        """Create a job making a new sample, or return the one created before with this key.

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
            known = self._known(key, fingerprint)
            if known is not None:
                return known, False
            valid = check(canonical)
            index = len(self._jobs) + 1
            pellet = self._landscape.sample_pellet(
                dict(valid), np.random.default_rng([self._seed, index])
            )
            sample = Sample(index, campaign, dict(valid), pellet, maker=None)
            job = self._new_job(index, sample, True, protocols, key, fingerprint, now_s)
            sample.maker = job
            self._samples[sample.sample_id] = sample
            return self._enqueue(job, now_s), True

    def create_followup(
        self, campaign: str, sample_id: str, protocols: list[str], key: str
    ) -> tuple[dict[str, Any], bool]:
        """Create a job running ``protocols`` on an existing sample (protocol 1.1).

        The key is looked up first (a replay answers with its job even once the sample is
        used up, by that very job or another); a new key's sample is then checked.

        Returns:
            The job object and whether it is new.

        Raises:
            ServiceError: 409 key reused with a different body; 404 ``unknown_sample``;
                409 ``sample_not_in_campaign``, ``sample_not_ready``, ``sample_consumed``
                (:meth:`Sample.check_followup`); 400 on a 1.0 service.
        """
        if not self.staged:
            raise ServiceError(400, "invalid_request", "follow-up jobs need protocol 1.1")
        fingerprint = json.dumps(
            {"campaign": campaign, "sample_id": sample_id, "protocols": protocols},
            sort_keys=True,
        )
        with self._lock:
            now_s = self._clock()
            self._advance(now_s)
            known = self._known(key, fingerprint)
            if known is not None:
                return known, False
            sample = self._samples.get(sample_id) if sample_index(sample_id) else None
            if sample is None:
                raise ServiceError(
                    404, "unknown_sample", f"no sample {sample_id!r} on this service"
                )
            sample.check_followup(campaign)
            index = len(self._jobs) + 1
            job = self._new_job(index, sample, False, protocols, key, fingerprint, now_s)
            return self._enqueue(job, now_s), True

    def _new_job(
        self,
        index: int,
        sample: Sample,
        new_sample: bool,
        protocols: list[str],
        key: str,
        fingerprint: str,
        now_s: float,
    ) -> _Job:
        recipe = sample.recipe
        dwell_h = recipe["dwell_h"] if new_sample else None
        hours = self.durations.job_hours(protocols, dwell_h=dwell_h)
        failure = sample.failure(new_sample)
        if failure is not None and failure["code"] == "sample_cracked":
            hours = self.durations.sintering_h(recipe["dwell_h"])  # nothing left to measure
        elif failure is None and self._faults.instrument_fault(self._seed, index):
            failure = {
                "code": "instrument_fault",
                "message": "the potentiostat lost contact with the cell; submit the job again",
                "retryable": True,
            }
        if "ccd_staircase" in protocols:  # reserved now: later jobs would find no cell
            sample.consumed_by = index
        spread = 1 + self._jitter * random.Random(f"{self._seed}-{index}-duration").uniform(-1, 1)
        hours = max(hours * spread, 0.0)
        return _Job(
            index=index,
            campaign=sample.campaign,
            sample=sample,
            new_sample=new_sample,
            protocols=list(protocols),
            key=key,
            fingerprint=fingerprint,
            created_s=now_s,
            updated_s=now_s,
            hours=hours,
            duration_s=hours * self.hour_s,
            failure=failure,
        )

    def get(self, job_id: str) -> dict[str, Any]:
        """The job object (404 when unknown)."""
        with self._lock:
            self._advance(self._clock())
            return self._find(job_id).to_json(self.staged)

    def list(self, campaign: str) -> list[dict[str, Any]]:
        """The campaign's jobs in creation order."""
        with self._lock:
            self._advance(self._clock())
            return [job.to_json(self.staged) for job in self._jobs if job.campaign == campaign]

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Cancel a queued or running job; a finished job is returned as it is.

        A job cancelled while queued used 0 h and gives back the sample it would have
        consumed; one cancelled while running used its share of hours so far, and a CCD
        staircase started on a sample has consumed it.
        """
        with self._lock:
            now_s = self._clock()
            self._advance(now_s)
            job = self._find(job_id)
            if job.status == "queued":
                self._queue.remove(job)
                job.used_h = 0.0
                if job.sample.consumed_by == job.index:
                    job.sample.consumed_by = None
            elif job.status == "running":
                del self._running[job.index]
                job.sample.busy = None
                elapsed = (
                    (now_s - (job.started_s or now_s)) / job.duration_s if job.duration_s else 1.0
                )
                job.used_h = job.hours * min(max(elapsed, 0.0), 1.0)
            else:
                return job.to_json(self.staged)
            job.status, job.updated_s = "cancelled", now_s
            self._fill(now_s)
            return job.to_json(self.staged)

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
        """Measurements of this job only; a follow-up measures its sample's pellet again."""
        sample = job.sample
        rng = np.random.default_rng([self._seed, job.index, 1])
        hidden = None if job.new_sample else sample.hidden(self._seed)
        return {
            "job_id": job.job_id,
            "recipe": dict(sample.recipe),
            "sample": sample.block(),
            "measurements": measure(sample.pellet, job.protocols, rng, self._ccd, hidden=hidden),
        }
