"""The saved runs view and the UI links: the format the MLflow UI reads, the campaign found."""

from __future__ import annotations

import json

import pytest

from design.tracking.campaign import experiment_name
from design.tracking.views import (
    RUNS_VIEW_KEY,
    RUNS_VIEW_NAME,
    VIEW_TAG_PREFIX,
    runs_url,
    runs_view_state,
    runs_view_tag,
    ui_links,
)
from physics.schema import OBJECTIVES, RECIPE_COLUMNS

BASE = "http://127.0.0.1:5000"
ML = "workflowType=machine_learning"


def test_view_tag_is_the_envelope_the_ui_reads():
    key, value = runs_view_tag(1_700_000_000_000)
    assert key == f"mlflow.sharedViewState.{RUNS_VIEW_KEY}"
    envelope = json.loads(value)
    # the UI's check: a string name, a number createdAt, a string state
    assert envelope["name"] == RUNS_VIEW_NAME
    assert envelope["createdAt"] == envelope["updatedAt"] == 1_700_000_000_000
    assert json.loads(envelope["state"]) == runs_view_state()
    assert len(value) < 20_000  # the UI refuses larger views


def test_view_shows_objectives_then_recipe_sorted_flat():
    state = runs_view_state()
    columns = state["selectedColumns"]
    assert columns[: len(OBJECTIVES)] == [f"metrics.`{m}`" for m in OBJECTIVES]
    assert [f"params.`{p}`" for p in RECIPE_COLUMNS] == columns[3:6]
    assert set(columns) <= set(state["columnOrder"]) and set(columns) <= set(state["columnWidths"])
    # any sort but start time shows child runs flat; best conductivity first
    assert state["orderByKey"] == "metrics.`sigma_total_ms_cm`" and state["orderByAsc"] is False
    # settings the UI drops from a shared view are not relied on
    assert not {"runsExpanded", "runsPinned", "runsHidden"} & set(state)


def test_runs_url_selects_the_workflow_and_the_view():
    assert runs_url(BASE + "/", "7") == (
        f"{BASE}/#/experiments/7/runs?viewStateShareKey={RUNS_VIEW_KEY}&{ML}"
    )
    assert runs_url(BASE, "7", view=False) == f"{BASE}/#/experiments/7/runs?{ML}"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    import mlflow

    uri = f"sqlite:///{tmp_path_factory.mktemp('views') / 'mlflow.db'}"
    client = mlflow.MlflowClient(uri)
    return uri, client


def test_ui_links_without_a_campaign_and_for_an_unreadable_store(store, tmp_path):
    uri, _ = store
    links = ui_links(uri, BASE)
    assert links == {
        "all experiments": f"{BASE}/#/experiments?{ML}",
        "model registry": f"{BASE}/#/models?{ML}",
    }
    missing = f"sqlite:///{tmp_path / 'no-folder' / 'x' / 'mlflow.db'}"
    assert list(ui_links(missing, BASE)) == ["all experiments", "model registry"]


def test_ui_links_open_the_latest_campaign_with_its_view_and_surrogate(store):
    uri, client = store
    old = client.create_experiment(experiment_name("old"), tags={"gbs.campaign": "old"})
    client.set_experiment_tag(old, *runs_view_tag(0))
    client.create_experiment("gbs-suggest")  # not a campaign
    new = client.create_experiment(experiment_name("new"), tags={"gbs.campaign": "new"})
    client.create_registered_model("gbs-surrogate-old")
    latest = ui_links(uri, BASE)
    # created before this version of the tracker: the runs table without the view
    assert latest["campaign new"] == runs_url(BASE, new, view=False)
    assert list(latest)[1:] == ["all experiments", "model registry"]
    named = ui_links(uri, BASE, campaign="old")
    assert named["campaign old"] == runs_url(BASE, old)
    assert named["surrogate gbs-surrogate-old"] == f"{BASE}/#/models/gbs-surrogate-old?{ML}"
    assert VIEW_TAG_PREFIX + RUNS_VIEW_KEY in client.get_experiment(old).tags
