"""Instrument-hours of jobs: estimates, the split over parts, and a campaign's sums."""

from __future__ import annotations

import pytest

from design.campaign.config import CampaignConfig
from design.store import ledger
from design.store.database import Store
from design.store.hours import (
    JobHours,
    estimate_hours,
    furnace_energy_proxy_kkh,
    hours_summary,
    split_hours,
)
from experiments.cycler.durations import DEFAULT_DURATIONS as D

ALL = ["eis_blocking", "dc_polarization", "eis_symmetric", "ccd_staircase"]


def test_estimates_follow_the_protocol_formula():
    assert estimate_hours(D, "new", ALL, 6.0) == 110.0  # 10 + 6 + 6 + 12 + 4 + 72
    assert estimate_hours(D, "new", ["eis_blocking", "dc_polarization"], 2.0) == 30.0
    assert estimate_hours(D, "follow_up", ["eis_symmetric", "ccd_staircase"], 6.0) == 76.0
    assert estimate_hours(D, "new", ALL, 6.0, cracked=True) == 16.0  # the furnace only
    assert estimate_hours(D, "follow_up", ["eis_blocking", "eis_blocking"], None) == 12.0


def test_the_split_scales_to_what_the_service_reported():
    parts = split_hours(121.0, D, "new", ALL, 6.0)  # 10 % over the nominal 110 h
    assert parts == pytest.approx(
        {
            "sintering": 17.6,
            "eis_blocking": 6.6,
            "dc_polarization": 13.2,
            "eis_symmetric": 4.4,
            "ccd_staircase": 79.2,
        }
    )
    assert sum(parts.values()) == pytest.approx(121.0)
    assert split_hours(16.0, D, "new", ALL, 6.0, cracked=True) == {"sintering": 16.0}


def test_the_summary_counts_finished_jobs_once_and_live_ones_as_expected(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    cfg = CampaignConfig(name="h", cycler_url="http://x", budget_hours=1000)
    rec = ledger.create_campaign(store, "h", cfg.to_json())
    actions = [
        {"kind": "new", "recipe": {"zbo_fraction": 0.1}, "protocols": None, "expected_hours": 110}
        for _ in range(3)
    ]
    a, b, c = ledger.add_actions(store, rec, 1, actions, info={})
    for job, job_id in ((a, "j-1"), (b, "j-2")):
        ledger.mark_submitted(store, job.id, job_id, "running")
    hours = JobHours(100.0, "service", {"sintering": 20.0, "ccd_staircase": 80.0})
    ledger.store_result(store, a.id, {"job_id": "j-1"}, hours=hours)
    ledger.store_result(store, a.id, {"job_id": "j-1"}, hours=hours)  # a replay: no-op
    summary = hours_summary(store, rec.id, budget_h=1000)
    assert summary.spent_h == 100.0 and summary.parts_h == {
        "sintering": 20.0,
        "ccd_staircase": 80.0,
    }
    assert summary.committed_h == 100.0 + 110 + 110  # b running, c about to be sent
    assert summary.left_h == 1000 - 320
    assert summary.metrics()["instrument_hours_ccd_staircase"] == 80.0
    ledger.record_failed(store, c.id, "not_sent", "refused at its POST")  # never ran: no hours
    assert hours_summary(store, rec.id).committed_h == 210.0
    store.close()


def test_the_furnace_energy_proxy_by_hand():
    # 6 h at 1000 C: 6 * (1273.15 - 298.15) / 1000 = 5.85 kK h; 3 h at 1100 C: 3.225 kK h
    assert furnace_energy_proxy_kkh([(1000.0, 6.0), (1100.0, 3.0)]) == pytest.approx(9.075)
    assert furnace_energy_proxy_kkh([]) == 0.0
    with pytest.raises(ValueError, match="not valid"):
        furnace_energy_proxy_kkh([(float("nan"), 6.0)])


def test_the_summary_counts_the_energy_of_pellets_finished_jobs_sintered(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'e.db'}")
    cfg = CampaignConfig(name="e", cycler_url="http://x", budget_hours=1000)
    rec = ledger.create_campaign(store, "e", cfg.to_json())
    recipes = [
        {"zbo_fraction": 0.1, "sinter_temperature_c": 1000.0, "dwell_h": 6.0},
        {"zbo_fraction": 0.2, "sinter_temperature_c": 1100.0, "dwell_h": 3.0},
        {"zbo_fraction": 0.3, "sinter_temperature_c": 1200.0},  # default dwell 6 h, still live
    ]
    actions = [
        {"kind": "new", "recipe": r, "protocols": None, "expected_hours": 100} for r in recipes
    ]
    a, b, c = ledger.add_actions(store, rec, 1, actions, info={})
    for job, job_id in ((a, "j-1"), (b, "j-2"), (c, "j-3")):
        ledger.mark_submitted(store, job.id, job_id, "running")
    for job, job_id in ((a, "j-1"), (b, "j-2")):
        hours = JobHours(16.0, "service", {"sintering": 16.0})  # b cracked: furnace only
        ledger.store_result(store, job.id, {"job_id": job_id}, hours=hours)
    summary = hours_summary(store, rec.id)
    assert summary.furnace_energy_proxy_kkh == pytest.approx(5.85 + 3.225)
    assert summary.metrics()["furnace_energy_proxy_kkh"] == pytest.approx(9.075)
    store.close()
