"""The loop with staged tests, hours and several services, against in-memory fake services."""

from __future__ import annotations

import logging
from collections import Counter

import pandas as pd
import pytest

from design.campaign.config import CampaignConfig
from design.campaign.runner import CampaignRunner
from design.errors import CampaignError
from design.store import lease, ledger
from design.store.database import Store
from design.store.hours import hours_summary
from design.store.samples import samples_of
from tests.design.campaign.staged_fakes import (
    Crash,
    RecipeList,
    StagedService,
    staged_analyzer,
)

ALL = ["eis_blocking", "dc_polarization", "eis_symmetric", "ccd_staircase"]


def _initial(sigma: float, te: float) -> pd.DataFrame:
    """One fully measured row (the front the staged policy compares with)."""
    return pd.DataFrame(
        [
            {
                "sample_id": "paper-1",
                "zbo_fraction": 0.2,
                "sinter_temperature_c": 1000.0,
                "dwell_h": 6.0,
                "status": "ok",
                "sigma_total_ms_cm": sigma,
                "electronic_fraction": te,
                "ccd_ma_cm2": 0.5,
                "ccd_censored": False,
            }
        ]
    )


def _setup(tmp_path, *, initial=None, urls=("http://fake",), **cfg) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    config = CampaignConfig(
        name="unit",
        cycler_url=urls[0],
        other_cycler_urls=list(urls[1:]),
        strategy="sobol",
        poll_interval_s=0.01,
        poll_max_s=0.01,
        tracking=False,
        **cfg,
    )
    ledger.create_campaign(store, "unit", config.to_json(), initial)
    return store


class FakeClock:
    """Monotonic time that moves only when the loop sleeps."""

    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.t += s


def _runner(store, services, clock=None, **kw):
    clock = clock or FakeClock()
    clients = services if isinstance(services, dict) else {"cycler-1": services}
    return CampaignRunner(
        store,
        "unit",
        clients,
        proposer=kw.pop("proposer", None) or RecipeList(),
        analyzer=staged_analyzer,
        sleep=clock.sleep,
        clock=clock,
        **kw,
    )


def _protocols_per_sample(service: StagedService) -> Counter:
    """(sample, protocol) -> times measured on the service (faulted jobs excluded)."""
    out: Counter = Counter()
    for job in service.jobs.values():
        if job.status == "failed" and job.error.retryable:
            continue
        for p in job.protocols:
            out[(job.sample_id, p)] += 1
    return out


def _consistent(store: Store, services: dict[str, StagedService]) -> None:
    rec = store.campaign("unit")
    jobs = store.jobs(rec.id)
    for name, service in services.items():
        mine = {j.idempotency_key: j for j in jobs if j.service == name and j.job_id}
        assert {j.idempotency_key for j in service.jobs.values()} == set(mine)
        for job in service.jobs.values():
            assert mine[job.idempotency_key].job_id == job.job_id
        assert max(_protocols_per_sample(service).values(), default=1) == 1
    rows = [r for r in store.rows(rec.id) if r.origin == "campaign"]
    assert len({r.sample_id for r in rows}) == len(rows) == len(samples_of(store, rec.id))


