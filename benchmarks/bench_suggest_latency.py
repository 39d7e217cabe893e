"""Latency of one ``suggest`` (batch 4, 3 objectives, 60 data points, 2 threads, in process).

Side by side:

- ours: ``design.acquisition.batch.suggest`` with the physics-gp surrogate (physics re-calibration,
  3 residual GPs, exact MC NEHVI over the 2091-recipe grid, greedy batch);
- the default BoTorch recipe: a ``SingleTaskGP`` per objective on the same transformed
  outcomes, ``qLogNoisyExpectedHypervolumeImprovement`` with the same reference point and
  ``optimize_acqf(q=4, num_restarts=10, raw_samples=512)`` over the continuous unit square,
  then snapped to the furnace grid.

Quality of what each proposes is judged on the truth of the landscape: the hypervolume gain
of the batch (true values, maximization form, reference of ``experiments.worlds.landscapes``) over
the data set's true hypervolume, and the best true conductivity in the batch.

Usage: ``.venv/bin/python benchmarks/bench_suggest_latency.py [--n-data 60] [--repeats 3]
[--landscape calibrated] [--skip-baseline]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from bench_campaigns import random_table as simulated_table

from design.acquisition.batch import reference_point, suggest
from experiments.worlds.landscapes import get_landscape, hypervolume
from physics.schema import OBJECTIVES, RecipeSpace
from surrogate.base import encode, to_model_space


def _true_objectives(land, recipes: np.ndarray) -> np.ndarray:
    p = land.true_properties(recipes[:, 0], recipes[:, 1], recipes[:, 2])
    ok = p["p_crack"] < 0.5
    obj = np.column_stack([p["sigma_total_ms_cm"], p["ccd_ma_cm2"], -p["electronic_fraction"]])
    return obj[ok]


def _quality(land, data_recipes: np.ndarray, batch: np.ndarray) -> tuple[float, float]:
    base = hypervolume(_true_objectives(land, data_recipes))
    both = hypervolume(_true_objectives(land, np.vstack([data_recipes, batch])))
    front = hypervolume(land.pareto_front().objectives)
    sig = land.true_properties(batch[:, 0], batch[:, 1], batch[:, 2])
    best = np.where(sig["p_crack"] < 0.5, sig["sigma_total_ms_cm"], 0.0).max()
    return (both - base) / front, float(best)


def _botorch_default(table, space: RecipeSpace, seed: int) -> np.ndarray:
    from botorch.acquisition.multi_objective.logei import (
        qLogNoisyExpectedHypervolumeImprovement,
    )
    from botorch.acquisition.multi_objective.objective import WeightedMCMultiOutputObjective
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import ModelListGP, SingleTaskGP
    from botorch.optim import optimize_acqf
    from gpytorch.mlls import SumMarginalLogLikelihood

    torch.manual_seed(seed)
    ok = table[table["status"] == "ok"]
    X = torch.as_tensor(encode(ok, space.bounds)[:, :2], dtype=torch.double)
    models = [
        SingleTaskGP(
            X,
            torch.as_tensor(to_model_space(n, ok[n].to_numpy(float)), dtype=torch.double)[:, None],
        )
        for n in OBJECTIVES
    ]
    model = ModelListGP(*models)
    fit_gpytorch_mll(SumMarginalLogLikelihood(model.likelihood, model))
    acqf = qLogNoisyExpectedHypervolumeImprovement(
        model,
        ref_point=reference_point(),
        X_baseline=X,
        prune_baseline=True,
        objective=WeightedMCMultiOutputObjective(
            torch.tensor([1.0, 1.0, -1.0], dtype=torch.double)
        ),
    )
    bounds = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.double)
    cand, _ = optimize_acqf(acqf, bounds=bounds, q=4, num_restarts=10, raw_samples=512)
    lo, hi = space.bounds
    raw = cand.detach().numpy() * (hi[:2] - lo[:2]) + lo[:2]
    return np.array(
        [[*space.snap({"zbo_fraction": a, "sinter_temperature_c": b}).values()] for a, b in raw]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-data", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--landscape", default="calibrated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(2)
    space = RecipeSpace()
    land = get_landscape(args.landscape)
    table = simulated_table(args.n_data, landscape=args.landscape, seed=args.seed)
    data_recipes = table[["zbo_fraction", "sinter_temperature_c", "dwell_h"]].to_numpy(float)
    print(
        f"data: {len(table)} rows ({int((table.status == 'ok').sum())} ok) on "
        f"'{args.landscape}', batch 4, torch threads {torch.get_num_threads()}"
    )

    t0 = time.perf_counter()
    out = suggest(table, space=space, batch_size=4, seed=args.seed)
    cold = time.perf_counter() - t0
    times = []
    for r in range(args.repeats):
        t0 = time.perf_counter()
        out = suggest(table, space=space, batch_size=4, seed=args.seed + r)
        times.append(time.perf_counter() - t0)
    ours = np.array(
        [[s.recipe[c] for c in ("zbo_fraction", "sinter_temperature_c", "dwell_h")] for s in out]
    )
    gain, best = _quality(land, data_recipes, ours)
    print(
        f"ours (physics-gp, grid NEHVI): first call {cold:.2f} s (incl. imports/warm-up), "
        f"then {np.mean(times):.2f} s mean of {args.repeats} (min {np.min(times):.2f} s)"
    )
    print(f"  batch {ours[:, :2].tolist()}")
    print(f"  true HV gain {gain:.4f} of the true front's HV; best true sigma {best:.3f} mS/cm")

    if args.skip_baseline:
        return
    t0 = time.perf_counter()
    base = _botorch_default(table, space, args.seed)
    t_base = time.perf_counter() - t0
    gain_b, best_b = _quality(land, data_recipes, base)
    print(f"BoTorch default (SingleTaskGP x3 + qLogNEHVI + optimize_acqf 10x512): {t_base:.2f} s")
    print(f"  batch {base[:, :2].tolist()}")
    print(f"  true HV gain {gain_b:.4f} of the true front's HV; best true sigma {best_b:.3f} mS/cm")
    best_data = np.where(
        table.status == "ok",
        land.true_properties(data_recipes[:, 0], data_recipes[:, 1], data_recipes[:, 2])[
            "sigma_total_ms_cm"
        ],
        0,
    ).max()
    print(
        f"speed-up {t_base / np.mean(times):.1f}x; best true sigma already in the data "
        f"{best_data:.3f} (landscape optimum {land.best_sigma_total_ms_cm():.3f})"
    )


if __name__ == "__main__":
    main()
