"""Non-finite numbers become null in JSON records and are dropped from metrics."""

from __future__ import annotations

import json
import math

import numpy as np

from physics.jsonsafe import finite_or_none, json_safe


def test_finite_or_none():
    assert finite_or_none(1) == 1.0 and finite_or_none("2.5") == 2.5
    assert finite_or_none(np.float32(0.5)) == 0.5
    for bad in (None, "x", math.nan, math.inf, -math.inf, np.nan, "nan", {}):
        assert finite_or_none(bad) is None


def test_json_safe_is_valid_strict_json():
    value = {"a": [1.0, math.nan, np.float64(math.inf)], "b": (np.int64(3), "s", None, True)}
    out = json_safe(value)
    assert out == {"a": [1.0, None, None], "b": [3, "s", None, True]}
    json.dumps(out, allow_nan=False)