def test_staged_runs_stage_one_then_follow_ups_on_non_dominated_samples(tmp_path):
    # the front: sigma 0.6 at t_e 0.012. x = 0.01 (sigma 0.52, t_e 0.011) and x >= 0.06 are
    # not dominated; x = 0.02 .. 0.05 are
    store = _setup(tmp_path, initial=_initial(0.6, 0.012), budget=6, protocol_policy="staged")
    service = StagedService(slots=2)
    snap = _runner(store, service).run()
    rec = store.campaign("unit")
    assert snap.status == "done" and snap.experiments_done == 6
    new = [j for j in store.jobs(rec.id) if j.kind == "new"]
    follow = [j for j in store.jobs(rec.id) if j.kind == "follow_up"]
    assert all(j.request["protocols"] == ["eis_blocking", "dc_polarization"] for j in new)
    assert all(j.request["protocols"] == ["eis_symmetric", "ccd_staircase"] for j in follow)
    followed = {j.request["sample_id"] for j in follow}
    table = ledger.measurement_table(store, rec.id).set_index("sample_id")
    assert followed == {"S-000001", *table.index[table["zbo_fraction"] >= 0.06]} - {"paper-1"}
    for sample in samples_of(store, rec.id):
        row = table.loc[sample.key]
        if sample.sample_id in followed:  # one row with the properties of both jobs
            assert sample.consumed and "ccd_staircase by job" in sample.consumed_reason
            assert row["ccd_ma_cm2"] == pytest.approx(0.2 + row["zbo_fraction"])
            assert row["sigma_total_ms_cm"] == pytest.approx(0.5 + 2 * row["zbo_fraction"])
            assert "+" in row["source"]
        else:
            assert not sample.consumed and pd.isna(row["ccd_ma_cm2"])
    assert snap.followups_done == len(follow) == len(followed)
    _consistent(store, {"cycler-1": service})


def test_hours_are_counted_once_per_job_and_split_by_protocol(tmp_path):
    store = _setup(tmp_path, budget=3, protocol_policy="staged")
    snap = _runner(store, StagedService()).run()
    rec = store.campaign("unit")
    jobs = store.jobs(rec.id)
    # 3 stage-one samples (16 h sintering + 6 + 12) and 3 follow-ups (4 + 72)
    assert sum(j.instrument_hours for j in jobs) == pytest.approx(3 * 34 + 3 * 76)
    assert all(j.hours_source == "service" for j in jobs)
    h = snap.hours
    assert h.spent_h == pytest.approx(3 * 110) and h.committed_h == pytest.approx(h.spent_h)
    assert h.parts_h == pytest.approx(
        {
            "sintering": 48,
            "eis_blocking": 18,
            "dc_polarization": 36,
            "eis_symmetric": 12,
            "ccd_staircase": 216,
        }
    )
    assert snap.metrics["instrument_hours_ccd_staircase"] == pytest.approx(216)


def test_budget_hours_admits_only_what_fits(tmp_path):
    # all protocols, 110 h a sample: 500 h hold four samples, not five
    store = _setup(tmp_path, budget_hours=500)
    service = StagedService(version="1", slots=3)
    snap = _runner(store, service).run()
    assert snap.status == "done" and snap.experiments_done == 4
    assert snap.hours.spent_h == pytest.approx(440) and snap.hours.budget_h == 500
    assert all(j.hours_source == "estimate" for j in store.jobs(store.campaign("unit").id))


def test_a_staged_campaign_on_a_1_0_service_runs_every_protocol_and_says_so(tmp_path, caplog):
    store = _setup(tmp_path, budget=3, protocol_policy="staged")
    service = StagedService(version="1", slots=2)
    with caplog.at_level(logging.WARNING, logger="design.campaign.runner"):
        snap = _runner(store, service).run()
    assert snap.experiments_done == 3 and snap.followups_done == 0
    assert all(j.protocols == ALL for j in service.jobs.values())
    assert all("protocols" not in j.request for j in store.jobs(store.campaign("unit").id))
    assert "speaks protocol 1.0: it runs every protocol of each sample" in caplog.text


def test_a_follow_up_on_a_used_up_sample_is_closed_once_and_the_slot_reused(tmp_path):
    store = _setup(tmp_path, budget=2, protocol_policy="staged")
    service = StagedService(slots=1, stolen={1})  # a CCD ran on S-000001 behind the loop
    snap = _runner(store, service).run()
    rec = store.campaign("unit")
    assert snap.status == "done" and snap.experiments_done == 2
    (refused,) = [j for j in store.jobs(rec.id) if j.status == "failed"]
    assert refused.kind == "follow_up" and refused.error_code == "sample_consumed"
    assert service.posts.count(refused.idempotency_key) == 1  # one request, no retry loop
    assert refused.instrument_hours is None  # it never ran
    first = samples_of(store, rec.id)[0]
    assert first.consumed and first.consumed_reason.startswith("sample_consumed")
    prop = next(p for p in store.proposals(rec.id) if p.id == refused.proposal_id)
    assert prop.status == "abandoned" and "sample_consumed" in prop.reason
    assert snap.followups_done == 1  # the second sample was followed up: the slot was not lost
    _consistent(store, {"cycler-1": service})


