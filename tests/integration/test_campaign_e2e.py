"""Campaigns end to end against the real simulator process: clean stop and resume, status,
export, a NaN result set aside, a wrong token, and the PostgreSQL backend."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from design.campaign.config import CampaignConfig
from design.campaign.session import resume_campaign, start_campaign
from design.cli.app import main
from design.errors import CampaignError
from design.store.database import Store
from physics.table import read_table

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
TOKEN = "e2e-token"
CLI = "import sys; from design.cli.app import main; sys.exit(main(sys.argv[1:]))"


@pytest.fixture(scope="module")
def sim():
    from experiments.simulator.process import running_simulator

    with running_simulator(seed=5, token=TOKEN, job_duration_s=0.4, max_concurrent_jobs=4) as s:
        yield s


def _env(tmp_path: Path, token: str = TOKEN) -> dict[str, str]:
    return dict(
        os.environ,
        CYCLER_TOKEN=token,
        PYTHONUNBUFFERED="1",
        MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'mlflow.db'}",
        GBS_MLRUNS_DIR=str(tmp_path / "mlruns"),
    )


def _config(name: str, url: str, budget: int, **kw) -> CampaignConfig:
    return CampaignConfig(
        name=name,
        cycler_url=url,
        budget=budget,
        batch_size=2,
        strategy="sobol",
        poll_interval_s=0.1,
        poll_max_s=0.3,
        tracking=False,
        **kw,
    )


def test_clean_stop_resume_status_and_export(sim, tmp_path, capsys, monkeypatch):
    db = f"sqlite:///{tmp_path / 'c.db'}"
    args = [
        "campaign",
        "run",
        "--cycler-url",
        sim.url,
        "--campaign",
        "clean",
        "--budget",
        "6",
        "--batch-size",
        "2",
        "--strategy",
        "sobol",
        "--db",
        db,
        "--no-plots",
        "--no-progress",
        "--poll-interval",
        "0.1",
        "--poll-max",
        "0.3",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI, *args],
        cwd=REPO,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    store = Store(db)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:  # stop once the first rows are in
        rec = store.find_campaign("clean")
        if rec is not None and any(r.origin == "campaign" for r in store.rows(rec.id)):
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "gbs campaign resume clean" in err and "Traceback" not in err
    rec = store.campaign("clean")
    assert rec.lease_owner is None and rec.status == "active"
    done_before = sum(r.origin == "campaign" for r in store.rows(rec.id))
    assert 1 <= done_before < 6

    monkeypatch.setenv("CYCLER_TOKEN", TOKEN)
    assert main(["campaign", "resume", "clean", "--db", db, "--no-progress"]) == 0
    jobs_after = len(store.jobs(rec.id))
    assert main(["campaign", "resume", "clean", "--db", db, "--no-progress"]) == 0  # no-op
    assert len(store.jobs(rec.id)) == jobs_after
    capsys.readouterr()
    assert main(["campaign", "status", "clean", "--db", db]) == 0
    shown = capsys.readouterr().out
    assert "clean: done" in shown and "6/6 experiments done" in shown and "Jobs by status" in shown

    csv = tmp_path / "out.csv"
    assert main(["campaign", "export", "clean", "--csv", str(csv), "--db", db]) == 0
    table = read_table(csv)
    rows = {r.sample_id: r.row for r in store.rows(rec.id)}
    assert set(table["sample_id"]) == set(rows) and len(rows) == 6 + 5  # + the paper's rows
    for _, line in table.iterrows():
        want = rows[line["sample_id"]]["sigma_total_ms_cm"]
        got = line["sigma_total_ms_cm"]
        assert (want is None and math.isnan(got)) or got == pytest.approx(want, rel=1e-5)
    store.close()


class _Corrupting(httpx.HTTPTransport):
    """Forwards to the simulator but breaks the result of the first job it sees."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.how, self.victim = how, None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if not request.url.path.endswith("/result") or response.status_code != 200:
            return response
        job_id = request.url.path.split("/")[-2]
        self.victim = self.victim or job_id
        if job_id != self.victim:
            return response
        data = json.loads(response.read())
        first = data["measurements"][0]
        if self.how == "nan":
            first["z_real_ohm"][3] = float("nan")
        else:
            del first["z_imag_ohm"]
        return httpx.Response(
            200, content=json.dumps(data).encode(), headers={"content-type": "application/json"}
        )


