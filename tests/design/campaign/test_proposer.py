"""Proposal rounds: a failing model hands the round to Sobol points, and the round says so."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pandas as pd
import pytest

from design.campaign.config import CampaignConfig
from design.campaign.proposer import Proposed, propose_with_fallback
from design.campaign.runner import CampaignRunner
from design.errors import CampaignError
from design.store import ledger
from design.store.database import Store, loads
from physics.errors import ConfigError, DataError
from physics.schema import RecipeSpace
from tests.design.campaign.test_runner import FakeProposer, FakeService, fake_analyzer


class FailingModel(FakeProposer):
    """Proposes like FakeProposer, except that model-based strategies raise ``error``."""

    def __init__(self, error: Exception, sobol_error: Exception | None = None):
        super().__init__()
        self.error, self.sobol_error, self.strategies = error, sobol_error, []

    def __call__(self, table, *, config, **kwargs):
        self.strategies.append(config.strategy)
        if config.strategy != "sobol":
            raise self.error
        if self.sobol_error is not None:
            raise self.sobol_error
        return super().__call__(table, config=config, **kwargs)


class RecordingTracker:
    """Stands for CampaignTracker: keeps what log_iteration receives."""

    def __init__(self):
        self.iterations: list[tuple[int, list[dict], object]] = []

    def start(self, store, record, config):
        pass

    def log_iteration(self, store, campaign, iteration, rows, table, proposed, space):
        self.iterations.append((iteration, rows, proposed))

    def log_progress(self, snap):
        pass

    def log_experiment(self, store, job_pk, raw, analysis):
        pass

    def finish(self, snap, **kwargs):
        pass

    def close(self):
        pass


def _campaign(tmp_path, strategy="physics-gp", budget=2):
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    config = CampaignConfig(
        name="unit",
        cycler_url="http://fake",
        budget=budget,
        strategy=strategy,
        poll_interval_s=0.01,
        poll_max_s=0.01,
        tracking=False,
    )
    ledger.create_campaign(store, "unit", config.to_json())
    return store


def _run(store, proposer, tracker=None):
    return CampaignRunner(
        store,
        "unit",
        FakeService(),
        proposer=proposer,
        analyzer=fake_analyzer,
        tracker=tracker,
        sleep=lambda s: None,
    ).run()


def test_a_failing_model_is_recorded_as_a_sobol_round_with_the_reason(tmp_path, caplog):
    store, tracker = _campaign(tmp_path), RecordingTracker()
    proposer = FailingModel(DataError("GP fit failed: singular kernel matrix"))
    with caplog.at_level(logging.WARNING, logger="design.campaign.runner"):
        snap = _run(store, proposer, tracker)
    assert snap.status == "done" and snap.experiments_done == 2
    assert proposer.strategies[:2] == ["physics-gp", "sobol"]
    (it,) = store.iterations(store.campaign("unit").id)
    assert it.strategy == "sobol"
    assert (
        it.fallback_reason == "physics-gp failed: DataError: GP fit failed: singular kernel matrix"
    )
    info = loads(it.info_json)
    assert info["strategy"] == "sobol" and info["configured_strategy"] == "physics-gp"
    assert info["fallback_reason"] == it.fallback_reason
    ((iteration, rows, proposed),) = tracker.iterations
    assert iteration == 1 and len(rows) == 2
    assert proposed.strategy == "sobol" and proposed.fallback_reason == it.fallback_reason
    assert "singular kernel matrix" in caplog.text and "Sobol" in caplog.text


def test_a_working_model_is_recorded_under_its_own_name(tmp_path):
    store = _campaign(tmp_path, strategy="gp")
    _run(store, FakeProposer())
    (it,) = store.iterations(store.campaign("unit").id)
    assert it.strategy == "gp" and it.fallback_reason is None
    assert loads(it.info_json)["configured_strategy"] == "gp"


def test_a_configuration_error_stops_the_campaign_without_a_fallback(tmp_path):
    store = _campaign(tmp_path)
    proposer = FailingModel(ConfigError("every recipe of the grid is measured or pending"))
    with pytest.raises(CampaignError, match="every recipe of the grid"):
        _run(store, proposer)
    assert proposer.strategies == ["physics-gp"]
    rec = store.campaign("unit")
    assert rec.status == "stopped" and "every recipe of the grid" in rec.message
    assert rec.lease_owner is None and store.iterations(rec.id) == []


def test_a_failing_fallback_names_both_errors(tmp_path):
    store = _campaign(tmp_path)
    proposer = FailingModel(RuntimeError("cholesky failed"), ValueError("empty space"))
    with pytest.raises(CampaignError, match=r"cholesky failed.*Sobol fallback failed too: empty"):
        _run(store, proposer)
    assert store.campaign("unit").status == "stopped"


def test_propose_with_fallback_keeps_reasons_on_one_short_line():
    config = CampaignConfig(name="u", cycler_url="http://fake", budget=1, strategy="gp")
    proposer = FailingModel(ValueError("line one\nline two " + "x" * 1000))
    out = propose_with_fallback(
        proposer,
        pd.DataFrame(),
        batch_size=1,
        pending=[],
        config=config,
        space=RecipeSpace(),
        seed=0,
    )
    assert isinstance(out, Proposed) and out.strategy == "sobol"
    assert out.fallback_reason.startswith("gp failed: ValueError: line one line two xxx")
    assert "\n" not in out.fallback_reason and len(out.fallback_reason) <= 500
    assert len(out.suggestions) == 1 and isinstance(out.suggestions[0], SimpleNamespace)