def test_an_instrument_fault_on_a_follow_up_measures_the_same_sample_again(tmp_path):
    store = _setup(tmp_path, budget=1, protocol_policy="staged")
    service = StagedService(slots=1, outcomes={2: "fault"})  # job 2 is the follow-up
    snap = _runner(store, service).run()
    rec = store.campaign("unit")
    fault, rerun = [j for j in store.jobs(rec.id) if j.kind == "follow_up"]
    assert fault.status == "fault" and rerun.status == "done"
    assert rerun.request == fault.request and rerun.request["sample_id"] == "S-000001"
    assert rerun.idempotency_key != fault.idempotency_key and rerun.attempt == 2
    assert snap.followups_done == 1 and snap.experiments_done == 1
    assert fault.instrument_hours == pytest.approx(76) and snap.hours.spent_h == pytest.approx(186)


def test_a_faulted_ccd_that_used_the_sample_up_is_closed_after_one_refusal(tmp_path):
    # the service keeps the sample used up after the fault (as the project's simulator does)
    store = _setup(tmp_path, budget=1, protocol_policy="staged")
    service = StagedService(slots=1, outcomes={2: "fault"}, fault_keeps_sample=False)
    snap = _runner(store, service).run()
    rec = store.campaign("unit")
    fault, rerun = [j for j in store.jobs(rec.id) if j.kind == "follow_up"]
    assert fault.status == "fault" and rerun.status == "failed"
    assert rerun.error_code == "sample_consumed" and service.posts.count(rerun.idempotency_key) == 1
    assert snap.status == "done" and snap.followups_done == 0
    assert samples_of(store, rec.id)[0].consumed


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("post", [2, 3, 4])
def test_crash_around_a_follow_up_post_neither_loses_nor_duplicates(tmp_path, when, post):
    store = _setup(tmp_path, budget=3, protocol_policy="staged")
    service = StagedService(slots=1, crash_on_post={post: when})
    with pytest.raises(Crash):
        _runner(store, service).run()
    lease.release_lease(store, "unit", store.campaign("unit").lease_owner)
    snap = _runner(store, service).run()
    assert snap.status == "done" and snap.experiments_done == 3 and snap.followups_done == 3
    _consistent(store, {"cycler-1": service})
    rec = store.campaign("unit")
    assert hours_summary(store, rec.id).spent_h == pytest.approx(3 * 110)


def test_two_services_share_the_work_and_follow_ups_go_where_the_sample_is(tmp_path):
    store = _setup(tmp_path, budget=8, protocol_policy="staged", urls=("http://a:1", "http://b:2"))
    a, b = StagedService(slots=2), StagedService(slots=2)
    snap = _runner(store, {"cycler-1": a, "cycler-2": b}).run()
    assert snap.status == "done" and snap.experiments_done == 8
    rec = store.campaign("unit")
    keys = {s.key for s in samples_of(store, rec.id)}
    assert {"cycler-1:S-000001", "cycler-2:S-000001"} <= keys  # same id on both, two samples
    for job in store.jobs(rec.id):
        if job.kind == "follow_up":
            sample = next(s for s in samples_of(store, rec.id) if s.id == job.sample_pk)
            assert job.service == sample.service
    assert len([j for j in a.jobs.values() if j.new]) >= 3
    assert len([j for j in b.jobs.values() if j.new]) >= 3
    assert set(snap.hours.by_service_h) == {"cycler-1", "cycler-2"}
    _consistent(store, {"cycler-1": a, "cycler-2": b})


