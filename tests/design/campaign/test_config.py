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
