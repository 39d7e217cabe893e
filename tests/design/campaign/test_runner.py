"""The campaign loop against an in-memory fake service: crashes, faults, NaN, 401, pending."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest

from design.campaign.config import CampaignConfig
from design.campaign.runner import CampaignRunner, Proposed
from design.errors import CampaignError
from design.store import lease, ledger
from design.store.database import Store
from experiments.cycler.errors import CyclerAuthError
from physics.errors import AnalysisError

CAPS = {
    "protocol_version": "1",
    "recipe_space": {
        "zbo_fraction": {"min": 0.0, "max": 0.5, "step": 0.01},
        "sinter_temperature_c": {"min": 900.0, "max": 1300.0, "step": 10.0},
        "dwell_h": {"min": 1.0, "max": 24.0, "step": 0.5, "default": 6.0},
    },
    "max_concurrent_jobs": 2,
    "theoretical_density_g_cm3": 3.244,
}


class Crash(BaseException):
    """Stands for SIGKILL: not an Exception, so nothing in the loop can swallow it."""


@dataclass
class FakeService:
    """Follows the protocol's job semantics; scripted outcomes per submission number."""

    outcomes: dict[int, str] = field(default_factory=dict)  # n -> cracked|fault|nan|ok
    crash_on_post: dict[int, str] = field(default_factory=dict)  # n -> before|after
    token_ok: bool = True
    jobs: dict[str, SimpleNamespace] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    posts: int = 0
    polls: int = 0

    def capabilities(self):
        self._auth()
        return SimpleNamespace(raw=CAPS, max_concurrent_jobs=2, theoretical_density_g_cm3=3.244)

    def _auth(self):
        if not self.token_ok:
            raise CyclerAuthError("HTTP 401: wrong token")

    def submit_job(self, campaign, recipe, key, protocols=None):
        self._auth()
        self.posts += 1
        if self.crash_on_post.get(self.posts) == "before":
            raise Crash()
        if key in self.by_key:
            job = self.jobs[self.by_key[key]]
            assert job.recipe == recipe  # same key, same body (the test's own check)
        else:
            n = len(self.jobs) + 1
            job = SimpleNamespace(
                job_id=f"j-{n}",
                campaign=campaign,
                recipe=dict(recipe),
                status="queued",
                idempotency_key=key,
                error=None,
                n=n,
                ticks=0,
            )
            self.jobs[job.job_id], self.by_key[key] = job, job.job_id
        if self.crash_on_post.pop(self.posts, None) == "after":
            raise Crash()  # acted on, answer lost with the process
        return job

    def list_jobs(self, campaign):
        self._auth()
        return [j for j in self.jobs.values() if j.campaign == campaign]

    def get_job(self, job_id):
        self._auth()
        self.polls += 1
        job = self.jobs[job_id]
        job.ticks += 1
        if job.status in ("queued", "running") and job.ticks >= 2 + job.n % 3:
            outcome = self.outcomes.get(job.n, "ok")
            if outcome == "cracked":
                job.status = "failed"
                job.error = SimpleNamespace(
                    code="sample_cracked", message="bloated", retryable=False
                )
            elif outcome == "fault":
                job.status = "failed"
                job.error = SimpleNamespace(
                    code="instrument_fault", message="drift", retryable=True
                )
            else:
                job.status = "succeeded"
        elif job.status == "queued":
            job.status = "running"
        return job

    def get_result(self, job_id):
        job = self.jobs[job_id]
        sigma = math.nan if self.outcomes.get(job.n) == "nan" else 1.0 + job.recipe["zbo_fraction"]
        return {
            "job_id": job_id,
            "recipe": job.recipe,
            "sample": {"sample_id": f"S-{job.n}"},
            "sigma": sigma,
        }


def fake_analyzer(raw, density):
    if not math.isfinite(raw["sigma"]):
        raise AnalysisError(f"job {raw['job_id']}: sigma is NaN")
    row = {
        **raw["recipe"],
        "sample_id": raw["sample"]["sample_id"],
        "status": "ok",
        "sigma_total_ms_cm": raw["sigma"],
        "source": raw["job_id"],
    }
    return SimpleNamespace(row=row, notes=["fake"])


