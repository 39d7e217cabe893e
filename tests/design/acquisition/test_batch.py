"""Tests of the batch acquisition over the furnace grid."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from botorch.utils.multi_objective.hypervolume import Hypervolume
from botorch.utils.multi_objective.pareto import is_non_dominated

from design.acquisition.batch import suggest
from design.acquisition.hypervolume import hvi as _hvi
from design.acquisition.hypervolume import hvi_bound, hypervolume, reference_point
from physics.errors import ConfigError, DataError
from physics.schema import Axis, RecipeSpace
from physics.table import empty_table
from tests.surrogate.data import simulated_table

torch.set_num_threads(2)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return simulated_table(12, landscape="shifted-optimum", seed=11)


def _keys(recipes) -> set[tuple[float, float, float]]:
    return {tuple(np.round(r, 6)) for r in np.asarray(recipes, float).reshape(-1, 3)}


@pytest.mark.parametrize("strategy", ["physics-gp", "gp", "sobol"])
def test_suggestions_on_grid_new_and_not_pending(table, strategy):
    space = RecipeSpace()
    pending = [
        {"zbo_fraction": 0.3, "sinter_temperature_c": 1100.0},
        {"zbo_fraction": 0.25, "sinter_temperature_c": 1050.0, "dwell_h": 6.0},
    ]
    out = suggest(table, space=space, batch_size=4, strategy=strategy, pending=pending, seed=1)
    assert len(out) == 4
    recipes = np.array(
        [[s.recipe[c] for c in ("zbo_fraction", "sinter_temperature_c", "dwell_h")] for s in out]
    )
    for r in recipes:
        space.validate(
            dict(zip(("zbo_fraction", "sinter_temperature_c", "dwell_h"), r, strict=True))
        )
    assert len(_keys(recipes)) == 4
    measured = _keys(table[["zbo_fraction", "sinter_temperature_c", "dwell_h"]].to_numpy())
    assert not _keys(recipes) & measured
    assert not _keys(recipes) & {(0.3, 1100.0, 6.0), (0.25, 1050.0, 6.0)}
    if strategy != "sobol":
        for s in out:
            assert 0 < s.p_feasible <= 1 and s.mean["sigma_total_ms_cm"] > 0


def test_suggestions_follow_a_coarse_announced_grid(table):
    space = RecipeSpace(
        zbo_fraction=Axis("zbo_fraction", 0.0, 0.4, 0.05),
        sinter_temperature_c=Axis("sinter_temperature_c", 950.0, 1250.0, 50.0),
    )
    for s in suggest(table.iloc[:0], space=space, batch_size=3):
        space.validate(s.recipe)


@pytest.mark.parametrize("strategy", ["physics-gp", "gp"])
@pytest.mark.parametrize("objective", ["multi", "sigma"])
def test_avoids_a_region_where_every_sample_cracked(strategy, objective):
    """Where the loop wants to go first, every pellet cracked: around each first choice a
    3 x 3 block of cracked samples (steps 0.02, 20 C). The next suggestions may not fall in
    a block (+-0.02, +-20 C), which holds unmeasured grid recipes between the cracked ones."""
    base = simulated_table(10, landscape="shifted-optimum", seed=5)
    first = suggest(base, batch_size=2, strategy=strategy, objective=objective)
    centres = [(s.recipe["zbo_fraction"], s.recipe["sinter_temperature_c"]) for s in first]
    space = RecipeSpace()
    rows = []
    for cx, ct in centres:
        for dx in (-0.02, 0.0, 0.02):
            for dt in (-20.0, 0.0, 20.0):
                r = space.snap({"zbo_fraction": cx + dx, "sinter_temperature_c": ct + dt})
                rows.append({**r, "sample_id": f"c{len(rows)}", "status": "cracked"})
    cracked = pd.DataFrame(rows).drop_duplicates(["zbo_fraction", "sinter_temperature_c"])
    data = pd.concat([base, cracked], ignore_index=True)
    out = suggest(data, batch_size=4, strategy=strategy, objective=objective)
    for s in out:
        for cx, ct in centres:
            inside = (
                abs(s.recipe["zbo_fraction"] - cx) <= 0.02 + 1e-9
                and abs(s.recipe["sinter_temperature_c"] - ct) <= 20 + 1e-9
            )
            assert not inside, (s.recipe, centres)


@pytest.mark.parametrize("strategy", ["physics-gp", "gp", "sobol"])
def test_cold_start(strategy):
    out = suggest(empty_table(), batch_size=3, strategy=strategy, seed=2)
    assert len(_keys([[s.recipe[k] for k in s.recipe] for s in out])) == 3


def test_cold_start_physics_prior_goes_for_the_paper_optimum():
    out = suggest(None, batch_size=2, objective="sigma")
    for s in out:
        assert 0.1 <= s.recipe["zbo_fraction"] <= 0.35


def test_bad_options_are_config_errors(table):
    with pytest.raises(ConfigError, match="sigma_total_ms_cm, ccd_ma_cm2, electronic_fraction"):
        suggest(table, thresholds={"density": 0.9})
    with pytest.raises(ConfigError, match="multi, sigma"):
        suggest(table, objective="pareto")
    with pytest.raises(ConfigError, match="at least 1"):
        suggest(table, batch_size=0)
    with pytest.raises(ConfigError, match=r"\(0, 1\)"):
        suggest(table, thresholds={"electronic_fraction": 5})
    with pytest.raises(ConfigError, match="physics-gp, gp, sobol"):
        suggest(table, strategy="random")
    with pytest.raises(ConfigError, match="off its grid"):
        suggest(table, pending=[{"zbo_fraction": 0.123, "sinter_temperature_c": 1000}])
    with pytest.raises(DataError, match="duplicate"):
        suggest(table.assign(sample_id="x"))


def test_hvi_matches_botorch_hypervolume():
    gen = torch.Generator().manual_seed(0)
    ref = torch.tensor([0.0, 0.0, 0.0], dtype=torch.double)
    front = torch.rand(5, 7, 3, generator=gen, dtype=torch.double) * 2 - 0.3
    Y = torch.rand(5, 11, 3, generator=gen, dtype=torch.double) * 2 - 0.3
    got = _hvi(Y, front, ref)
    hv = Hypervolume(ref)

    def volume(P):
        P = P[(P > ref).all(-1)]
        return hv.compute(P[is_non_dominated(P)]) if len(P) else 0.0

    for s in range(5):
        for c in range(11):
            want = volume(torch.cat([front[s], Y[s, c : c + 1]])) - volume(front[s])
            assert float(got[s, c]) == pytest.approx(want, abs=1e-9)


def test_hvi_bound_is_an_upper_bound_and_exact_for_one_point():
    gen = torch.Generator().manual_seed(1)
    ref = torch.tensor([0.0, 0.0, 0.0], dtype=torch.double)
    front = torch.rand(6, 9, 3, generator=gen, dtype=torch.double) * 2 - 0.3
    Y = torch.rand(6, 40, 3, generator=gen, dtype=torch.double) * 2 - 0.3
    exact, bound = _hvi(Y, front, ref), hvi_bound(Y, front, ref)
    assert (bound >= exact - 1e-12).all()
    assert (bound > exact + 1e-6).any()  # not the exact value with several front points
    one = front[:, :1]
    torch.testing.assert_close(hvi_bound(Y, one, ref), _hvi(Y, one, ref))


def test_hypervolume_of_measured_rows(table):
    assert hypervolume(empty_table()) == 0.0
    hv = hypervolume(table)
    assert hv > 0
    best = table.iloc[[0]].assign(
        sample_id="best",
        status="ok",
        sigma_total_ms_cm=3.0,
        ccd_ma_cm2=2.0,
        electronic_fraction=0.001,
    )
    assert hypervolume(pd.concat([table, best])) > hv
    ref = reference_point({"sigma_total_ms_cm": 1.0})
    assert float(ref[0]) == pytest.approx(0.0)
    assert hypervolume(table, {"sigma_total_ms_cm": 100.0}) == 0.0


@pytest.mark.slow
def test_dwell_free_space(table):
    """A freed dwell gives 98k candidates: pre-screened, still on the grid and new."""
    space = RecipeSpace(dwell_free=True)
    out = suggest(table, space=space, batch_size=2)
    assert len(out) == 2
    for s in out:
        space.validate(s.recipe)
