"""Recipes outside the space are refused with the bounds; far-from-data is a normalized distance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from design.acquisition.extrapolation import (
    FAR_FROM_DATA,
    RecipeOutsideSpaceError,
    check_in_space,
    distance_to_data,
    far_from_data,
)
from physics.schema import RecipeSpace

SPACE = RecipeSpace()
DATA = pd.DataFrame(
    {"zbo_fraction": [0.0, 0.1, 0.2], "sinter_temperature_c": [1000.0] * 3, "dwell_h": [None] * 3}
)


@pytest.mark.parametrize(
    ("recipe", "message"),
    [
        (
            {"zbo_fraction": 20, "sinter_temperature_c": 1000},
            "row 2: zbo_fraction = 20 is outside [0, 0.5]",
        ),
        (
            {"zbo_fraction": -0.1, "sinter_temperature_c": 1000},
            "zbo_fraction = -0.1 is outside [0, 0.5]",
        ),
        (
            {"zbo_fraction": 0.1, "sinter_temperature_c": 1500},
            "sinter_temperature_c = 1500 is outside [900, 1300]",
        ),
        (
            {"zbo_fraction": 0.1, "sinter_temperature_c": 1000, "dwell_h": 48},
            "dwell_h = 48 is outside [1, 24]",
        ),
    ],
)
def test_outside_the_space_names_value_and_bounds(recipe, message):
    frame = pd.DataFrame([{"zbo_fraction": 0.1, "sinter_temperature_c": 1000}, recipe])
    with pytest.raises(RecipeOutsideSpaceError, match=r"at\.csv") as info:
        check_in_space(frame, SPACE, source="at.csv")
    assert message.replace("row 2", "row 3") in str(info.value)


def test_inside_the_space_passes():
    check_in_space(DATA, SPACE, source="t.csv")


def test_distance_is_in_fractions_of_each_range():
    # 0.1 in x = 0.2 of [0, 0.5]; 80 C = 0.2 of [900, 1300]; both at once: sqrt(0.08)
    recipes = np.array([[0.2, 1000, 6], [0.3, 1000, 6], [0.2, 1080, 6], [0.3, 1080, 6]])
    d = distance_to_data(recipes, DATA, SPACE)
    assert d == pytest.approx([0.0, 0.2, 0.2, np.sqrt(0.08)])
    far = far_from_data(recipes, DATA, SPACE)
    assert far.tolist() == [False, False, False, True]
    assert FAR_FROM_DATA == 0.2


def test_no_data_is_far_everywhere():
    assert far_from_data(np.array([[0.1, 1000, 6]]), DATA.iloc[:0], SPACE).tolist() == [True]
