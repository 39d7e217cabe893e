"""An in-memory cycler service speaking protocol 1.0 or 1.1 (samples, follow-ups, hours).

It follows the protocol's job semantics closely enough for the loop: idempotent keys, a sample
per new job (``S-000001``...), follow-ups on a sample (refused with the protocol's sample
errors), a CCD staircase consuming the sample when accepted, ``instrument_hours`` on finished
jobs (1.1), scripted outcomes per job number, and a switch that makes it unreachable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from experiments.cycler.durations import DEFAULT_DURATIONS
from experiments.cycler.errors import (
    CyclerUnavailableError,
    SampleConsumedError,
    UnknownSampleError,
)
from experiments.cycler.models import PROTOCOLS

RECIPE_SPACE = {
    "zbo_fraction": {"min": 0.0, "max": 0.5, "step": 0.01},
    "sinter_temperature_c": {"min": 900.0, "max": 1300.0, "step": 10.0},
    "dwell_h": {"min": 1.0, "max": 24.0, "step": 0.5, "default": 6.0},
}


class Crash(BaseException):
    """Stands for SIGKILL: not an Exception, so nothing in the loop can swallow it."""


@dataclass
class StagedService:
    """A fake cycler service (see the module docstring).

    Attributes:
        version: ``"1.1"`` or ``"1"``.
        slots: its ``max_concurrent_jobs``.
        outcomes: job number -> ``fault``, ``cracked`` or ``ok`` (default).
        crash_on_post: POST number -> ``before``/``after`` (the process dies around it).
        down: every call raises :class:`CyclerUnavailableError` while True.
        stolen: job numbers whose sample someone else uses up as the job succeeds.
        fault_keeps_sample: an instrument fault gives back the sample its CCD would have
            used up (the project's simulator keeps it used up).
        sigma: recipe -> sigma (mS/cm) of its pellet; t_e is ``0.01 + x / 10``.
    """

    version: str = "1.1"
    slots: int = 2
    outcomes: dict[int, str] = field(default_factory=dict)
    crash_on_post: dict[int, str] = field(default_factory=dict)
    down: bool = False
    stolen: set[int] = field(default_factory=set)
    fault_keeps_sample: bool = True
    jobs: dict[str, SimpleNamespace] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    consumed: set[str] = field(default_factory=set)
    posts: list[str] = field(default_factory=list)  # keys, in order, one per POST received

    @property
    def staged(self) -> bool:
        return self.version == "1.1"

    def _reach(self) -> None:
        if self.down:
            raise CyclerUnavailableError("connection refused (9 attempts)")

    def capabilities(self):
        self._reach()
        raw = {
            "protocol_version": self.version,
            "recipe_space": RECIPE_SPACE,
            "protocols": list(PROTOCOLS),
            "max_concurrent_jobs": self.slots,
            "theoretical_density_g_cm3": 3.244,
        }
        if self.staged:
            raw.update(DEFAULT_DURATIONS.to_capabilities())
        return SimpleNamespace(
            raw=raw, max_concurrent_jobs=self.slots, theoretical_density_g_cm3=3.244
        )

    def durations(self):
        return DEFAULT_DURATIONS

    def health(self):
        self._reach()
        return {"status": "ok", "protocol_version": self.version}

    def _post(self, key: str, make) -> SimpleNamespace:
        self._reach()
        self.posts.append(key)
        n_post = len(self.posts)
        if self.crash_on_post.get(n_post) == "before":
            raise Crash()
        if key in self.by_key:
            job = self.jobs[self.by_key[key]]
        else:
            job = make()
            self.jobs[job.job_id], self.by_key[key] = job, job.job_id
        if self.crash_on_post.pop(n_post, None) == "after":
            raise Crash()
        return job

    def _job(self, campaign, recipe, protocols, key, sample_id, new):
        n = len(self.jobs) + 1
        return SimpleNamespace(
            job_id=f"j-{n:06d}",
            campaign=campaign,
            recipe=dict(recipe),
            protocols=list(protocols),
            status="queued",
            idempotency_key=key,
            error=None,
            n=n,
            ticks=0,
            sample_id=sample_id or f"S-{n:06d}",
            new=new,
            instrument_hours=None,
        )

    def submit_job(self, campaign, recipe, key, protocols=None):
        chosen = list(protocols) if protocols else list(PROTOCOLS)
        if not self.staged and protocols:
            raise AssertionError("a 1.0 job body in this loop names no protocols")
        full = {"dwell_h": 6.0, **recipe}

        def make():
            job = self._job(campaign, full, chosen, key, None, True)
            if "ccd_staircase" in chosen:
                self.consumed.add(job.sample_id)
            return job

        return self._post(key, make)

    def submit_followup(self, campaign, sample_id, protocols, key):
        if not self.staged:
            raise AssertionError("a follow-up was sent to a 1.0 service")

        def make():
            maker = next(
                (j for j in self.jobs.values() if j.new and j.sample_id == sample_id), None
            )
            if maker is None:
                raise UnknownSampleError(f"no sample {sample_id}", 404, "unknown_sample")
            if sample_id in self.consumed or (
                maker.status == "failed" and maker.error.code == "sample_cracked"
            ):
                raise SampleConsumedError(f"{sample_id} is used up", 409, "sample_consumed")
            job = self._job(campaign, maker.recipe, protocols, key, sample_id, False)
            if "ccd_staircase" in protocols:
                self.consumed.add(sample_id)
            return job

        return self._post(key, make)

    def list_jobs(self, campaign):
        self._reach()
        return [j for j in self.jobs.values() if j.campaign == campaign]

    def hours(self, job) -> float:
        dwell = job.recipe["dwell_h"] if job.new else None
        if job.status == "failed" and job.error.code == "sample_cracked":
            return DEFAULT_DURATIONS.sintering_h(job.recipe["dwell_h"])
        return DEFAULT_DURATIONS.job_hours(job.protocols, dwell_h=dwell)

    def get_job(self, job_id):
        self._reach()
        job = self.jobs[job_id]
        job.ticks += 1
        if job.status in ("queued", "running") and job.ticks >= 2 + job.n % 2:
            outcome = self.outcomes.get(job.n, "ok")
            if outcome == "cracked" and job.new:
                job.status = "failed"
                job.error = SimpleNamespace(
                    code="sample_cracked", message="bloated", retryable=False
                )
            elif outcome == "fault":
                job.status = "failed"
                job.error = SimpleNamespace(
                    code="instrument_fault", message="drift", retryable=True
                )
                if self.fault_keeps_sample:
                    self.consumed.discard(job.sample_id)
            else:
                job.status = "succeeded"
                if job.n in self.stolen:
                    self.consumed.add(job.sample_id)
            if self.staged:
                job.instrument_hours = self.hours(job)
        elif job.status == "queued":
            job.status = "running"
        return job

    def get_result(self, job_id):
        self._reach()
        job = self.jobs[job_id]
        x = job.recipe["zbo_fraction"]
        return {
            "job_id": job_id,
            "recipe": job.recipe,
            "sample": {"sample_id": job.sample_id},
            "measurements": [{"protocol": p, "x": x} for p in job.protocols],
        }


def staged_analyzer(raw, density):
    """Properties from the protocols a result holds (like the real analysis, much faster)."""
    row = {
        **raw["recipe"],
        "sample_id": raw["sample"]["sample_id"],
        "status": "ok",
        "source": raw["job_id"],
    }
    for m in raw["measurements"]:
        x = m["x"]
        if m["protocol"] == "eis_blocking":
            row["sigma_total_ms_cm"] = 0.5 + 2 * x
        elif m["protocol"] == "dc_polarization":
            row["electronic_fraction"] = 0.01 + x / 10
        elif m["protocol"] == "eis_symmetric":
            row["r_int_ohm_cm2"] = 10.0 + 20 * x
        elif m["protocol"] == "ccd_staircase":
            row["ccd_ma_cm2"], row["ccd_censored"] = 0.2 + x, False
    return SimpleNamespace(row=row, notes=[])


class RecipeList:
    """A recipe proposer giving x = 0.01, 0.02, ... at 1000 C (ignores the table)."""

    def __init__(self, start: int = 1):
        self.i = start
        self.calls: list[int] = []

    def __call__(self, table, *, batch_size, pending, config, space, seed):
        from design.campaign.proposer import Proposed

        self.calls.append(batch_size)
        out = []
        for _ in range(batch_size):
            out.append(
                SimpleNamespace(
                    recipe={
                        "zbo_fraction": round(0.01 * (self.i % 50), 2),
                        "sinter_temperature_c": 1000.0,
                    },
                    mean={},
                    sd={},
                    p_feasible=0.9,
                    acquisition_value=1.0,
                )
            )
            self.i += 1
        return Proposed(out)
