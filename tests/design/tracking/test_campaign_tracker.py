"""CampaignTracker: fails fast on an unreachable store, tags its experiment, logs warnings."""

from __future__ import annotations

import logging
import socket

import pytest

from design.campaign.config import CampaignConfig
from design.errors import TrackingError
from design.tracking.campaign import CampaignTracker, registered_model_name
from design.tracking.store import MODEL_DEVELOPMENT_TAGS, ensure_experiment


def test_start_on_an_unreachable_server_is_one_error_naming_resume(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tracker = CampaignTracker(f"http://127.0.0.1:{port}", background=False)
    config = CampaignConfig(name="c9", cycler_url="http://127.0.0.1:1", budget=2)
    with pytest.raises(TrackingError, match=r"not reachable.*gbs campaign resume c9"):
        tracker.start(store=None, campaign=None, config=config)  # type: ignore[arg-type]
    assert tracker.parent_run_id is None


def test_logging_failures_are_one_warning_through_logging(caplog):
    tracker = CampaignTracker("sqlite:////nonexistent/never.db", background=False)

    def boom() -> None:
        raise RuntimeError("store went away\nsecond line of detail")

    with caplog.at_level(logging.WARNING, logger="design.tracking.campaign"):
        assert not tracker._safe("progress", boom)
        assert not tracker._safe("progress", boom)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].getMessage() == (
        "MLflow logging failed (progress): store went away; will retry"
    )


def test_experiments_open_on_the_runs_table(tmp_path):
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    exp_id = ensure_experiment("old", tracking_uri=uri)  # as older versions created it
    assert ensure_experiment("old", tracking_uri=uri, tags=MODEL_DEVELOPMENT_TAGS) == exp_id
    tags = mlflow.MlflowClient(uri).get_experiment(exp_id).tags
    assert tags["mlflow.experimentKind"] == "custom_model_development"
    assert registered_model_name("run-7") == "gbs-surrogate-run-7"
