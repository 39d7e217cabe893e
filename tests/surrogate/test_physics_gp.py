"""physics-gp against the data-only gp on benchmark worlds, scored on the noise-free truth.

Training rows: the first n grid recipes of a scrambled Sobol sequence (as in
``benchmarks/bench_accuracy.py``), one simulated pellet each; held out: 40 random grid
recipes that survive the furnace. Errors in model space (log sigma, log CCD, logit t_e).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import qmc

from experiments.worlds import mechanistic_world, process_model_world
from experiments.worlds.landscapes import FEASIBLE_P_CRACK, default_grid
from physics.schema import OBJECTIVES
from surrogate import make_surrogate
from surrogate.base import to_model_space

Z95 = 1.959963984540054


def _sobol_recipes(n: int, seed: int) -> np.ndarray:
    u = qmc.Sobol(d=2, scramble=True, seed=seed).random(64)
    out: list[tuple[float, float]] = []
    for r in zip(np.round(u[:, 0] * 50) / 100, 900.0 + 10.0 * np.round(u[:, 1] * 40), strict=True):
        if r not in out:
            out.append(r)
    return np.array([[x, t, 6.0] for x, t in out[:n]])


def _scores(world, n: int, seed: int) -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """``{strategy: {objective: (errors (40,), latent sd (40,))}}`` on held-out recipes."""
    table = world.measure_table(_sobol_recipes(n, seed), np.random.default_rng(seed))
    grid = default_grid()
    p = world.true_properties(grid[:, 0], grid[:, 1], grid[:, 2])
    ok = np.flatnonzero(p["p_crack"] < FEASIBLE_P_CRACK)
    idx = np.random.default_rng(100 + seed).choice(ok, 40, replace=False)
    out = {}
    for strategy in ("physics-gp", "gp"):
        pred = make_surrogate(strategy).fit(table).predict(grid[idx])
        out[strategy] = {
            name: (
                pred.latent_mean[name] - to_model_space(name, p[name][idx]),
                pred.latent_sd[name],
            )
            for name in OBJECTIVES
        }
    return out


def _rmse(err: np.ndarray) -> float:
    return float(np.sqrt(np.mean(err**2)))


@pytest.fixture(scope="module")
def right() -> list[dict]:
    """Process-model worlds (the physics' form is right), 5 rows each."""
    return [_scores(process_model_world(i), 5, i) for i in range(4)]


@pytest.fixture(scope="module")
def wrong() -> list[dict]:
    """Mechanistic worlds (written apart from the physics), 10 rows each."""
    return [_scores(mechanistic_world(i), 10, i) for i in range(6)]


def test_where_the_physics_is_right_it_is_clearly_better_than_gp_with_5_rows(right):
    for name in OBJECTIVES:
        ratios = [_rmse(s["physics-gp"][name][0]) / _rmse(s["gp"][name][0]) for s in right]
        assert np.mean(ratios) < 0.8, (name, ratios)


def test_where_the_physics_is_wrong_it_stays_within_15_percent_of_gp_with_10_rows(wrong):
    for name in OBJECTIVES:
        ratios = [_rmse(s["physics-gp"][name][0]) / _rmse(s["gp"][name][0]) for s in wrong]
        assert np.mean(ratios) <= 1.15, (name, ratios)


def test_95_percent_intervals_cover_the_noise_free_truth(right, wrong):
    """Where the physics is wrong the intervals still hold most of the truth; where it is
    right they hold it while being narrower than those of the data-only GP (with 5 rows
    they are still on the wide side: 99 % of the truth)."""
    for worlds, low, high in ((wrong, 0.75, 0.99), (right, 0.85, 1.0)):
        hits = [
            np.abs(s["physics-gp"][n][0]) <= Z95 * s["physics-gp"][n][1]
            for s in worlds
            for n in OBJECTIVES
        ]
        coverage = float(np.mean(np.concatenate(hits)))
        assert low <= coverage <= high, coverage
    width = {k: np.mean([s[k][n][1].mean() for s in right for n in OBJECTIVES]) for k in right[0]}
    assert width["physics-gp"] < 0.7 * width["gp"], width
