"""One value formatter for people, and the recipes table with its far-from-data column."""

from __future__ import annotations

import math

import pytest
from rich.console import Console

from design.reporting.format import MISSING, format_mean_sd, format_value
from design.reporting.tables import suggestions_table


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (0.153, 3, "0.153"),
        (1050.0, 3, "1050"),
        (957.4, 3, "957"),
        (957.4, 4, "957.4"),
        (2.5e-7, 3, "2.5e-07"),
        (3.2e7, 3, "3.2e+07"),
        (None, 3, MISSING),
        (math.nan, 3, MISSING),
        (math.inf, 3, "inf"),
        (True, 3, "yes"),
        ("ok", 3, "ok"),
        (7, 3, "7"),
    ],
)
def test_format_value(value, digits, text):
    assert format_value(value, digits) == text


def test_format_mean_sd():
    assert format_mean_sd(0.5312, 0.0417) == "0.531 ± 0.042"
    assert format_mean_sd({"mean": 1.2, "sd": 0.3}, None) == "1.2 ± 0.3"
    assert format_mean_sd({"mean": None, "sd": None}, None) == MISSING
    assert format_mean_sd(1.0, None) == "1"


def _record(x: float, far: bool | None) -> dict:
    rec = {
        "zbo_fraction": x,
        "sinter_temperature_c": 1000.0,
        "dwell_h": 6.0,
        "sigma_total_ms_cm": {"mean": 1.1, "sd": 0.2},
        "ccd_ma_cm2": {"mean": 0.4, "sd": 0.1},
        "electronic_fraction": {"mean": None, "sd": None},
        "p_feasible": 0.93,
        "acquisition_value": -1.5,
    }
    if far is not None:
        rec["far_from_data"] = far
    return rec


def _render(table) -> str:
    console = Console(width=200, record=True)
    console.print(table)
    return console.export_text()


def test_table_marks_far_recipes():
    text = _render(suggestions_table([_record(0.1, False), _record(0.5, True)], "t", True))
    assert "far" in text and "near" in text and "1.1 ± 0.2" in text and MISSING in text
    plain = _render(suggestions_table([_record(0.1, None)], "t", False))
    assert "far" not in plain and "log acq" not in plain
