"""Two campaigns at once against one shared tracking server on the local PostgreSQL.

A lab with two cyclers and two people: each campaign runs against its own cycler simulator,
both log to one ``mlflow server`` whose backend store is PostgreSQL and whose artifacts are
served. Both must end complete and kept apart.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from design.tracking.server import ServerSpec, start_server
from tests.integration.conftest import free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 4


def _campaign(name: str, sim, tracking_uri: str, db: str, seed: int) -> subprocess.Popen:
    env = dict(os.environ, CYCLER_TOKEN=sim.token)
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from design.cli.app import entrypoint; entrypoint()",
            "campaign",
            "run",
            "--cycler-url",
            sim.url,
            "--campaign",
            name,
            "--budget",
            str(BUDGET),
            "--batch-size",
            "2",
            "--strategy",
            "physics-gp",
            "--seed",
            str(seed),
            "--tracking-uri",
            tracking_uri,
            "--db",
            db,
            "--no-progress",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=ROOT,
    )


def test_two_campaigns_share_one_postgres_backed_server(tmp_path: Path, postgres_url: str):
    from experiments.simulator.process import running_simulator

    spec = ServerSpec(
        backend_store_uri=postgres_url,
        artifacts_destination=str(tmp_path / "artifacts"),
        port=free_port(),
    )
    names = ("lab-a-zbo", "lab-b-zbo")
    with ExitStack() as stack:
        stack.enter_context(start_server(spec, state_dir=tmp_path / "server"))
        sims = [
            stack.enter_context(
                running_simulator(seed=10 + i, token=f"tok-{i}", job_duration_s=0.2)
            )
            for i in range(2)
        ]
        procs = [
            _campaign(name, sim, spec.url, f"sqlite:///{tmp_path / (name + '.db')}", seed=i)
            for i, (name, sim) in enumerate(zip(names, sims, strict=True))
        ]
        outputs = [p.communicate(timeout=600)[0] for p in procs]
        for p, out in zip(procs, outputs, strict=True):
            assert p.returncode == 0, out[-3000:]

        import mlflow

        client = mlflow.MlflowClient(spec.url)
        experiments = {e.name: e for e in client.search_experiments() if e.name != "Default"}
        assert len(experiments) == 2, sorted(experiments)
        seen_children: set[str] = set()
        for name in names:
            exp = next(e for e in experiments.values() if e.tags.get("gbs.campaign") == name)
            runs = client.search_runs([exp.experiment_id], max_results=1000)
            parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
            assert len(parents) == 1
            parent = parents[0]
            assert parent.info.status == "FINISHED"
            assert parent.data.tags.get("gbs.campaign") == name
            children = [
                r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id
            ]
            experiments_logged = [
                r for r in children if r.data.tags.get("gbs.role") == "experiment"
            ]
            assert len(experiments_logged) == BUDGET, [r.info.run_name for r in children]
            # kept apart: every run of this experiment belongs to this campaign only
            assert all(r.data.tags.get("gbs.campaign", name) == name for r in runs)
            assert not seen_children & {r.info.run_id for r in children}
            seen_children |= {r.info.run_id for r in children}
            history = client.get_metric_history(parent.info.run_id, "experiments_done")
            assert history and max(m.value for m in history) == BUDGET
            # served artifacts of a finished experiment are readable through the server
            some = experiments_logged[0]
            assert some.info.artifact_uri.startswith("mlflow-artifacts:")
            assert client.list_artifacts(some.info.run_id)
