"""Instrument-hours of a job: the formula, the default table, bad tables."""

from __future__ import annotations

import math

import pytest

from experiments.cycler.durations import DEFAULT_DURATIONS, Durations
from experiments.cycler.models import PROTOCOLS
from physics.errors import ConfigError


def test_default_table_is_the_protocols_example():
    d = DEFAULT_DURATIONS
    assert d.to_capabilities() == {
        "sintering_hours": {"base": 10.0, "per_dwell_h": 1.0},
        "protocol_hours": {
            "eis_blocking": 6.0,
            "dc_polarization": 12.0,
            "eis_symmetric": 4.0,
            "ccd_staircase": 72.0,
        },
    }
    assert d.source == "default"


@pytest.mark.parametrize(
    ("protocols", "dwell_h", "hours"),
    [
        (PROTOCOLS, 6.0, 110.0),  # 10 + 6 + 6 + 12 + 4 + 72
        (PROTOCOLS, 24.0, 128.0),
        (["eis_blocking", "dc_polarization"], 6.0, 34.0),
        (["ccd_staircase"], None, 72.0),  # a follow-up: no sintering
        (["eis_blocking", "eis_blocking"], None, 12.0),  # a repeat counts again
        ([], 1.0, 11.0),
    ],
)
def test_job_hours(protocols, dwell_h, hours):
    assert DEFAULT_DURATIONS.job_hours(protocols, dwell_h=dwell_h) == pytest.approx(hours)


def test_from_capabilities_round_trip_and_replace():
    d = Durations.from_capabilities(DEFAULT_DURATIONS.to_capabilities())
    assert d == DEFAULT_DURATIONS and d.source == "service"
    slower = d.replace(ccd_staircase=96.0)
    assert slower.protocol_h("ccd_staircase") == 96.0 and d.protocol_h("ccd_staircase") == 72.0
    assert slower.source == "service"


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: Durations(-1.0, 1.0, {}), r"sintering_hours.base = -1.0 h"),
        (lambda: Durations(10.0, math.nan, {}), r"per_dwell_h = nan"),
        (lambda: Durations(10.0, 1.0, {"eis_blocking": math.inf}), r"eis_blocking"),
        (lambda: Durations(10.0, 1.0, {"eis_blocking": "6"}), r"not a number of hours"),
        (lambda: Durations(10.0, 1.0, {"eis_blocking": True}), r"not a number of hours"),
        (lambda: Durations.from_capabilities({"protocol_hours": {}}), r"sintering_hours"),
        (
            lambda: Durations.from_capabilities(
                {"sintering_hours": {"base": 1.0}, "protocol_hours": {}}
            ),
            r"lacks 'per_dwell_h'",
        ),
        (lambda: DEFAULT_DURATIONS.protocol_h("xrd"), r"no duration for protocol 'xrd'"),
        (lambda: DEFAULT_DURATIONS.sintering_h(-2.0), r"dwell_h = -2.0"),
    ],
)
def test_bad_tables_and_protocols_are_config_errors(build, match):
    with pytest.raises(ConfigError, match=match):
        build()
