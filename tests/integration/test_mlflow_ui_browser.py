"""The MLflow UI in a real headless Chromium: a finished campaign as a scientist sees it.

``gbs ui`` is started as a scientist starts it, and the browser opens exactly the links it
prints: the campaign's runs table (model-training view, saved view "Recipes and objectives"),
the experiments list and the registered surrogate.

Needs Debian's ``chromium`` (``apt-get install chromium``; .ci/run installs it) and the
``playwright`` Python package; without them this test skips and says so. No browser is
downloaded: Playwright drives the system browser.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from design.tracking.views import RUNS_VIEW_KEY, RUNS_VIEW_NAME
from physics.schema import OBJECTIVES, RECIPE_COLUMNS
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


_LINK = re.compile(r"^\s+(?P<label>[^:]+):\s+(?P<url>http\S+)\s*$")


@pytest.fixture(scope="module")
def gbs_ui(campaign_store, tmp_path_factory) -> Iterator[dict[str, str]]:
    """``gbs ui`` on the campaign's store, started as a scientist starts it; yields its links.

    The links are what it prints, by label ("campaign ui-check", "all experiments", ...).
    """
    import httpx

    port = free_port()
    log = tmp_path_factory.mktemp("gbs-ui") / "gbs-ui.log"
    env = dict(os.environ, GBS_MLRUNS_DIR=str(campaign_store["folder"]))
    env.pop("MLFLOW_TRACKING_URI", None)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from design.cli.app import entrypoint; entrypoint()",
                "ui",
                "--backend-store-uri",
                campaign_store["uri"],
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
            start_new_session=True,  # gbs ui execs the server, which starts workers
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")[-2000:]
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        lines = log.read_text(errors="replace").splitlines()
        links = {m["label"]: m["url"] for m in map(_LINK.match, lines) if m}
        assert links, lines[:5]
        yield links
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_gbs_ui_prints_the_campaign_runs_view_and_its_surrogate(gbs_ui, campaign_store):
    exp = campaign_store["experiment"]
    assert list(gbs_ui) == [
        "campaign ui-check",
        "all experiments",
        "surrogate gbs-surrogate-ui-check",
    ]
    assert gbs_ui["campaign ui-check"].endswith(
        f"/#/experiments/{exp.experiment_id}/runs"
        f"?viewStateShareKey={RUNS_VIEW_KEY}&workflowType=machine_learning"
    )
    assert all("workflowType=machine_learning" in url for url in gbs_ui.values())


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="needs Debian's chromium: apt-get install chromium (installed by .ci/run)",
)
def test_campaign_in_the_mlflow_ui(campaign_store, gbs_ui, tmp_path):
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
    pellets = client.search_runs([exp.experiment_id], "tags.`gbs.role` = 'experiment'")
    measured = sorted(
        (r for r in pellets if "sigma_total_ms_cm" in r.data.metrics),
        key=lambda r: -r.data.metrics["sigma_total_ms_cm"],
    )
    assert len(measured) >= 2, [r.info.run_name for r in pellets]

    screenshots = Path(os.environ.get("GBS_SCREENSHOT_DIR", tmp_path))
    screenshots.mkdir(parents=True, exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # a fresh browser profile, as a scientist opening the UI for the first time
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(30_000)
        expect = playwright.expect

        def header(column: str):
            return page.locator(f".ag-header-cell[col-id='{column}']")

        def cell(run, column: str) -> str:
            row = page.locator(f".ag-center-cols-container .ag-row[row-id='{run.info.run_id}']")
            return row.locator(f"[col-id='{column}']").inner_text().strip()

        # 1. exactly the campaign link gbs ui prints
        page.goto(gbs_ui["campaign ui-check"], wait_until="load")
        page.get_by_text(measured[0].info.run_name, exact=True).first.wait_for()
        expect(header("metrics.`sigma_total_ms_cm`")).to_be_in_viewport()
        page.wait_for_timeout(1000)  # let the table settle for the screenshot
        page.screenshot(path=str(screenshots / "ui-first-sight.png"))
        # the model-training runs table with the campaign's saved view, not the GenAI overview
        assert "/runs" in page.url and "workflowType=machine_learning" in page.url
        assert "No data available" not in page.locator("body").inner_text()
        for genai_only in ("Overview", "Sessions", "Judges", "Playground"):
            assert page.get_by_text(genai_only, exact=True).count() == 0, genai_only
        expect(page.get_by_text(RUNS_VIEW_NAME, exact=True).first).to_be_visible()
        # objectives in view, per pellet, best conductivity first and not nested under a parent
        for name in OBJECTIVES:
            expect(header(f"metrics.`{name}`")).to_be_in_viewport()
        order = page.locator(".ag-center-cols-container .ag-row").evaluate_all(
            "rows => rows.map(r => [Number(r.getAttribute('row-index')), r.getAttribute('row-id')])"
        )
        top = [run_id for _, run_id in sorted(order)][: len(measured)]
        assert top == [r.info.run_id for r in measured]
        for run in measured:
            for name in OBJECTIVES:
                shown = float(cell(run, f"metrics.`{name}`"))
                assert shown == pytest.approx(run.data.metrics[name], rel=1e-12), (run, name)
        # the recipe is in each pellet's run name, and in columns once MLflow's assistant
        # panel (opened by itself on a first visit to a localhost UI) is closed
        assert all(f"x={r.data.params['zbo_fraction']}" in r.info.run_name for r in measured)
        close = page.locator("[data-component-id='mlflow.assistant.chat_panel.close']")
        if close.count():
            close.first.click()
        for name in RECIPE_COLUMNS:
            expect(header(f"params.`{name}`")).to_be_in_viewport()
            for run in measured:
                assert cell(run, f"params.`{name}`") == run.data.params[name]
        page.screenshot(path=str(screenshots / "ui-runs-table.png"))
        # 2. the experiments list link
        page.goto(gbs_ui["all experiments"], wait_until="load")
        page.get_by_text(exp.name, exact=True).first.wait_for()
        # 3. the registered surrogate and its version
        page.goto(gbs_ui["surrogate gbs-surrogate-ui-check"], wait_until="load")
        page.get_by_text("gbs-surrogate-ui-check", exact=True).first.wait_for()
        expect(page.get_by_text("Version 1", exact=True).first).to_be_visible()
        page.screenshot(path=str(screenshots / "ui-registered-model.png"))
        # 4. the campaign's parent run, from the runs table
        page.goto(gbs_ui["campaign ui-check"], wait_until="load")
        page.get_by_text(parent.info.run_name, exact=True).first.click()
        page.wait_for_url(re.compile(rf".*/runs/{parent.info.run_id}.*"))
        # the overview lists the measurement table as the run's dataset
        page.get_by_text(re.compile(r"-measurements")).first.wait_for()
        page.screenshot(path=str(screenshots / "ui-overview.png"))
        # its metric chart
        page.get_by_text("Model metrics", exact=True).first.click()
        chart_title = page.get_by_text(re.compile(rf"^{re.escape(metric[:18])}"))
        chart_title.first.wait_for()
        page.locator("svg, canvas").first.wait_for()
        page.screenshot(path=str(screenshots / "ui-metrics.png"))
        # an image artifact
        page.get_by_text("Artifacts", exact=True).first.click()
        parts = png.split("/")
        for folder in parts[:-1]:
            page.get_by_text(folder, exact=True).first.click()
        page.get_by_text(parts[-1], exact=True).first.click()
        image = page.locator("img[src^='blob:']:visible").first  # not the zoom preview's
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
