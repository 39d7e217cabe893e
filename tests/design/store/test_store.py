"""Campaign store and state machine: transactions, unique constraints, re-runs, leases."""

from __future__ import annotations

import math
import os

import pandas as pd
import pytest

from design.acquisition.thresholds import parse_thresholds
from design.campaign.config import CampaignConfig, redact_url
from design.errors import CampaignError
from design.reporting.snapshot import export_csv, snapshot
from design.store import lease, ledger
from design.store.database import Store, dumps, loads
from physics.errors import ConfigError
from physics.table import read_table

RECIPE = {"zbo_fraction": 0.2, "sinter_temperature_c": 1000.0, "dwell_h": 6.0}


def _row(sample_id: str, job_id: str, sigma: float = 1.2) -> dict:
    return {
        **RECIPE,
        "sample_id": sample_id,
        "status": "ok",
        "sigma_total_ms_cm": sigma,
        "ccd_ma_cm2": 0.4,
        "electronic_fraction": 0.02,
        "source": job_id,
    }


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'c.db'}")
    yield s
    s.close()


@pytest.fixture
def campaign(store):
    cfg = CampaignConfig(name="c1", cycler_url="http://127.0.0.1:1", budget=3)
    return ledger.create_campaign(store, "c1", cfg.to_json())


def _one_job(store, campaign, recipe=RECIPE):
    props = [
        {"recipe": recipe, "prediction": {"mean": {"sigma": math.nan}}, "acquisition_value": 0.5}
    ]
    iteration = 1 + len(store.iterations(campaign.id))
    return ledger.add_proposals(
        store, campaign, iteration, props, protocols=None, info={"n_rows": 0}
    )[0]


def test_key_and_body_are_committed_before_any_post(store, campaign):
    job = _one_job(store, campaign)
    fresh = Store(store.url)  # a new connection sees the committed state
    (seen,) = fresh.jobs(campaign.id)
    assert seen.status == "created" and seen.job_id is None
    assert seen.idempotency_key == job.idempotency_key and len(seen.idempotency_key) <= 128
    assert seen.request == {"campaign": "c1", "recipe": RECIPE}
    assert loads(fresh.proposals(campaign.id)[0].prediction_json) == {"mean": {"sigma": None}}


def test_duplicate_campaign_name_is_refused(store, campaign):
    with pytest.raises(CampaignError, match="exists already"):
        ledger.create_campaign(store, "c1", {})


def test_one_service_job_cannot_belong_to_two_keys(store, campaign):
    a, b = _one_job(store, campaign), _one_job(store, campaign)
    ledger.mark_submitted(store, a.id, "j-1", "queued")
    with pytest.raises(CampaignError, match="already recorded"):
        ledger.mark_submitted(store, b.id, "j-1", "queued")
    assert store.jobs(campaign.id)[1].job_id is None


def test_result_and_row_are_ingested_exactly_once(store, campaign):
    job = _one_job(store, campaign)
    ledger.mark_submitted(store, job.id, "j-1", "running")
    ledger.store_result(store, job.id, {"job_id": "j-1", "x": [1.0]})
    ledger.store_result(store, job.id, {"job_id": "j-1", "x": [2.0]})
    assert len(store.results(campaign.id)) == 1
    assert ledger.record_row(store, job.id, _row("S-1", "j-1"), ["note"]) is True
    assert ledger.record_row(store, job.id, _row("S-1", "j-1"), []) is False
    assert len(store.rows(campaign.id)) == 1
    assert store.proposals(campaign.id)[0].status == "done"


def test_duplicate_sample_is_refused_without_side_effects(store, campaign):
    a, b = _one_job(store, campaign), _one_job(store, campaign)
    for job, jid in ((a, "j-1"), (b, "j-2")):
        ledger.mark_submitted(store, job.id, jid, "running")
        ledger.store_result(store, job.id, {"job_id": jid})
    ledger.record_row(store, a.id, _row("S-1", "j-1"), [])
    with pytest.raises(CampaignError, match="already in the campaign"):
        ledger.record_row(store, b.id, _row("S-1", "j-2"), [])
    assert store.jobs(campaign.id)[1].status == "fetched"
    assert len(store.rows(campaign.id)) == 1


def test_instrument_fault_reruns_under_new_key_until_limit(store, campaign):
    job = _one_job(store, campaign)
    keys = {job.idempotency_key}
    for attempt in range(3):
        ledger.mark_submitted(store, job.id, f"j-{attempt}", "running")
        job = ledger.record_fault(store, job.id, "instrument_fault", "drift", max_retries=2)
        if attempt < 2:
            assert job is not None and job.request["recipe"] == RECIPE
            assert job.idempotency_key not in keys
            keys.add(job.idempotency_key)
    assert job is None
    prop = store.proposals(campaign.id)[0]
    assert prop.status == "abandoned" and "instrument_fault" in prop.reason


