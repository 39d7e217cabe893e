"""A campaign's configuration: thresholds follow the acquisition's rules, checked up front."""

from __future__ import annotations

import pytest

from design.campaign.config import CampaignConfig
from physics.errors import ConfigError


@pytest.mark.parametrize(
    "thresholds", [{"relative_density": 0.9}, {"sigma_total_ms_cm": -1.0}, {"ccd_ma_cm2": "x"}]
)
def test_config_refuses_thresholds_the_acquisition_would_refuse(thresholds):
    with pytest.raises(ConfigError, match="threshold"):
        CampaignConfig(name="c", cycler_url="http://h", budget=2, thresholds=thresholds)


def test_config_stores_thresholds_as_floats():
    cfg = CampaignConfig(
        name="c", cycler_url="http://h", budget=2, thresholds={"electronic_fraction": "0.05"}
    )
    assert cfg.thresholds == {"electronic_fraction": 0.05}


@pytest.mark.parametrize("item", ["relative_density=0.9", "sigma_total_ms_cm=-1"])
def test_campaign_run_with_a_bad_threshold_stores_nothing(tmp_path, capsys, item):
    from design.cli.app import main

    db = tmp_path / "sub" / "c.db"
    code = main(
        [
            "campaign",
            "run",
            "--cycler-url",
            "http://127.0.0.1:9",
            "--campaign",
            "bad-threshold",
            "--budget",
            "2",
            "--threshold",
            item,
            "--db",
            f"sqlite:///{db}",
            "--no-tracking",
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert "sigma_total_ms_cm" in err
    assert not db.parent.exists()  # refused before the database was even opened


def test_config_needs_a_budget_of_samples_or_hours():
    with pytest.raises(ConfigError, match=r"--budget N .* or --budget-hours H"):
        CampaignConfig(name="c", cycler_url="http://h")
    assert CampaignConfig(name="c", cycler_url="http://h", budget_hours=500).budget is None
    for bad in (0.5, float("nan"), True, "100"):
        with pytest.raises(ConfigError, match="--budget-hours"):
            CampaignConfig(name="c", cycler_url="http://h", budget_hours=bad)


def test_config_protocol_policy_and_services():
    with pytest.raises(ConfigError, match="--protocols 'some' is not one of all, staged"):
        CampaignConfig(name="c", cycler_url="http://h", budget=1, protocol_policy="some")
    cfg = CampaignConfig(
        name="c", cycler_url="http://a:1", other_cycler_urls=["http://b:2"], budget=1
    )
    assert cfg.services == {"cycler-1": "http://a:1", "cycler-2": "http://b:2"}
    with pytest.raises(ConfigError, match=r"given twice .*cycler-1 and cycler-2"):
        CampaignConfig(
            name="c", cycler_url="http://a:1", other_cycler_urls=["http://A:1/"], budget=1
        )
    with pytest.raises(ConfigError, match="put the token in CYCLER_TOKEN_2"):
        CampaignConfig(
            name="c", cycler_url="http://a:1", other_cycler_urls=["http://u:p@b"], budget=1
        )


def test_a_version_1_config_reads_as_one_service_a_sample_budget_and_all_protocols():
    old = {
        "version": 1,
        "name": "legacy",
        "cycler_url": "http://127.0.0.1:1",
        "budget": 2,
        "batch_size": None,
        "strategy": "physics-gp",
        "seed": 0,
        "thresholds": {},
        "initial_data": None,
        "protocols": None,
        "max_fault_retries": 5,
        "max_reruns": 2,
        "poll_interval_s": 1.0,
        "poll_max_s": 30.0,
        "plots": True,
        "tracking": True,
        "tracking_uri": None,
    }
    cfg = CampaignConfig.from_json(old)
    assert cfg.cycler_urls == ["http://127.0.0.1:1"] and cfg.budget == 2
    assert cfg.budget_hours is None and cfg.protocol_policy == "all"
    assert cfg.to_json()["version"] == 3 and cfg.minimize_temperature is False
    with pytest.raises(ConfigError, match="version 4 is not supported"):
        CampaignConfig.from_json({**old, "version": 4})


def test_token_variables_follow_the_order_of_the_urls():
    from design.campaign.config import token_variable

    assert [token_variable(i) for i in range(3)] == [
        "CYCLER_TOKEN",
        "CYCLER_TOKEN_2",
        "CYCLER_TOKEN_3",
    ]


def test_a_version_2_config_reads_without_the_temperature_objective():
    new = CampaignConfig(name="c", cycler_url="http://h", budget=2).to_json()
    old = {k: v for k, v in new.items() if k != "minimize_temperature"} | {"version": 2}
    cfg = CampaignConfig.from_json(old)
    assert cfg.minimize_temperature is False
    assert CampaignConfig.from_json(cfg.to_json()) == cfg


def test_the_temperature_objective_is_stored_and_kept_on_resume(tmp_path):
    from design.campaign.session import _moved
    from design.reporting.snapshot import snapshot
    from design.store import ledger
    from design.store.database import Store
    from tests.surrogate.data import simulated_table

    cfg = CampaignConfig(
        name="cool",
        cycler_url="http://h:1",
        budget=2,
        minimize_temperature=True,
        thresholds={"sinter_temperature_c": 1250},
    )
    assert cfg.to_json()["minimize_temperature"] is True
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        ledger.create_campaign(store, cfg.name, cfg.to_json(), simulated_table(8, seed=4))
        stored = CampaignConfig.from_json(store.campaign("cool").config)  # what resume reads
        assert stored == cfg and stored.minimize_temperature
        assert _moved(stored, "http://moved:2").minimize_temperature  # a moved service too
        metrics = snapshot(store, "cool").metrics
        assert metrics["hypervolume_4d"] > 0 and metrics["hypervolume"] > 0
        warm = {**cfg.to_json(), "name": "warm", "minimize_temperature": False, "thresholds": {}}
        ledger.create_campaign(store, "warm", warm, simulated_table(8, seed=4))
        assert "hypervolume_4d" not in snapshot(store, "warm").metrics
    finally:
        store.close()


def test_config_refuses_a_temperature_threshold_without_the_objective():
    with pytest.raises(ConfigError, match="only with --minimize-temperature"):
        CampaignConfig(
            name="c", cycler_url="http://h", budget=2, thresholds={"sinter_temperature_c": 1200}
        )
    with pytest.raises(ConfigError, match="true or false"):
        CampaignConfig(name="c", cycler_url="http://h", budget=2, minimize_temperature="yes")


def test_the_proposer_passes_the_temperature_objective(monkeypatch):
    import design.acquisition.batch as batch
    from design.campaign.proposer import default_proposer
    from physics.schema import RecipeSpace

    seen = {}

    def fake_suggest(table, **kw):
        seen.update(kw)
        return []

    monkeypatch.setattr(batch, "suggest", fake_suggest)
    for flag in (False, True):
        cfg = CampaignConfig(
            name="c", cycler_url="http://h", budget=2, strategy="sobol", minimize_temperature=flag
        )
        default_proposer(None, batch_size=1, pending=[], config=cfg, space=RecipeSpace(), seed=0)
        assert seen["minimize_temperature"] is flag


def test_campaign_run_minimize_temperature_flag_is_checked_up_front(tmp_path, capsys):
    from design.cli.app import main

    db = tmp_path / "sub" / "c.db"
    code = main(
        [
            "campaign",
            "run",
            "--cycler-url",
            "http://127.0.0.1:9",
            "--campaign",
            "t",
            "--budget",
            "2",
            "--threshold",
            "sinter_temperature_c=1200",
            "--db",
            f"sqlite:///{db}",
            "--no-tracking",
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "--minimize-temperature" in err
    assert not db.parent.exists()