class FakeProposer:
    def __init__(self):
        self.calls: list[dict] = []
        self.counter = itertools.count()

    def __call__(self, table, *, batch_size, pending, config, space, seed):
        self.calls.append({"n_rows": len(table), "pending": list(pending), "batch": batch_size})
        sugs = []
        for _ in range(batch_size):
            i = next(self.counter)
            sugs.append(
                SimpleNamespace(
                    recipe={"zbo_fraction": 0.01 * (i % 50), "sinter_temperature_c": 1000.0},
                    mean={"sigma_total_ms_cm": 1.0},
                    sd={},
                    p_feasible=0.9,
                    acquisition_value=float(i),
                )
            )
        return Proposed(sugs)


def _setup(tmp_path, budget=5, **cfg):
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    config = CampaignConfig(
        name="unit",
        cycler_url="http://fake",
        budget=budget,
        strategy="sobol",
        poll_interval_s=0.01,
        poll_max_s=0.01,
        tracking=False,
        **cfg,
    )
    ledger.create_campaign(store, "unit", config.to_json())
    return store


def _runner(store, service, proposer=None):
    return CampaignRunner(
        store,
        "unit",
        service,
        proposer=proposer or FakeProposer(),
        analyzer=fake_analyzer,
        sleep=lambda s: None,
    )


def _check_consistent(store, service):
    rec = store.campaign("unit")
    jobs = [j for j in store.jobs(rec.id) if j.job_id]
    assert len(service.jobs) == len(jobs)  # nothing submitted twice, nothing lost
    assert {j.job_id: j.idempotency_key for j in jobs} == {
        j.job_id: j.idempotency_key for j in service.jobs.values()
    }
    rows = [r for r in store.rows(rec.id) if r.origin == "campaign"]
    assert len({r.job_pk for r in rows}) == len(rows)


def test_campaign_runs_to_budget_with_pending_points(tmp_path):
    store, service, proposer = _setup(tmp_path, budget=5), FakeService(), FakeProposer()
    snap = _runner(store, service, proposer).run()
    assert snap.status == "done" and snap.experiments_done == 5 and snap.proposals == 5
    assert proposer.calls[0] == {"n_rows": 0, "pending": [], "batch": 2}
    assert any(c["pending"] for c in proposer.calls[1:])  # refit while others are in flight
    assert max(len(c["pending"]) + c["batch"] for c in proposer.calls) <= 2
    _check_consistent(store, service)


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("post", [1, 3])
def test_crash_around_post_neither_loses_nor_duplicates(tmp_path, when, post):
    store = _setup(tmp_path, budget=4)
    service = FakeService(crash_on_post={post: when})
    with pytest.raises(Crash):
        _runner(store, service).run()
    rec = store.campaign("unit")
    assert any(j.status == "created" for j in store.jobs(rec.id))  # key committed, POST unconfirmed
    lease.release_lease(store, "unit", store.campaign("unit").lease_owner)  # the "dead" process
    snap = _runner(store, service).run()
    assert snap.experiments_done == 4
    _check_consistent(store, service)


def test_faults_and_cracks(tmp_path):
    store = _setup(tmp_path, budget=3)
    service = FakeService(outcomes={1: "fault", 2: "cracked"})
    snap = _runner(store, service).run()
    assert snap.experiments_done == 3  # the fault's re-run does not count, the crack does
    assert snap.jobs.get("fault") == 1 and snap.jobs.get("cracked") == 1
    rec = store.campaign("unit")
    faulted = next(j for j in store.jobs(rec.id) if j.status == "fault")
    rerun = next(
        j for j in store.jobs(rec.id) if j.proposal_id == faulted.proposal_id and j.attempt == 2
    )
    assert rerun.request == faulted.request and rerun.idempotency_key != faulted.idempotency_key
    _check_consistent(store, service)