@pytest.mark.parametrize("how", ["nan", "missing"])
def test_broken_result_is_set_aside_and_rerun(sim, tmp_path, how):
    from experiments.cycler.client import CyclerClient

    transport = _Corrupting(how)
    db = f"sqlite:///{tmp_path / 'c.db'}"
    with CyclerClient(sim.url, token=TOKEN, transport=transport) as client:
        snap = start_campaign(_config(f"broken-{how}", sim.url, 3), db_url=db, client=client)
    assert snap.status == "done" and snap.experiments_done == 3
    assert snap.jobs.get("rejected") == 1
    assert transport.victim in snap.rejected_reasons[0]
    store = Store(db)
    rec = store.campaign(f"broken-{how}")
    rejected = store.jobs(rec.id, statuses=("rejected",))[0]
    rerun = [
        j for j in store.jobs(rec.id) if j.proposal_id == rejected.proposal_id and j.attempt == 2
    ]
    assert rerun and rerun[0].status in ("done", "cracked")
    assert rerun[0].idempotency_key != rejected.idempotency_key
    assert transport.victim not in {r.row["source"] for r in store.rows(rec.id)}
    store.close()


def test_wrong_token_stops_with_a_plain_message(sim, tmp_path):
    db = f"sqlite:///{tmp_path / 'c.db'}"
    args = [
        "campaign",
        "run",
        "--cycler-url",
        sim.url,
        "--campaign",
        "badtoken",
        "--budget",
        "2",
        "--strategy",
        "sobol",
        "--db",
        db,
        "--no-progress",
        "--no-tracking",
    ]
    done = subprocess.run(
        [sys.executable, "-c", CLI, *args],
        cwd=REPO,
        env=_env(tmp_path, "wrong"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "refused the token" in lines[0] and "CYCLER_TOKEN" in lines[0], (
        done.stderr
    )
    assert "wrong" not in done.stderr  # the token is never printed
    store = Store(db)
    rec = store.campaign("badtoken")
    assert rec.status == "stopped" and store.jobs(rec.id) == []
    snap = resume_campaign("badtoken", db_url=db, token=TOKEN)
    assert snap.status == "done" and snap.experiments_done == 2
    store.close()


def _postgres_admin():
    psycopg = pytest.importorskip(
        "psycopg", reason="psycopg not installed: pip install 'psycopg[binary]'"
    )
    try:
        return psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=3
        )
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432 ({exc})")


def test_postgres_backend(sim):
    admin = _postgres_admin()
    name = f"gbs_campaign_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        from experiments.cycler.client import CyclerClient

        store = Store(url)
        with CyclerClient(sim.url, token=TOKEN) as client:
            from design.campaign.runner import CampaignRunner
            from design.store import ledger

            config = _config("pg", sim.url, 4)
            ledger.create_campaign(store, "pg", config.to_json())
            CampaignRunner(store, "pg", client).run(max_ticks=3)  # stop half-way
            snap = resume_campaign("pg", db_url=url, client=client)
        assert snap.status == "done" and snap.experiments_done == 4
        rec = store.campaign("pg")
        assert len({j.job_id for j in store.jobs(rec.id)}) == len(store.jobs(rec.id))
        extra = ledger.add_proposals(
            store, rec, 99, [{"recipe": {"zbo_fraction": 0.1}}], protocols=None, info={}
        )[0]
        with pytest.raises(CampaignError, match="already recorded"):  # unique job_id on PostgreSQL
            ledger.mark_submitted(store, extra.id, store.jobs(rec.id)[0].job_id, "queued")
        assert store.jobs(rec.id)[-1].job_id is None
        store.close()
    finally:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def test_mlflow_records_the_campaign(sim, tmp_path):
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    db = f"sqlite:///{tmp_path / 'c.db'}"
    config = CampaignConfig(
        name="tracked",
        cycler_url=sim.url,
        budget=3,
        batch_size=2,
        strategy="physics-gp",
        poll_interval_s=0.1,
        poll_max_s=0.3,
        thresholds={"sigma_total_ms_cm": 1.0},
        tracking_uri=uri,
    )
    snap = start_campaign(config, db_url=db, token=TOKEN)
    client = mlflow.MlflowClient(uri)
    exp = client.get_experiment_by_name("gbs-campaign-tracked")
    assert (
        exp.tags["gbs.strategy"] == "physics-gp"
        and "sigma_total_ms_cm=1" in exp.tags["gbs.thresholds"]
    )
    assert "mlflow.note.content" in exp.tags and "token" not in json.dumps(exp.tags).lower()
    assert "mlflow.sharedViewState.gbs-recipes-objectives" in exp.tags  # the UI's runs view
    runs = client.search_runs([exp.experiment_id])
    by_role: dict[str, list] = {}
    for run in runs:
        by_role.setdefault(run.data.tags.get("gbs.role"), []).append(run)
    (parent,) = by_role["campaign"]
    assert parent.info.status == "FINISHED" and parent.data.params["budget"] == "3"
    assert parent.info.run_id == Store(db).campaign("tracked").mlflow_run_id
    history = client.get_metric_history(parent.info.run_id, "experiments_done")
    assert [m.step for m in history][-1] == 3 and history[-1].value == 3
    assert {"best_sigma_ms_cm", "hypervolume"} <= set(parent.data.metrics)
    # instrument-hours against experiments done, and the hypervolume against whole hours
    hours = client.get_metric_history(parent.info.run_id, "instrument_hours")
    assert [m.step for m in hours][-1] == 3 and hours[-1].value > 3 * 16  # at least sintering
    assert "instrument_hours_sintering" in parent.data.metrics
    by_hours = client.get_metric_history(parent.info.run_id, "hypervolume_by_hours")
    assert by_hours and by_hours[-1].step == round(hours[-1].value)
    assert len(by_role["iteration"]) >= 2
    it = by_role["iteration"][0]
    assert it.data.tags["mlflow.parentRunId"] == parent.info.run_id
    proposals = client.download_artifacts(it.info.run_id, "proposals.json", str(tmp_path))
    assert "acquisition_value" in Path(proposals).read_text()
    later = [r for r in by_role["iteration"] if int(r.data.params["n_rows"]) > 0]
    assert later, "no round was proposed from measured rows"
    # each round records which physics prior its surrogate used and how well it held out
    params = later[0].data.params
    assert params["physics_prior_sigma_total_ms_cm"] == "literature"
    assert 0.0 <= float(params["physics_prior_sigma_total_ms_cm_weight"]) <= 1.0
    # held-out errors are recorded exactly when there were rows to leave out
    has_cv = "physics_prior_sigma_total_ms_cm_cv_rmse_literature" in params
    assert has_cv == (int(params["physics_prior_folds"]) > 0)
    trust = client.download_artifacts(later[0].info.run_id, "physics_trust.json", str(tmp_path))
    assert "physics weight" in json.loads(Path(trust).read_text())["lines"]["sigma_total_ms_cm"]
    experiments = by_role["experiment"]
    assert len(experiments) == snap.experiments_done
    ok = [r for r in experiments if r.data.tags["gbs.status"] == "ok"]
    assert ok, "every experiment cracked: pick another seed"
    names = {a.path for a in client.list_artifacts(ok[0].info.run_id)}
    assert {"raw_result.json", "row.json", "analysis"} <= names
    assert len(client.list_artifacts(ok[0].info.run_id, "analysis")) >= 3
    assert "sigma_total_ms_cm" in ok[0].data.metrics and "zbo_fraction" in ok[0].data.params


def test_demo_runs_end_to_end(tmp_path, monkeypatch):
    import io

    import mlflow
    from rich.console import Console

    from design.campaign.demo import run_demo

    monkeypatch.setenv("GBS_MLRUNS_DIR", str(tmp_path / "mlruns"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    out = io.StringIO()
    result = run_demo(
        n_experiments=4,
        batch_size=2,
        strategy="sobol",
        db_url=f"sqlite:///{tmp_path / 'd.db'}",
        progress=False,
        job_duration_s=0.3,
        console=Console(file=out, width=120),
    )
    text = out.getvalue()
    assert result.snapshot.status == "done" and result.snapshot.experiments_done == 4
    assert len(result.next_suggestions) == 2
    assert "Best recipes" in text and "Next suggestions" in text
    assert "gbs ui" in text and str(tmp_path / "mlruns" / "mlflow.db") in text.replace("\n", "")
    # the link opens this campaign's runs table in the model-training view, on one line
    exp = mlflow.MlflowClient(result.tracking_uri).get_experiment_by_name(
        f"gbs-campaign-{result.snapshot.name}"
    )
    link = (
        f"http://127.0.0.1:5000/#/experiments/{exp.experiment_id}/runs"
        "?viewStateShareKey=gbs-recipes-objectives&workflowType=machine_learning"
    )
    assert link in text.splitlines()[-3], text.splitlines()[-3:]
