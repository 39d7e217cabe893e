"""The one threshold parser: names, values, messages; the same rules for every caller."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from design.acquisition.thresholds import (
    THRESHOLD_NAMES,
    check_thresholds,
    parse_thresholds,
)
from physics.errors import ConfigError


def test_valid_items_parse_to_floats_in_property_units():
    got = parse_thresholds(
        [" sigma_total_ms_cm = 1e0 ", "electronic_fraction=0.05", "ccd_ma_cm2=2"]
    )
    assert got == {"sigma_total_ms_cm": 1.0, "electronic_fraction": 0.05, "ccd_ma_cm2": 2.0}
    assert parse_thresholds(None) == {} and check_thresholds(None) == {}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("relative_density=0.9", "'relative_density' is not an objective"),
        ("sigma_total_ms_cm=-1", "sigma_total_ms_cm must be > 0 mS/cm, got -1"),
        ("ccd_ma_cm2=0", "ccd_ma_cm2 must be > 0 mA/cm2, got 0"),
        ("electronic_fraction=1", "electronic_fraction must be a fraction in (0, 1), got 1"),
        ("sigma_total_ms_cm=nan", "must be > 0 mS/cm, got nan"),
        ("sigma_total_ms_cm=inf", "must be > 0 mS/cm, got inf"),
        ("sigma_total_ms_cm=one", "'one' is not a number"),
        ("sigma_total_ms_cm", "expected NAME=VALUE"),
        ("=1", "expected NAME=VALUE"),
    ],
)
def test_bad_items_name_the_problem_and_the_valid_choices(item, message):
    with pytest.raises(ConfigError) as info:
        parse_thresholds([item])
    text = str(info.value)
    assert message in text and "\n" not in text
    if "objective" in message or "NAME=VALUE" in message:
        assert "sigma_total_ms_cm, ccd_ma_cm2, electronic_fraction" in text


def test_a_name_given_twice_is_refused():
    with pytest.raises(ConfigError, match="given twice"):
        parse_thresholds(["sigma_total_ms_cm=1", "sigma_total_ms_cm=2"])


@pytest.mark.parametrize("value", [True, None, [1.0], "1,5"])
def test_mapping_values_must_be_numbers(value):
    with pytest.raises(ConfigError, match="number"):
        check_thresholds({"sigma_total_ms_cm": value})


_VALUES = {
    "sigma_total_ms_cm": st.floats(min_value=1e-9, max_value=1e9),
    "ccd_ma_cm2": st.floats(min_value=1e-9, max_value=1e9),
    "electronic_fraction": st.floats(min_value=1e-9, max_value=1 - 1e-9),
}


@given(st.fixed_dictionaries({}, optional=_VALUES))
def test_parse_and_check_agree_and_round_trip(thresholds):
    items = [f"{name}={value!r}" for name, value in thresholds.items()]
    parsed = parse_thresholds(items)
    assert parsed == thresholds == check_thresholds(thresholds)
    assert check_thresholds({k: str(v) for k, v in parsed.items()}) == parsed


@given(st.sampled_from(THRESHOLD_NAMES), st.floats(allow_nan=True, allow_infinity=True))
def test_every_value_is_either_accepted_in_range_or_refused(name, value):
    upper = 1.0 if name == "electronic_fraction" else math.inf
    try:
        out = parse_thresholds([f"{name}={value!r}"])
    except ConfigError as exc:
        assert not (0.0 < value < upper) and name in str(exc)
    else:
        assert 0.0 < out[name] < upper


def test_the_acquisition_uses_the_same_rules():
    from design.acquisition.hypervolume import reference_point

    with pytest.raises(ConfigError, match="not an objective"):
        reference_point({"relative_density": 0.9})
    with pytest.raises(ConfigError, match="> 0 mS/cm"):
        reference_point({"sigma_total_ms_cm": -1.0})
