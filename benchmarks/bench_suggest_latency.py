"""``gbs suggest``'s acquisition against BoTorch's own discrete route, on the same surrogate.

Both routes get the same fitted physics-gp surrogate (``surrogate.make_surrogate``, used only
through the :class:`surrogate.base.AcquisitionSurrogate` protocol), the same candidate grid
(the 2091 furnace recipes less the measured ones, less those with ``p_feasible <
MIN_P_FEASIBLE`` while enough remain), the same reference point (the default thresholds,
model space) and a batch of 4:

- ours: :func:`design.acquisition.batch.suggest` (exact NEHVI on every grid candidate from
  128 quasi-MC conditional samples, times ``p_feasible``, lazy greedy batch);
- BoTorch: ``qLogNoisyExpectedHypervolumeImprovement`` on ``posterior_model()`` (128 Sobol
  samples, ``X_baseline`` = the measured ok recipes, ``prune_baseline=True``, ``cache_root``
  where BoTorch supports the model), plus ``log p_feasible`` of each point (the same
  feasibility weighting as ours), maximized by ``optimize_acqf_discrete(q=4)`` over the same
  candidates (sequential greedy with ``X_pending``).

Figures, at 20, 40 and 60 measured rows:

- latency of the acquisition alone (the surrogate is fitted once, outside the clock, and
  its fit time printed apart): median wall time over the worlds (``--repeats`` calls per
  world), and the median process CPU time (the machine may be shared: CPU time is what
  load does not inflate);
- quality: the hypervolume gained by the 4 recipes on the truth of independent worlds
  (``experiments.worlds.mechanistic_world`` seeds, ``--worlds`` of them): true objectives
  of the measured ok recipes plus the batch (a recipe counts when its true ``p_crack <
  0.5``), model space, reference point at the default thresholds, as a fraction of the
  hypervolume of the world's true grid front; median and 10th percentile over worlds.

Usage: ``PYTHONPATH=.:benchmarks .venv/bin/python benchmarks/bench_suggest_latency.py
[--rows 20,40,60] [--worlds 10] [--repeats 1] [--seed 0] [--jobs 2]`` (``--jobs``: worlds in
parallel processes, one torch thread each; the figures in ``design/acquisition/batch.py``
came from ``--jobs 2``)
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
import torch
from botorch.acquisition import AcquisitionFunction
from botorch.acquisition.cached_cholesky import supports_cache_root
from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
from botorch.acquisition.multi_objective.objective import WeightedMCMultiOutputObjective
from botorch.optim import optimize_acqf_discrete
from botorch.sampling import SobolQMCNormalSampler
from botorch.utils.multi_objective.hypervolume import Hypervolume
from botorch.utils.multi_objective.pareto import is_non_dominated

from design.acquisition.batch import MIN_P_FEASIBLE, suggest
from design.acquisition.hypervolume import reference_point
from experiments.worlds import mechanistic_world
from experiments.worlds.landscapes import FEASIBLE_P_CRACK
from physics.schema import MAXIMIZE, OBJECTIVES, RECIPE_COLUMNS, RecipeSpace
from surrogate import make_surrogate
from surrogate.base import split_noise_columns, to_model_space

BATCH = 4
SIGN = np.array([1.0 if MAXIMIZE[n] else -1.0 for n in OBJECTIVES])


class Prefitted:
    """A fitted surrogate whose ``fit`` does nothing: times the acquisition alone."""

    def __init__(self, surrogate: Any) -> None:
        self.s = surrogate

    def fit(self, table: pd.DataFrame) -> Prefitted:
        return self

    def predict(self, recipes: Any) -> Any:
        return self.s.predict(recipes)

    def encode(self, recipes: Any) -> np.ndarray:
        return self.s.encode(recipes)

    def p_feasible(self, Xn: np.ndarray) -> np.ndarray:
        return self.s.p_feasible(Xn)

    def posterior_model(self) -> Any:
        return self.s.posterior_model()


class FeasibilityWeighted(AcquisitionFunction):
    """``log acq(X) + sum_q log p_feasible(x_q)``: an acquisition times the feasibility."""

    def __init__(self, acqf: AcquisitionFunction, surrogate: Any) -> None:
        torch.nn.Module.__init__(self)  # no X_pending of its own: the wrapped one's
        self.model, self.acqf, self.surrogate = acqf.model, acqf, surrogate

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        pf = self.surrogate.p_feasible(X.detach().reshape(-1, X.shape[-1]).numpy())
        log_pf = torch.as_tensor(np.log(np.clip(pf, 1e-12, None))).reshape(X.shape[:-1])
        return self.acqf(X) + log_pf.to(X).sum(-1)

    @property
    def X_pending(self) -> torch.Tensor | None:  # type: ignore[override]
        return self.acqf.X_pending

    def set_X_pending(self, X_pending: torch.Tensor | None = None) -> None:
        self.acqf.set_X_pending(X_pending)


def botorch_route(surrogate: Any, table: pd.DataFrame, space: RecipeSpace, seed: int) -> np.ndarray:
    """The batch (4, 3) of qLogNEHVI x p_feasible + optimize_acqf_discrete on our grid."""
    model = surrogate.posterior_model()
    clean, _ = split_noise_columns(table, space.default_dwell_h)
    measured = {tuple(np.round(r, 6)) for r in clean[list(RECIPE_COLUMNS)].to_numpy(float)}
    grid = space.grid()
    candidates = grid[[tuple(np.round(r, 6)) not in measured for r in grid]]
    Xc = surrogate.encode(candidates)
    pf = surrogate.p_feasible(Xc)
    if (pf >= MIN_P_FEASIBLE).sum() >= BATCH:
        candidates, Xc = candidates[pf >= MIN_P_FEASIBLE], Xc[pf >= MIN_P_FEASIBLE]
    X_base = torch.as_tensor(surrogate.encode(clean[clean["status"] == "ok"]), dtype=torch.double)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        acqf = qLogNoisyExpectedHypervolumeImprovement(
            model,
            ref_point=reference_point().tolist(),
            X_baseline=X_base,
            sampler=SobolQMCNormalSampler(torch.Size([128]), seed=seed),
            objective=WeightedMCMultiOutputObjective(torch.tensor(SIGN, dtype=torch.double)),
            prune_baseline=True,
            cache_root=supports_cache_root(model),
        )
        choices = torch.as_tensor(Xc, dtype=torch.double)
        with torch.no_grad():
            X, _ = optimize_acqf_discrete(
                FeasibilityWeighted(acqf, surrogate), q=BATCH, choices=choices, unique=True
            )
    rows = [int(torch.nonzero((choices == x).all(-1))[0, 0]) for x in X]
    return candidates[rows]


def ours_route(surrogate: Any, table: pd.DataFrame, space: RecipeSpace, seed: int) -> np.ndarray:
    out = suggest(table, space=space, batch_size=BATCH, seed=seed, surrogate=Prefitted(surrogate))
    return np.array([[s.recipe[c] for c in RECIPE_COLUMNS] for s in out])


def true_model_space(world: Any, recipes: np.ndarray) -> np.ndarray:
    """(n', 3) true objectives (maximization form, model space) of the feasible recipes."""
    p = world.true_properties(recipes[:, 0], recipes[:, 1], recipes[:, 2])
    ok = np.asarray(p["p_crack"]) < FEASIBLE_P_CRACK
    Y = np.column_stack(
        [
            to_model_space(n, np.asarray(p[n], float)) * s
            for n, s in zip(OBJECTIVES, SIGN, strict=True)
        ]
    )
    return Y[ok]


def hv(Y: np.ndarray) -> float:
    ref = reference_point()
    Yt = torch.as_tensor(Y, dtype=torch.double).reshape(-1, 3)
    Yt = Yt[(Yt > ref).all(-1)]
    return float(Hypervolume(ref).compute(Yt[is_non_dominated(Yt)])) if len(Yt) else 0.0


def gain(world: Any, table: pd.DataFrame, batch: np.ndarray, front_hv: float) -> float:
    ok = table[table["status"] == "ok"][list(RECIPE_COLUMNS)].to_numpy(float)
    before = hv(true_model_space(world, ok))
    after = hv(true_model_space(world, np.vstack([ok, batch])))
    return (after - before) / front_hv


def world_table(world: Any, n: int, seed: int, space: RecipeSpace) -> pd.DataFrame:
    """``n`` distinct random grid recipes measured (with scatter and cracking) on ``world``."""
    grid = space.grid()
    rng = np.random.default_rng(seed)
    return world.measure_table(grid[rng.choice(len(grid), n, replace=False)], rng)


def timed(fn: Any, *args: Any) -> tuple[Any, float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - w0, time.process_time() - c0


def run_task(task: tuple[int, int, int, int, int]) -> dict[str, Any]:
    """One (rows, world): fit once, then each route ``repeats`` times; times and gains."""
    n, i, seed, repeats, threads = task
    torch.set_num_threads(threads)
    space = RecipeSpace()
    world = mechanistic_world(seed + i)
    front = hv(true_model_space(world, space.grid()))
    table = world_table(world, n, seed + 100 * i + n, space)
    sur = make_surrogate(
        "physics-gp", seed=seed, bounds=space.bounds, default_dwell_h=space.default_dwell_h
    )
    _, fit_wall, _ = timed(sur.fit, table)
    out: dict[str, Any] = {"n": n, "world": i, "fit": fit_wall}
    for name, route in ROUTES.items():
        walls, cpus = [], []
        for r in range(repeats):
            batch, wall, cpu = timed(route, sur, table, space, seed + r)
            walls.append(wall)
            cpus.append(cpu)
            if r == 0:
                out[name] = {"gain": gain(world, table, batch, front), "wall": walls, "cpu": cpus}
    print(
        f"  {n} rows, world {i}: HV gain ours {out['ours']['gain']:.4f} "
        f"({np.median(out['ours']['wall']):.1f} s), botorch {out['botorch']['gain']:.4f} "
        f"({np.median(out['botorch']['wall']):.1f} s)",
        flush=True,
    )
    return out


ROUTES = {"ours": ours_route, "botorch": botorch_route}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="20,40,60")
    parser.add_argument("--worlds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=1, help="calls per world and route")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="worlds run in parallel processes")
    args = parser.parse_args()
    threads = max(1, 2 // args.jobs)
    space = RecipeSpace()
    rows = [int(r) for r in args.rows.split(",")]
    print(
        f"physics-gp surrogate, batch {BATCH}, grid {len(space.grid())} recipes, "
        f"torch threads {threads} x {args.jobs} process(es); worlds: mechanistic seeds "
        f"{args.seed}..{args.seed + args.worlds - 1}",
        flush=True,
    )
    tasks = [(n, i, args.seed, args.repeats, threads) for n in rows for i in range(args.worlds)]
    if args.jobs > 1:
        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            results = pool.map(run_task, tasks, chunksize=1)
    else:
        results = [run_task(t) for t in tasks]
    print(
        f"\n{'rows':>4}  {'route':<8} {'wall s (median)':>15} {'cpu s (median)':>14} "
        f"{'HV gain median':>14} {'HV gain p10':>11}"
    )
    for n in rows:
        res = [r for r in results if r["n"] == n]
        for name in ROUTES:
            walls = [w for r in res for w in r[name]["wall"]]
            cpus = [c for r in res for c in r[name]["cpu"]]
            gains = [r[name]["gain"] for r in res]
            print(
                f"{n:>4}  {name:<8} {np.median(walls):>15.2f} {np.median(cpus):>14.2f} "
                f"{np.median(gains):>14.4f} {np.percentile(gains, 10):>11.4f}"
            )
        diff = np.array([r["botorch"]["gain"] - r["ours"]["gain"] for r in res])
        print(
            f"      botorch - ours per world: median {np.median(diff):+.4f}, "
            f"worse in {(diff < -1e-9).sum()}, better in {(diff > 1e-9).sum()} of {len(diff)}; "
            f"surrogate fit median {np.median([r['fit'] for r in res]):.2f} s wall "
            "(outside the times)"
        )
        e2e = [r["fit"] + float(np.median(r["ours"]["wall"])) for r in res]
        print(
            f"      gbs suggest's work (fit + ours) per world: median {np.median(e2e):.2f} s "
            f"wall, max {np.max(e2e):.2f} s (target <= 2 s at 60 rows)"
        )
    print(
        "HV gain: true hypervolume added by the 4 recipes / true grid front's hypervolume "
        f"(model space, reference at the default thresholds), over {args.worlds} worlds; "
        f"times: median over the {args.worlds} worlds x {args.repeats} call(s); CPU time is "
        "the process's (all its threads)."
    )


if __name__ == "__main__":
    main()
