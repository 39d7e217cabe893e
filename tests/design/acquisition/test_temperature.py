"""The sintering temperature as a fourth objective (``minimize_temperature``): the exact 4-D
hypervolume improvement by temperature slabs, and what it makes ``suggest`` do."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import torch

from design.acquisition.batch import suggest
from design.acquisition.hypervolume import hvi4 as _hvi4
from design.acquisition.hypervolume import hvi4_bound as _hvi4_bound
from design.acquisition.hypervolume import (
    hypervolume,
    hypervolume_4d,
    reference_temperature_c,
)
from design.acquisition.hypervolume import temperature_slabs as _slabs
from physics.errors import ConfigError
from physics.schema import RecipeSpace
from tests.design.acquisition.test_protocol import ToySurrogate
from tests.surrogate.data import simulated_table

torch.set_num_threads(2)

_LEVELS = 5  # integer coordinates 0..4 (ref 0), temperatures 0..4 (ref 5)
_T_REF = 5.0


def _cells_dominated(points: np.ndarray) -> int:
    """Unit cells ``[a, a+1)^3 x [t, t+1)`` dominated by (y1, y2, y3, T) points (y up, T down,
    reference (0, 0, 0, T_REF)): an exact count on integer coordinates."""
    count = 0
    for a in itertools.product(range(_LEVELS), repeat=3):
        for t in range(int(_T_REF)):
            centre = np.array(a, float) + 0.5
            if any((p[:3] >= centre).all() and p[3] <= t for p in points):
                count += 1
    return count


@pytest.mark.parametrize("seed", range(6))
def test_slab_hvi_equals_a_cell_count_of_the_4d_hypervolume(seed):
    rng = np.random.default_rng(seed)
    S, m, c = 3, int(rng.integers(0, 6)), 4
    F = rng.integers(0, _LEVELS, (S, m, 3)).astype(float)
    T_f = rng.integers(0, int(_T_REF) + 1, m).astype(float)  # some at or above the reference
    Y = rng.integers(0, _LEVELS, (S, c, 3)).astype(float)
    T_c = rng.integers(0, int(_T_REF) + 1, c).astype(float)
    ref = torch.zeros(3, dtype=torch.double)
    slabs = _slabs(torch.tensor(F), torch.tensor(T_f), ref, _T_REF)
    got = _hvi4(torch.tensor(Y), torch.tensor(T_c), slabs, ref, _T_REF).numpy()
    for s in range(S):
        front = np.column_stack([F[s], T_f]) if m else np.zeros((0, 4))
        base = _cells_dominated(front)
        for j in range(c):
            p = np.r_[Y[s, j], T_c[j]]
            want = _cells_dominated(np.vstack([front, p])) - base
            assert got[s, j] == pytest.approx(want), (s, j)


def test_slab_hvi_monte_carlo_on_continuous_fronts():
    rng = np.random.default_rng(7)
    F = rng.uniform(0, 1, (1, 6, 3))
    T_f = rng.uniform(0, 1, 6)
    Y = rng.uniform(0.2, 1.1, (1, 5, 3))
    T_c = rng.uniform(0, 1, 5)
    ref, t_ref = torch.zeros(3, dtype=torch.double), 1.0
    slabs = _slabs(torch.tensor(F), torch.tensor(T_f), ref, t_ref)
    got = _hvi4(torch.tensor(Y), torch.tensor(T_c), slabs, ref, t_ref)
    U = rng.uniform(0, 1.1, (200_000, 4))
    U[:, 3] = rng.uniform(0, t_ref, len(U))

    def dominated(y, t):
        return (U[:, :3] <= y).all(-1) & (U[:, 3] >= t)

    old = np.zeros(len(U), bool)
    for i in range(6):
        old |= dominated(F[0, i], T_f[i])
    vol = 1.1**3 * t_ref
    for j in range(5):
        want = (dominated(Y[0, j], T_c[j]) & ~old).mean() * vol
        assert float(got[0, j]) == pytest.approx(want, abs=4e-3)


def test_cooler_of_two_equal_points_improves_more_and_hot_ones_nothing():
    ref = torch.zeros(3, dtype=torch.double)
    F = torch.tensor([[[1.0, 1.0, 1.0]]], dtype=torch.double)
    slabs = _slabs(F, torch.tensor([1100.0], dtype=torch.double), ref, 1310.0)
    Y = torch.full((1, 3, 3), 2.0, dtype=torch.double)
    got = _hvi4(Y, torch.tensor([1000.0, 1200.0, 1310.0], dtype=torch.double), slabs, ref, 1310.0)
    assert got[0, 0] > got[0, 1] > 0 and got[0, 2] == 0
    # 100 C with the empty front (volume 8), then 210 C over the front (volume 7)
    assert float(got[0, 0]) == pytest.approx(100 * 8 + 210 * 7)


def test_hypervolume_4d_of_measured_rows():
    table = simulated_table(12, landscape="shifted-optimum", seed=11)
    space = RecipeSpace()
    t_ref = reference_temperature_c(space)
    assert t_ref == 1310.0
    assert reference_temperature_c(space, {"sinter_temperature_c": 1200}) == 1200.0
    hv4 = hypervolume_4d(table, space=space)
    hv3 = hypervolume(table)
    ok = table[table["status"] == "ok"]
    # bounded by the 3-D front held over the whole temperature range below the reference
    assert 0 < hv4 <= hv3 * (t_ref - ok["sinter_temperature_c"].min()) + 1e-9
    # every row above the reference temperature: nothing counts
    assert hypervolume_4d(table, {"sinter_temperature_c": 850.0}) == 0.0
    cooler = table.assign(sinter_temperature_c=table["sinter_temperature_c"] - 50.0)
    assert hypervolume_4d(cooler, space=space) > hv4


def _flat_in_temperature(seed: int) -> pd.DataFrame:
    """Measured rows whose properties depend on the ZBO fraction only, all at 1250-1300 C."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, x in enumerate(np.round(np.linspace(0.26, 0.5, 8), 2)):
        for t in (1250.0, 1300.0):
            rows.append(
                {
                    "sample_id": f"s{i}_{int(t)}",
                    "zbo_fraction": x,
                    "sinter_temperature_c": t,
                    "dwell_h": 6.0,
                    "status": "ok",
                    "sigma_total_ms_cm": 0.6 + 2 * x * (0.6 - x) + 0.01 * rng.normal(),
                    "ccd_ma_cm2": 0.2 + x,
                    "electronic_fraction": 0.05 - 0.05 * x,
                }
            )
    return simulated_table(0).iloc[:0].pipe(lambda e: pd.concat([e, pd.DataFrame(rows)]))