def test_nan_result_is_set_aside_and_rerun(tmp_path):
    store = _setup(tmp_path, budget=2)
    service = FakeService(outcomes={1: "nan"})
    snap = _runner(store, service).run()
    assert snap.experiments_done == 2 and snap.status == "done"
    assert snap.jobs.get("rejected") == 1 and "NaN" in snap.rejected_reasons[0]
    table = ledger.measurement_table(store, store.campaign("unit").id)
    assert table["sigma_total_ms_cm"].notna().all()


def test_repeated_nan_abandons_the_slot_after_max_reruns(tmp_path):
    store = _setup(tmp_path, budget=1, max_reruns=1)
    service = FakeService(outcomes={1: "nan", 2: "nan"})
    snap = _runner(store, service).run()
    assert snap.status == "done" and snap.experiments_done == 0 and snap.proposals_abandoned == 1


def test_wrong_token_stops_with_a_plain_message(tmp_path):
    store = _setup(tmp_path, budget=2)
    service = FakeService()
    runner = _runner(store, service)
    runner.run(max_ticks=1)
    service.token_ok = False
    with pytest.raises(CampaignError, match="refused the token"):
        _runner(store, service).run()
    rec = store.campaign("unit")
    assert rec.status == "stopped" and "CYCLER_TOKEN" in rec.message and rec.lease_owner is None
    service.token_ok = True
    assert _runner(store, service).run().experiments_done == 2


def test_second_live_runner_is_refused(tmp_path):
    store = _setup(tmp_path, budget=2)
    lease.acquire_lease(store, "unit", "otherhost:1", ttl_s=60, force_from=set())
    with pytest.raises(CampaignError, match="being run by"):
        _runner(store, FakeService()).run()


def test_progress_display_shows_counts_best_and_hypervolume(tmp_path):
    import io

    from rich.console import Console

    from design.reporting.progress import CampaignDisplay, snapshot_line, status_table

    store, service = _setup(tmp_path, budget=3), FakeService(outcomes={2: "cracked"})
    seen = []
    snap = CampaignRunner(
        store,
        "unit",
        service,
        proposer=FakeProposer(),
        analyzer=fake_analyzer,
        sleep=lambda s: None,
        on_progress=seen.append,
    ).run()
    assert seen and seen[-1].experiments_done == 3
    line = snapshot_line(snap)
    assert "3/3 done" in line and "cracked=1" in line and "HV" in line and "best sigma" in line
    out = io.StringIO()
    Console(file=out, width=120).print(status_table(snap))
    text = out.getvalue()
    assert "Jobs by status" in text and "hypervolume" in text and snap.best[0]["sample_id"] in text
    from design.reporting.html import render_report
    from design.reporting.summary import CampaignSummary
    from design.store.hours import furnace_energy_proxy_kkh
    from design.store.ledger import measurement_table

    table = measurement_table(store, store.campaign("unit").id, origin="campaign")
    energy = furnace_energy_proxy_kkh(
        zip(table["sinter_temperature_c"], table["dwell_h"], strict=True)
    )
    assert len(table) == 3 and energy > 0  # every pellet, the cracked one too
    assert snap.metrics["furnace_energy_proxy_kkh"] == pytest.approx(energy)
    assert "furnace energy proxy (kK h)" in text and f"{energy:.2f}" in text
    page = render_report(CampaignSummary(snap, {}, table, None, [], {}))
    assert "furnace energy proxy (kK h" in page
    plain = io.StringIO()
    with CampaignDisplay(Console(file=plain, width=200), live=False) as display:
        display(snap)
        display(snap)  # unchanged: printed once
    assert plain.getvalue().count("3/3 done") == 1


def test_unreachable_service_stops_with_a_resume_hint(tmp_path):
    from experiments.cycler.errors import CyclerUnavailableError

    store, service = _setup(tmp_path, budget=2), FakeService()
    _runner(store, service).run(max_ticks=1)

    def down(*args, **kwargs):
        raise CyclerUnavailableError("no answer after 9 attempts")

    service.get_job = down
    with pytest.raises(CampaignError, match="gbs campaign resume unit"):
        _runner(store, service).run()
    rec = store.campaign("unit")
    assert rec.status == "stopped" and rec.lease_owner is None
    del service.get_job
    assert _runner(store, service).run().experiments_done == 2
