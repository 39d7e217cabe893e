"""Two loop processes on one campaign in PostgreSQL: one drives, the other stands by.

The driver is killed with SIGKILL mid-campaign; the standby process takes the lease over
(the driver's pid is gone on this host) and finishes the campaign: the service's jobs and the
database agree, nothing lost, nothing sent twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from design.store.database import Store

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
CLI = "import sys; from design.cli.app import main; sys.exit(main(sys.argv[1:]))"
NAME = "shared"
BUDGET = 10


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    out = open(log, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI, *args], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
    )
    proc._log = out  # type: ignore[attr-defined]
    return proc


def _wait(what, timeout_s: float, step_s: float = 0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = what()
        if got:
            return got
        time.sleep(step_s)
    raise AssertionError(f"waited {timeout_s} s in vain")


def _state(url: str) -> tuple[str | None, int]:
    store = Store(url)
    try:
        rec = store.find_campaign(NAME)
        if rec is None:
            return None, 0
        return rec.lease_owner, sum(r.origin == "campaign" for r in store.rows(rec.id))
    finally:
        store.close()


def test_a_standby_process_takes_over_when_the_driver_is_killed(postgres_url, tmp_path):
    from experiments.cycler.client import CyclerClient
    from experiments.simulator.process import running_simulator

    faults = {"http_error": 0.05, "lost_reply": 0.05}
    with running_simulator(seed=6, token="tok", job_duration_s=1.0, faults=faults) as sim:
        env = dict(os.environ, CYCLER_TOKEN="tok", PYTHONUNBUFFERED="1")
        common = ["--db", postgres_url, "--no-progress"]
        run = [
            "campaign", "run", "--cycler-url", sim.url, "--campaign", NAME,
            "--budget", str(BUDGET), "--batch-size", "2", "--strategy", "sobol",
            "--no-tracking", "--poll-interval", "0.1", "--poll-max", "0.3", *common,
        ]  # fmt: skip
        driver = _start(run, env, tmp_path / "driver.log")
        _wait(lambda: (_state(postgres_url)[0] or "").endswith(f":{driver.pid}"), 90)
        standby = _start(
            ["campaign", "resume", NAME, "--standby", *common], env, tmp_path / "standby.log"
        )
        _wait(lambda: "standing by" in (tmp_path / "standby.log").read_text(), 90)
        _wait(lambda: _state(postgres_url)[1] >= 3, 120)  # the driver has made progress
        owner, rows_at_kill = _state(postgres_url)
        assert owner.endswith(f":{driver.pid}")  # the standby only waited
        assert rows_at_kill < BUDGET
        driver.send_signal(signal.SIGKILL)
        driver.wait(30)
        driver._log.close()  # type: ignore[attr-defined]
        _wait(lambda: (_state(postgres_url)[0] or "").endswith(f":{standby.pid}"), 30)
        try:
            standby.wait(180)
        finally:
            standby._log.close()  # type: ignore[attr-defined]
        text = (tmp_path / "standby.log").read_text()
        assert standby.returncode == 0, text[-3000:]
        assert "taking over" in text
        with CyclerClient(sim.url, token="tok") as client:
            remote = client.list_jobs(NAME)

    store = Store(postgres_url)
    rec = store.campaign(NAME)
    local = store.jobs(rec.id)
    assert rec.status == "done" and rec.lease_owner is None
    remote_keys = [j.idempotency_key for j in remote]
    assert len(set(remote_keys)) == len(remote_keys)  # nothing sent twice
    assert set(remote_keys) == {j.idempotency_key for j in local if j.job_id}  # nothing lost
    assert not [j for j in local if j.status in ("created", "submitted", "fetched")]
    rows = [r for r in store.rows(rec.id) if r.origin == "campaign"]
    props = store.proposals(rec.id)
    assert len(props) == BUDGET
    assert len(rows) + sum(p.status == "abandoned" for p in props) == BUDGET
    assert len({r.job_pk for r in rows}) == len(rows)
    store.close()