class FlatToy(ToySurrogate):
    """The toy surrogate blind to temperature: its inputs are the ZBO fraction alone."""

    def encode(self, recipes):
        return super().encode(recipes)[:, :1]


@pytest.mark.parametrize("seed", [0, 1])
def test_suggest_prefers_the_cooler_recipe_when_predictions_are_equal(seed):
    table = _flat_in_temperature(seed)
    space = RecipeSpace()
    out = suggest(table, batch_size=1, surrogate=FlatToy(), seed=seed, minimize_temperature=True)
    temps = space.sinter_temperature_c.values
    # the predictions are the same at every temperature: the coolest fifth of the range wins
    assert out[0].recipe["sinter_temperature_c"] <= temps.min() + 0.2 * np.ptp(temps)


def test_temperature_options_are_checked():
    table = simulated_table(8, seed=3)
    with pytest.raises(ConfigError, match="only with --minimize-temperature"):
        suggest(table, strategy="gp", thresholds={"sinter_temperature_c": 1200.0})
    with pytest.raises(ConfigError, match="multi-objective"):
        suggest(table, strategy="gp", objective="sigma", minimize_temperature=True)
    with pytest.raises(ConfigError, match="> 0 degC"):
        suggest(
            table, strategy="gp", thresholds={"sinter_temperature_c": -5}, minimize_temperature=True
        )


def test_lazy_first_step_from_bounds_picks_what_exhaustive_scoring_picks(monkeypatch):
    """The 4-D greedy starts from cheap upper bounds: the same batch as scoring every
    candidate exactly first."""
    from design.acquisition import batch

    table = simulated_table(14, landscape="shifted-optimum", seed=9)
    lazy = suggest(table, batch_size=3, strategy="gp", seed=4, minimize_temperature=True)
    monkeypatch.setattr(batch.GridAcquisition, "upper_bounds", lambda self, idx: None)
    full = suggest(table, batch_size=3, strategy="gp", seed=4, minimize_temperature=True)
    assert [s.recipe for s in lazy] == [s.recipe for s in full]
    assert [s.acquisition_value for s in lazy] == pytest.approx(
        [s.acquisition_value for s in full], rel=1e-9
    )


def test_bound_is_above_the_exact_improvement():
    rng = np.random.default_rng(3)
    F = torch.tensor(rng.uniform(0, 1, (4, 7, 3)))
    T_f = torch.tensor(rng.choice([900.0, 1000.0, 1100.0, 1200.0], 7))
    Y = torch.tensor(rng.uniform(0, 1.2, (4, 50, 3)))
    T_c = torch.tensor(rng.choice(np.arange(900.0, 1320.0, 10.0), 50))
    ref = torch.zeros(3, dtype=torch.double)
    slabs = _slabs(F, T_f, ref, 1310.0)
    exact = _hvi4(Y, T_c, slabs, ref, 1310.0)
    bound = _hvi4_bound(Y, T_c, slabs, ref, 1310.0)
    assert (bound >= exact - 1e-12).all() and (bound > exact + 1e-6).any()