def test_rejected_result_keeps_its_reason_and_reruns(store, campaign):
    job = _one_job(store, campaign)
    ledger.mark_submitted(store, job.id, "j-1", "running")
    ledger.store_result(store, job.id, {"job_id": "j-1"})
    rerun = ledger.record_rejected(store, job.id, "AnalysisError: NaN in z_real_ohm", max_reruns=1)
    first = store.jobs(campaign.id)[0]
    assert first.status == "rejected" and "NaN" in first.error_message
    assert rerun is not None and rerun.attempt == 2
    assert len(store.results(campaign.id)) == 1  # the raw result is kept for inspection
    assert store.proposals(campaign.id)[0].status == "open"


def test_cracked_becomes_a_cracked_row(store, campaign):
    job = _one_job(store, campaign)
    ledger.mark_submitted(store, job.id, "j-7", "running")
    assert ledger.record_cracked(store, job.id, "pellet bloated")
    table = ledger.measurement_table(store, campaign.id)
    assert table.loc[0, "status"] == "cracked" and table.loc[0, "source"] == "j-7"
    assert math.isnan(table.loc[0, "sigma_total_ms_cm"])


def test_lease_refuses_a_live_owner_and_takes_over_a_dead_one(store, campaign):
    lease.acquire_lease(store, "c1", "host:1", ttl_s=60, force_from=set())
    with pytest.raises(CampaignError, match="being run by host:1"):
        lease.acquire_lease(store, "c1", "host:2", ttl_s=60, force_from=set())
    lease.acquire_lease(store, "c1", "host:2", ttl_s=60, force_from={"host:1"})
    lease.release_lease(store, "c1", "host:2")
    lease.acquire_lease(store, "c1", "host:3", ttl_s=60, force_from=set())


def test_export_matches_the_database(store, campaign, tmp_path):
    job = _one_job(store, campaign)
    ledger.mark_submitted(store, job.id, "j-1", "running")
    ledger.store_result(store, job.id, {})
    ledger.record_row(store, job.id, _row("S-1", "j-1", sigma=1.234), [])
    out = export_csv(store, "c1", tmp_path / "out.csv")
    back = read_table(out)
    assert list(back["sample_id"]) == ["S-1"] and back.loc[0, "sigma_total_ms_cm"] == pytest.approx(
        1.234
    )
    snap = snapshot(store, "c1")
    assert snap.experiments_done == 1 and snap.metrics["best_sigma_ms_cm"] == pytest.approx(1.234)


def test_initial_rows_are_stored_and_validated(store):
    frame = pd.DataFrame(
        [{**RECIPE, "sample_id": "paper-1", "status": "ok", "sigma_total_ms_cm": 1.58}]
    )
    rec = ledger.create_campaign(store, "c2", {"x": 1}, frame)
    assert store.rows(rec.id)[0].origin == "initial"
    bad = frame.assign(sigma_total_ms_cm=-1.0)
    with pytest.raises(Exception, match="sigma_total_ms_cm"):
        ledger.create_campaign(store, "c3", {}, bad)
    assert store.find_campaign("c3") is None  # nothing half-created


def test_config_round_trip_and_checks():
    cfg = CampaignConfig(
        name="zbo-1",
        cycler_url="http://h:8000",
        budget=5,
        thresholds=parse_thresholds(["sigma_total_ms_cm=1.0"]),
    )
    assert CampaignConfig.from_json(loads(dumps(cfg.to_json()))) == cfg
    with pytest.raises(ConfigError, match="not an objective"):
        parse_thresholds(["sigma=1"])
    with pytest.raises(ConfigError, match="strategy"):
        CampaignConfig(name="a", cycler_url="http://h", budget=1, strategy="random")
    with pytest.raises(ConfigError, match="credentials"):
        CampaignConfig(name="a", cycler_url="http://u:pw@h", budget=1)
    with pytest.raises(ConfigError, match="version"):
        CampaignConfig.from_json({"version": 99})
    assert (
        redact_url("https://u:secret@lab.example:8443/api?token=x")
        == "https://lab.example:8443/api"
    )


def test_unusable_db_url_is_a_config_error():
    with pytest.raises(ConfigError, match="SQLAlchemy URL"):
        Store("nonsense://")


def test_default_db_path_is_documented(monkeypatch):
    from design.store.database import DEFAULT_DB_PATH, resolve_db_url

    monkeypatch.delenv("GBS_CAMPAIGN_DB", raising=False)
    assert resolve_db_url() == f"sqlite:///{DEFAULT_DB_PATH}"
    assert DEFAULT_DB_PATH.parts[-2:] == ("campaigns", "campaigns.db")
    monkeypatch.setenv("GBS_CAMPAIGN_DB", "sqlite:///x.db")
    assert resolve_db_url() == "sqlite:///x.db" and os.environ["GBS_CAMPAIGN_DB"]


