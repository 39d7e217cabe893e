"""The MLflow UI in a real headless Chromium: a finished campaign as a scientist sees it.

Needs Debian's ``chromium`` (``apt-get install chromium``; .ci/run installs it) and the
``playwright`` Python package; without them this test skips and says so. No browser is
downloaded: Playwright drives the system browser.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from design.tracking.server import ServerSpec, start_server
from tests.integration.conftest import free_port

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def campaign_store(tmp_path_factory) -> dict:
    """A store holding a finished campaign, run by the CLI against the simulator."""
    from experiments.simulator.process import running_simulator

    folder = tmp_path_factory.mktemp("ui-store")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    db = f"sqlite:///{folder / 'campaigns.db'}"
    with running_simulator(seed=3, token="ui-token", job_duration_s=0.2) as sim:
        env = dict(os.environ, CYCLER_TOKEN=sim.token, GBS_MLRUNS_DIR=str(folder))
        env.pop("MLFLOW_TRACKING_URI", None)
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                "from design.cli.app import entrypoint; entrypoint()",
                "campaign",
                "run",
                "--cycler-url",
                sim.url,
                "--campaign",
                "ui-check",
                "--budget",
                "4",
                "--batch-size",
                "2",
                "--strategy",
                "physics-gp",
                "--seed",
                "1",
                "--tracking-uri",
                uri,
                "--db",
                db,
            ],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
            cwd=ROOT,
        )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    import mlflow

    client = mlflow.MlflowClient(uri)
    experiments = [e for e in client.search_experiments() if e.name != "Default"]
    assert experiments, "the campaign logged no experiment"
    exp = experiments[0]
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1, [r.info.run_name for r in parents]
    parent = parents[0]
    assert exp.tags.get("mlflow.experimentKind") == "custom_model_development"
    return {
        "uri": uri,
        "db": db,
        "folder": folder,
        "experiment": exp,
        "parent": parent,
        "client": client,
    }


def _find_png(client, run_id: str, path: str = "") -> str | None:
    for item in client.list_artifacts(run_id, path):
        if item.is_dir:
            found = _find_png(client, run_id, item.path)
            if found:
                return found
        elif item.path.endswith(".png"):
            return item.path
    return None


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="needs Debian's chromium: apt-get install chromium (installed by .ci/run)",
)
def test_campaign_in_the_mlflow_ui(campaign_store, tmp_path):
    playwright = pytest.importorskip(
        "playwright.sync_api", reason="needs the playwright package: pip install playwright"
    )
    exp, parent, client = (
        campaign_store["experiment"],
        campaign_store["parent"],
        campaign_store["client"],
    )
    metric = next(iter(sorted(parent.data.metrics)), None)
    assert metric is not None, "the parent run has no metrics"
    png = _find_png(client, parent.info.run_id)
    assert png is not None, "the parent run has no image artifact"

    spec = ServerSpec(
        backend_store_uri=campaign_store["uri"],
        artifacts_destination=str(campaign_store["folder"] / "artifacts"),
        port=free_port(),
    )
    screenshots = Path(os.environ.get("GBS_SCREENSHOT_DIR", tmp_path))
    screenshots.mkdir(parents=True, exist_ok=True)
    with start_server(spec, state_dir=tmp_path / "server"), playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # a fresh browser profile, as a scientist opening the UI for the first time
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(30_000)
        # 1. the experiment list shows the campaign's experiment
        page.goto(f"{spec.url}/#/experiments", wait_until="load")
        page.get_by_text(exp.name, exact=True).first.wait_for()
        # 2. its runs table (MLflow 3.17 lands on its GenAI overview whatever the experiment's
        #    kind: the global GenAI/Model-training switch wins, so go to the runs tab directly)
        page.goto(
            f"{spec.url}/#/experiments/{exp.experiment_id}/runs?workflowType=machine_learning",
            wait_until="load",
        )
        page.get_by_text(parent.info.run_name, exact=True).first.wait_for()
        page.get_by_text(re.compile(r"-measurements")).first.wait_for()
        page.wait_for_timeout(1000)  # let the table settle for the screenshot
        page.screenshot(path=str(screenshots / "ui-first-sight.png"))
        assert "No data available" not in page.locator("body").inner_text()
        # open the parent run
        page.get_by_text(parent.info.run_name, exact=True).first.click()
        page.wait_for_url(re.compile(rf".*/runs/{parent.info.run_id}.*"))
        # the overview lists the measurement table as the run's dataset
        page.get_by_text(re.compile(r"-measurements")).first.wait_for()
        page.screenshot(path=str(screenshots / "ui-overview.png"))
        # 3. its metric chart
        page.get_by_text("Model metrics", exact=True).first.click()
        chart_title = page.get_by_text(re.compile(rf"^{re.escape(metric[:18])}"))
        chart_title.first.wait_for()
        page.locator("svg, canvas").first.wait_for()
        page.screenshot(path=str(screenshots / "ui-metrics.png"))
        # 4. an image artifact
        page.get_by_text("Artifacts", exact=True).first.click()
        parts = png.split("/")
        for folder in parts[:-1]:
            page.get_by_text(folder, exact=True).first.click()
        page.get_by_text(parts[-1], exact=True).first.click()
        image = page.locator("img[src^='data:image/png'], img[src^='blob:']").last
        image.wait_for()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 100", arg=image.element_handle()
        )
        shot = screenshots / "ui-artifact.png"
        page.screenshot(path=str(shot))
        browser.close()
    assert shot.stat().st_size > 10_000


def test_parent_run_carries_the_table_and_a_loadable_surrogate(campaign_store):
    import mlflow
    import pandas as pd

    client, parent = campaign_store["client"], campaign_store["parent"]
    run = client.get_run(parent.info.run_id)
    names = [d.dataset.name for d in run.inputs.dataset_inputs]
    assert any(n.endswith("-measurements") for n in names), names
    mlflow.set_tracking_uri(campaign_store["uri"])
    models = mlflow.search_logged_models(
        experiment_ids=[campaign_store["experiment"].experiment_id], output_format="list"
    )
    mine = [m for m in models if m.source_run_id == parent.info.run_id]
    assert len(mine) == 1
    model = mlflow.pyfunc.load_model(f"models:/{mine[0].model_id}")
    # the same surrogate is registered under the campaign's stable name, one version
    (version,) = client.search_model_versions("name = 'gbs-surrogate-ui-check'")
    assert version.run_id == parent.info.run_id and version.tags["gbs.campaign"] == "ui-check"
    registered = mlflow.pyfunc.load_model("models:/gbs-surrogate-ui-check/latest")
    assert registered.metadata.model_id == mine[0].model_id
    recipes = pd.DataFrame(
        {
            "zbo_fraction": [0.0, 0.2],
            "sinter_temperature_c": [1000.0, 1000.0],
            "dwell_h": [6.0, 6.0],
        }
    )
    out = model.predict(recipes)
    for name in ("sigma_total_ms_cm", "ccd_ma_cm2", "electronic_fraction"):
        assert (out[f"{name}_mean"] > 0).all() and (out[f"{name}_sd"] > 0).all()
    assert out["p_feasible"].between(0, 1).all()
    # GBS at x = 0.2 conducts better than bare NZSP at 1000 C, as measured in the paper
    assert out["sigma_total_ms_cm_mean"][1] > 2 * out["sigma_total_ms_cm_mean"][0]


def test_campaign_report_is_one_self_contained_page(campaign_store, tmp_path):
    out = tmp_path / "report.html"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from design.cli.app import entrypoint; entrypoint()",
            "campaign",
            "report",
            "ui-check",
            "--db",
            campaign_store["db"],
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    page = out.read_text()
    assert "Campaign ui-check" in page and "What to try next" in page
    assert page.count("data:image/png;base64,") >= 4  # progress, Pareto, posteriors embedded
    assert page.count(" ± ") >= 3  # predictions with their sd
    assert 'src="http' not in page  # nothing fetched from elsewhere
    bad = subprocess.run(
        [
            sys.executable,
            "-c",
            "from design.cli.app import entrypoint; entrypoint()",
            "campaign",
            "report",
            "no-such-campaign",
            "--db",
            campaign_store["db"],
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert bad.returncode == 1 and "no campaign named" in bad.stderr