def test_a_service_that_goes_away_waits_while_the_other_goes_on(tmp_path, caplog):
    store = _setup(tmp_path, budget=8, urls=("http://a:1", "http://b:2"))
    a, b = StagedService(slots=2), StagedService(slots=2)
    clock = FakeClock()
    seen = []
    runner = _runner(store, {"cycler-1": a, "cycler-2": b}, clock, on_progress=seen.append)
    runner.run(max_ticks=2)  # both have jobs now
    assert b.jobs
    b.down = True
    lease.release_lease(store, "unit", runner.owner)
    runner = _runner(store, {"cycler-1": a, "cycler-2": b}, clock, on_progress=seen.append)
    with caplog.at_level(logging.WARNING):
        runner.run(max_ticks=60)
    assert "cycler-2 (http://b:2) went away" in caplog.text and "job(s) wait" in caplog.text
    assert any("cycler-2 away" in " ".join(s.notes) for s in seen)
    rec = store.campaign("unit")
    waiting = [j for j in store.jobs(rec.id) if j.service == "cycler-2" and j.status == "submitted"]
    assert waiting and rec.status == "active"
    assert len([r for r in store.rows(rec.id) if r.origin == "campaign"]) >= 3  # a went on
    b.down = False  # back: probed, reconciled, its jobs finish
    lease.release_lease(store, "unit", runner.owner)
    snap = _runner(store, {"cycler-1": a, "cycler-2": b}, clock).run()
    assert snap.status == "done" and snap.experiments_done == 8
    _consistent(store, {"cycler-1": a, "cycler-2": b})


def test_every_service_away_stops_with_the_resume_hint(tmp_path):
    store = _setup(tmp_path, budget=4, urls=("http://a:1", "http://b:2"))
    a, b = StagedService(), StagedService()
    runner = _runner(store, {"cycler-1": a, "cycler-2": b})
    runner.run(max_ticks=2)
    a.down = b.down = True
    lease.release_lease(store, "unit", runner.owner)
    with pytest.raises(CampaignError, match="gbs campaign resume unit"):
        _runner(store, {"cycler-1": a, "cycler-2": b}).run()
    assert store.campaign("unit").status == "stopped"
    a.down = b.down = False
    snap = _runner(store, {"cycler-1": a, "cycler-2": b}).run()
    assert snap.status == "done" and snap.experiments_done == 4


def test_swapped_addresses_are_refused_on_resume(tmp_path):
    store = _setup(tmp_path, budget=4, urls=("http://a:1", "http://b:2"))
    a, b = StagedService(), StagedService()
    runner = _runner(store, {"cycler-1": a, "cycler-2": b})
    runner.run(max_ticks=2)
    lease.release_lease(store, "unit", runner.owner)
    with pytest.raises(CampaignError, match="another order"):
        _runner(store, {"cycler-1": b, "cycler-2": a}).run()


def test_standby_waits_for_the_driver_and_takes_over(tmp_path, caplog):
    store = _setup(tmp_path, budget=2)
    lease.acquire_lease(store, "unit", "otherhost:1", ttl_s=600, force_from=set())
    clock = FakeClock()
    waits = []

    def sleep(s):
        waits.append(s)
        clock.sleep(s)
        if len(waits) == 3:  # the driver stops
            lease.release_lease(store, "unit", "otherhost:1")

    runner = CampaignRunner(
        store,
        "unit",
        StagedService(),
        proposer=RecipeList(),
        analyzer=staged_analyzer,
        sleep=sleep,
        clock=clock,
    )
    with caplog.at_level(logging.WARNING):
        snap = runner.run(standby=True)
    assert snap.status == "done" and snap.experiments_done == 2
    assert waits[:3] == [2.0, 2.0, 2.0]
    assert "standing by" in caplog.text and "taking over" in caplog.text
    assert store.campaign("unit").lease_owner is None


def test_a_process_that_lost_the_lease_proposes_nothing(tmp_path):
    store = _setup(tmp_path, budget=2)
    rec = store.campaign("unit")
    lease.acquire_lease(store, "unit", "otherhost:1", ttl_s=600, force_from=set())
    with pytest.raises(CampaignError, match="no longer drives the campaign"):
        ledger.add_actions(
            store,
            rec,
            1,
            [{"kind": "new", "recipe": {"zbo_fraction": 0.1}, "protocols": None}],
            info={},
            owner="thishost:2",
        )
    assert store.proposals(rec.id) == []
