"""Held-out accuracy: RMSE of log10 sigma_total at 5, 10 and 20 training points.

physics-gp against the plain gp baseline, on each landscape: training sets of random grid
recipes sintered with scatter and cracking, a held-out set of 200 other random recipes
(scored on the uncracked ones, against the measured, noisy values; the noise floor is
about 0.02 in log10 units). Also the 95 % interval coverage of each.

Usage: ``.venv/bin/python benchmarks/bench_accuracy.py [--repeats 5]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from bench_campaigns import sinter

from experiments.worlds.landscapes import LANDSCAPES, get_landscape
from physics.schema import RecipeSpace
from surrogate import holdout_validate

SIZES = (5, 10, 20)
LN10 = np.log(10.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-test", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(2)
    grid = RecipeSpace().grid()
    t0 = time.perf_counter()
    print(
        f"held-out RMSE of log10 sigma_total (mean of {args.repeats} repeats; "
        f"95 % coverage in brackets), {args.n_test} held-out recipes"
    )
    print(f"{'landscape':<16}{'n train':>8}{'physics-gp':>18}{'gp':>18}")
    for name in LANDSCAPES:
        land = get_landscape(name)
        for n in SIZES:
            scores: dict[str, list[tuple[float, float]]] = {"physics-gp": [], "gp": []}
            for rep in range(args.repeats):
                rng = np.random.default_rng(100 * rep + n)
                idx = rng.choice(len(grid), n + args.n_test, replace=False)
                train = sinter(land, grid[idx[:n]], rng)
                test = sinter(land, grid[idx[n:]], rng, start=n)
                for strategy in scores:
                    rep_ = holdout_validate(strategy, train, test, seed=rep)
                    scores[strategy].append(
                        (rep_.rmse["sigma_total_ms_cm"] / LN10, rep_.coverage["sigma_total_ms_cm"])
                    )
            cells = []
            for strategy in ("physics-gp", "gp"):
                arr = np.array(scores[strategy])
                cells.append(f"{arr[:, 0].mean():.3f} [{arr[:, 1].mean():.0%}]")
            print(f"{name:<16}{n:>8}{cells[0]:>18}{cells[1]:>18}")
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