def test_two_campaigns_on_two_services_may_share_job_ids(store, campaign):
    other = ledger.create_campaign(store, "c2", {"x": 1})
    a, b = _one_job(store, campaign), _one_job(store, other)
    ledger.mark_submitted(store, a.id, "j-000001", "queued")
    ledger.mark_submitted(store, b.id, "j-000001", "queued")
    for job, c in ((a, campaign), (b, other)):
        ledger.store_result(store, job.id, {"job_id": "j-000001"})
        ledger.record_row(store, job.id, _row("S-000001", "j-000001"), [])
        assert len(store.rows(c.id)) == 1


def test_dead_owner_on_this_host_is_detected():
    import socket
    import subprocess
    import sys

    from design.store.lease import dead_owners, this_owner

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    gone = f"{socket.gethostname()}:{proc.pid}"
    assert dead_owners(gone) == {gone}
    assert dead_owners(this_owner()) == set()
    assert dead_owners("elsewhere:1") == set()


def test_job_ids_are_unique_per_service_and_samples_per_service(store, campaign):
    actions = [
        {"kind": "new", "recipe": RECIPE, "protocols": None, "service": service}
        for service in ("cycler-1", "cycler-2", "cycler-1")
    ]
    a, b, c = ledger.add_actions(store, campaign, 1, actions, info={})
    ledger.mark_submitted(store, a.id, "j-000001", "queued")
    ledger.mark_submitted(store, b.id, "j-000001", "queued")  # the other service's j-000001
    with pytest.raises(CampaignError, match="already recorded"):
        ledger.mark_submitted(store, c.id, "j-000001", "queued")
    for job in (a, b):
        ledger.store_result(store, job.id, {"job_id": "j-000001"})
    ledger.record_row(store, a.id, _row("cycler-1:S-000001", "j-000001"), [], sample_id="S-000001")
    ledger.record_row(store, b.id, _row("cycler-2:S-000001", "j-000001"), [], sample_id="S-000001")
    from design.store.samples import samples_of

    got = [(s.service, s.sample_id, s.key, s.consumed) for s in samples_of(store, campaign.id)]
    assert got == [
        ("cycler-1", "S-000001", "cycler-1:S-000001", True),  # every protocol: CCD used it up
        ("cycler-2", "S-000001", "cycler-2:S-000001", True),
    ]


def test_a_follow_up_adds_its_properties_to_its_samples_row(store, campaign):
    from design.store.samples import merge_properties, record_followup, sample_row, samples_of

    (job,) = ledger.add_actions(
        store,
        campaign,
        1,
        [{"kind": "new", "recipe": RECIPE, "protocols": ["eis_blocking", "dc_polarization"]}],
        info={},
    )
    ledger.mark_submitted(store, job.id, "j-1", "queued")
    ledger.store_result(store, job.id, {"job_id": "j-1"})
    first = {**_row("S-1", "j-1"), "ccd_ma_cm2": None}
    ledger.record_row(store, job.id, first, ["first"])
    (sample,) = samples_of(store, campaign.id)
    assert sample.protocols == ["eis_blocking", "dc_polarization"] and not sample.consumed
    (follow,) = ledger.add_actions(
        store,
        campaign,
        2,
        [
            {
                "kind": "follow_up",
                "recipe": RECIPE,
                "protocols": ["ccd_staircase"],
                "sample_pk": sample.id,
            }
        ],
        info={},
    )
    assert follow.request == {"campaign": "c1", "sample_id": "S-1", "protocols": ["ccd_staircase"]}
    ledger.mark_submitted(store, follow.id, "j-2", "queued")
    ledger.store_result(store, follow.id, {"job_id": "j-2"})
    measured = {"sigma_total_ms_cm": 9.9, "ccd_ma_cm2": 0.7, "ccd_censored": True}
    merged = merge_properties(sample_row(store, sample.id), measured, follow.protocols, "j-2")
    assert record_followup(store, follow.id, merged, ["second"])
    assert not record_followup(store, follow.id, merged, ["second"])  # once
    (row,) = [r for r in store.rows(campaign.id) if r.origin == "campaign"]
    assert row.row["sigma_total_ms_cm"] == 1.2  # not measured by the follow-up: kept
    assert row.row["ccd_ma_cm2"] == 0.7 and row.row["ccd_censored"] is True
    assert row.row["source"] == "j-1+j-2" and loads(row.notes_json) == ["first", "j-2: second"]
    (sample,) = samples_of(store, campaign.id)
    assert sample.consumed and sample.protocols == [
        "eis_blocking",
        "dc_polarization",
        "ccd_staircase",
    ]
