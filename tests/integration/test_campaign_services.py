"""Staged campaigns and several cycler services against the real simulator processes.

A 1.1 service and a 1.0 service each run a staged campaign end to end (the 1.0 one every
protocol per sample); one campaign uses both at once through the command line (tokens from
CYCLER_TOKEN and CYCLER_TOKEN_2); a service that goes away leaves its jobs waiting while the
other goes on.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest

from design.campaign.config import CampaignConfig
from design.campaign.session import start_campaign
from design.store.database import Store
from design.store.samples import samples_of
from experiments.cycler.client import CyclerClient
from experiments.simulator.process import running_simulator

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
CLI = "import sys; from design.cli.app import main; sys.exit(main(sys.argv[1:]))"
ALL = ["eis_blocking", "dc_polarization", "eis_symmetric", "ccd_staircase"]


def _config(name: str, urls: list[str], **kw) -> CampaignConfig:
    return CampaignConfig(
        name=name,
        cycler_url=urls[0],
        other_cycler_urls=urls[1:],
        strategy="sobol",
        poll_interval_s=0.05,
        poll_max_s=0.2,
        tracking=False,
        **kw,
    )


def _measured_twice(jobs) -> list:
    """(sample, protocol) pairs measured more than once (instrument faults excluded)."""
    seen: Counter = Counter()
    for job in jobs:
        if job.status == "failed" and job.error is not None and job.error.retryable:
            continue
        for protocol in job.protocols:  # a 1.0 job names no sample: its own pellet
            seen[(job.sample_id or job.job_id, protocol)] += 1
    return [k for k, n in seen.items() if n > 1]


@pytest.mark.parametrize("version", ["1.1", "1.0"])
def test_a_staged_campaign_end_to_end(tmp_path, version):
    db = f"sqlite:///{tmp_path / 'c.db'}"
    with running_simulator(
        seed=4, token="tok", job_duration_s=0.4, job_jitter=0.0, protocol_version=version
    ) as sim:
        config = _config(f"staged-{version}", [sim.url], budget_hours=700, protocol_policy="staged")
        snap = start_campaign(config, db_url=db, token="tok")
        with CyclerClient(sim.url, token="tok") as client:
            remote = client.list_jobs(config.name)
    store = Store(db)
    rec = store.campaign(config.name)
    jobs = store.jobs(rec.id)
    assert snap.status == "done" and rec.status == "done"
    assert {j.job_id for j in jobs if j.job_id} == {j.job_id for j in remote}
    follow_ups = [j for j in jobs if j.kind == "follow_up"]
    if version == "1.1":
        assert follow_ups and snap.followups_done >= 1
        assert all(j.protocols == ["eis_symmetric", "ccd_staircase"] for j in follow_ups)
        assert all(j.hours_source == "service" for j in jobs if j.instrument_hours is not None)
        assert _measured_twice(remote) == []
        service_h = sum(j.instrument_hours or 0.0 for j in remote)
        # a sample with its CCD has all four objectives in its one row
        rows = {r.sample_id: r.row for r in store.rows(rec.id)}
        for sample in samples_of(store, rec.id):
            if "ccd_staircase" in sample.protocols:
                row = rows[sample.key]
                assert row["sigma_total_ms_cm"] is not None and row["ccd_ma_cm2"] is not None
    else:
        assert not follow_ups and all(r.protocols == ALL for r in remote)
        assert all(j.hours_source == "estimate" for j in jobs if j.instrument_hours is not None)
        service_h = snap.hours.spent_h  # a 1.0 service reports no hours
    assert snap.hours.spent_h == pytest.approx(service_h)
    assert 350 < snap.hours.spent_h <= 700  # jitter 0: the expected hours are the hours used
    store.close()


def test_one_campaign_on_a_1_0_and_a_1_1_service_through_the_cli(tmp_path):
    db = f"sqlite:///{tmp_path / 'c.db'}"
    with (
        running_simulator(
            seed=1, token="tok-alpha-7731", job_duration_s=0.4, job_jitter=0.0
        ) as new,
        running_simulator(
            seed=2,
            token="tok-beta-9902",
            job_duration_s=0.4,
            job_jitter=0.0,
            protocol_version="1.0",
        ) as old,
    ):
        env = dict(
            os.environ,
            CYCLER_TOKEN="tok-alpha-7731",
            CYCLER_TOKEN_2="tok-beta-9902",
            PYTHONUNBUFFERED="1",
            GBS_LOG_LEVEL="WARNING",
        )
        args = [
            "campaign", "run", "--cycler-url", new.url, "--cycler-url", old.url,
            "--campaign", "both", "--budget-hours", "900", "--protocols", "staged",
            "--no-initial-data", "--strategy", "sobol", "--db", db, "--no-tracking",
            "--no-progress", "--poll-interval", "0.05", "--poll-max", "0.2",
        ]  # fmt: skip
        done = subprocess.run(
            [sys.executable, "-c", CLI, *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert "speaks protocol 1.0: it runs every protocol" in done.stderr
        assert "tok-alpha" not in done.stderr and "tok-beta" not in done.stderr  # no token shown
        with (
            CyclerClient(new.url, token="tok-alpha-7731") as a,
            CyclerClient(old.url, token="tok-beta-9902") as b,
        ):
            remote = {"cycler-1": a.list_jobs("both"), "cycler-2": b.list_jobs("both")}
        status = subprocess.run(
            [sys.executable, "-c", CLI, "campaign", "status", "both", "--db", db],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    store = Store(db)
    rec = store.campaign("both")
    jobs = store.jobs(rec.id)
    assert rec.status == "done"
    for service, theirs in remote.items():
        assert theirs, f"{service} got no job"
        mine = {j.idempotency_key: j for j in jobs if j.service == service and j.job_id}
        assert {j.idempotency_key for j in theirs} == set(mine)
        assert _measured_twice(theirs) == []
    assert all(r.protocols == ALL for r in remote["cycler-2"])  # the 1.0 service
    assert {j.service for j in jobs if j.kind == "follow_up"} == {"cycler-1"}
    keys = {s.key.split(":")[0] for s in samples_of(store, rec.id)}
    assert keys <= {"cycler-1", "cycler-2"}
    assert status.returncode == 0, status.stderr
    shown = status.stdout
    assert "Instrument-hours" in shown and "ccd_staircase" in shown and "on cycler-2" in shown
    assert "of 900" in shown
    store.close()


class _Switch(httpx.BaseTransport):
    """A real HTTP transport that can be made to drop every connection."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.off = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.off:
            raise httpx.ConnectError("connection refused (switched off)", request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_a_service_that_goes_away_leaves_its_jobs_waiting_and_the_other_goes_on(tmp_path, caplog):
    db = f"sqlite:///{tmp_path / 'c.db'}"
    switch = _Switch()
    with (
        running_simulator(seed=1, token="a", job_duration_s=0.5, job_jitter=0.0) as sim_a,
        running_simulator(seed=2, token="b", job_duration_s=0.5, job_jitter=0.0) as sim_b,
        CyclerClient(sim_a.url, token="a", backoff_base_s=0.02, backoff_max_s=0.05) as a,
        CyclerClient(
            sim_b.url,
            token="b",
            transport=switch,
            max_retries=2,
            backoff_base_s=0.02,
            backoff_max_s=0.05,
        ) as b,
    ):
        seen = []

        def watch(snap):
            seen.append(snap)
            if len(seen) == 3:
                switch.off = True  # cycler-2 goes away with jobs in flight
            if switch.off and snap.experiments_done >= 10:
                switch.off = False  # and comes back

        config = _config("away", [sim_a.url, sim_b.url], budget=14)
        with caplog.at_level(logging.WARNING):
            snap = start_campaign(
                config, db_url=db, client={"cycler-1": a, "cycler-2": b}, on_progress=watch
            )
        remote_b = b.list_jobs("away")
    assert snap.status == "done" and snap.experiments_done == 14
    assert "went away" in caplog.text and "answers again" in caplog.text
    assert any("cycler-2 away" in " ".join(s.notes) for s in seen)
    store = Store(db)
    rec = store.campaign("away")
    mine = {j.idempotency_key for j in store.jobs(rec.id) if j.service == "cycler-2" and j.job_id}
    assert {j.idempotency_key for j in remote_b} == mine  # nothing lost, nothing twice
    store.close()
