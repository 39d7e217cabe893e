"""Held-out accuracy over families of worlds, against a default BoTorch GP on the same rows.

For each family of worlds and each world, for n = 5, 10, 20 training recipes:

- ``mechanistic``: :func:`experiments.worlds.mechanistic_world`, a model written apart from
  the process model, through the paper's numbers at 1000 C (the realistic case);
- ``discrepancy``: :func:`experiments.worlds.discrepancy_world`, the process model with
  random parameters plus a smooth random discrepancy (amplitude in
  :mod:`experiments.worlds.discrepancy`);
- ``process-model``: :func:`experiments.worlds.process_model_world`, the process model
  with random parameters (the prior's form is right);
- ``named``: the three landscapes of :mod:`experiments.worlds.landscapes`.

Per world:

- training recipes: the first n distinct grid points of a scrambled Sobol sequence over
  (x, T) (seeded by the world), dwell 6 h, each sintered once with the landscape's scatter
  and cracking (cracked rows stay in the table as ``cracked``); no paper rows;
- held-out recipes: 16 random grid points the furnace survives (true p_crack < 0.5), not
  in any training set, scored against the world's **noise-free truth** in model space
  (natural log sigma, natural log CCD, logit t_e);
- strategies side by side: ``botorch``, a default BoTorch ``SingleTaskGP`` per objective
  (inputs x and T in their own units with ``Normalize``, ``Standardize`` outcome, default
  priors and kernel, ``fit_gpytorch_mll``), our ``gp`` and our ``physics-gp``.

Printed per family, n, strategy and objective: the median and 90th percentile over worlds of
the ratio (strategy's held-out RMSE) / (botorch's RMSE on the same world), and the coverage
of the 95 % interval of the latent (noise-free) posterior, ``mean +- 1.96 sd``, pooled over
worlds and held-out recipes. The median held-out RMSE of botorch is printed for scale.

Usage: ``.venv/bin/python benchmarks/bench_accuracy.py [--worlds 30] [--workers 2]
[--families mechanistic,discrepancy,process-model,named] [--strategies botorch,gp,physics-gp]
[--json benchmarks/out/accuracy.json]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

SIZES = (5, 10, 20)
N_TEST = 16
DWELL_H = 6.0
OBJECTIVES = ("sigma_total_ms_cm", "ccd_ma_cm2", "electronic_fraction")
SHORT = {"sigma_total_ms_cm": "sigma", "ccd_ma_cm2": "ccd", "electronic_fraction": "t_e"}
Z95 = 1.959963984540054
DEFAULT_STRATEGIES = ("botorch", "gp", "physics-gp")


def world(family: str, index: int) -> Any:
    """World ``index`` of ``family``."""
    from experiments.worlds import discrepancy
    from experiments.worlds.landscapes import LANDSCAPES, get_landscape

    if family == "named":
        return get_landscape(LANDSCAPES[index])
    if family == "process-model":
        return discrepancy.process_model_world(index)
    if family == "discrepancy":
        return discrepancy.discrepancy_world(index)
    if family == "mechanistic":
        from experiments.worlds import mechanistic_world

        return mechanistic_world(index)
    raise SystemExit(f"unknown family {family!r}")


def sobol_recipes(n: int, seed: int) -> np.ndarray:
    """The first ``n`` distinct grid recipes (x, T, dwell) of a scrambled Sobol sequence."""
    from scipy.stats import qmc

    u = qmc.Sobol(d=2, scramble=True, seed=seed).random(64)
    x = np.round(np.round(u[:, 0] * 50) / 100, 2)
    t = 900.0 + 10.0 * np.round(u[:, 1] * 40)
    out: list[tuple[float, float]] = []
    for r in zip(x, t, strict=True):
        if r not in out:
            out.append(r)
        if len(out) == n:
            break
    return np.array([[a, b, DWELL_H] for a, b in out])


def test_recipes(land: Any, exclude: np.ndarray, seed: int) -> np.ndarray:
    """``N_TEST`` random feasible grid recipes, none of them in ``exclude``."""
    from experiments.worlds.landscapes import FEASIBLE_P_CRACK, default_grid

    grid = default_grid(DWELL_H)
    p = land.true_properties(grid[:, 0], grid[:, 1], grid[:, 2])
    seen = {tuple(np.round(r[:2], 6)) for r in exclude}
    ok = [
        i
        for i in range(len(grid))
        if p["p_crack"][i] < FEASIBLE_P_CRACK and tuple(np.round(grid[i, :2], 6)) not in seen
    ]
    idx = np.random.default_rng(seed).choice(ok, N_TEST, replace=False)
    return grid[idx]


def truth(land: Any, recipes: np.ndarray) -> dict[str, np.ndarray]:
    """Noise-free objectives in model space at ``recipes``."""
    from surrogate.base import to_model_space

    p = land.true_properties(recipes[:, 0], recipes[:, 1], recipes[:, 2])
    return {n: to_model_space(n, np.asarray(p[n], float)) for n in OBJECTIVES}


def botorch_default(table: Any, recipes: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Latent posterior mean and sd of a default SingleTaskGP per objective (model space)."""
    import torch
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms import Normalize, Standardize
    from gpytorch.mlls import ExactMarginalLogLikelihood

    from surrogate.base import to_model_space

    out = {}
    Xq = torch.as_tensor(recipes[:, :2], dtype=torch.double)
    for name in OBJECTIVES:
        rows = table[(table["status"] == "ok") & table[name].notna()]
        if len(rows) == 0:
            out[name] = (np.full(len(recipes), np.nan), np.full(len(recipes), np.nan))
            continue
        X = torch.as_tensor(
            rows[["zbo_fraction", "sinter_temperature_c"]].to_numpy(float).copy(),
            dtype=torch.double,
        )
        Y = torch.as_tensor(to_model_space(name, rows[name].to_numpy(float)), dtype=torch.double)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = SingleTaskGP(
                X, Y[:, None], input_transform=Normalize(d=2), outcome_transform=Standardize(m=1)
            )
            fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
            with torch.no_grad():
                post = model.posterior(Xq)
        out[name] = (
            post.mean.reshape(-1).numpy(),
            post.variance.clamp_min(0).sqrt().reshape(-1).numpy(),
        )
    return out


def ours(strategy: str, **kw: Any) -> Callable[[Any, np.ndarray], dict]:
    """Predictor of one of our strategies: ``(table, recipes) -> {objective: (mean, sd)}``."""

    def run(table: Any, recipes: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        from surrogate import make_surrogate

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pred = make_surrogate(strategy, **kw).fit(table).predict(recipes)
        return {n: (pred.latent_mean[n], pred.latent_sd[n]) for n in OBJECTIVES}

    return run


PREDICTORS: dict[str, Callable[[Any, np.ndarray], dict]] = {
    "botorch": botorch_default,
    "gp": ours("gp"),
    "physics-gp": ours("physics-gp"),
}


def run_world(family: str, index: int, strategies: tuple[str, ...]) -> dict:
    """Scores of every strategy at every n on one world: rmse and hits per objective."""
    import torch

    torch.set_num_threads(1)
    land = world(family, index)
    seed = 7919 * index + 17
    recipes = sobol_recipes(max(SIZES), seed)
    rng = np.random.default_rng(seed)
    full = land.measure_table(recipes, rng)
    test = test_recipes(land, recipes, seed + 1)
    true = truth(land, test)
    res: dict[str, Any] = {"family": family, "world": index, "scores": {}}
    for n in SIZES:
        table = full.iloc[:n].reset_index(drop=True)
        for strategy in strategies:
            torch.manual_seed(0)
            t0 = time.perf_counter()
            pred = PREDICTORS[strategy](table, test)
            sec = time.perf_counter() - t0
            cell: dict[str, Any] = {"seconds": sec}
            for name in OBJECTIVES:
                mean, sd = pred[name]
                err = mean - true[name]
                cell[name] = {
                    "rmse": float(np.sqrt(np.mean(err**2))),
                    "hits": int(np.sum(np.abs(err) <= Z95 * sd)),
                }
            res["scores"][f"{n}/{strategy}"] = cell
    return res


def summarize(results: list[dict], strategies: tuple[str, ...], ref: str = "botorch") -> None:
    """Print median / p90 ratio to ``ref`` and pooled coverage per family, n, strategy."""
    families = list(dict.fromkeys(r["family"] for r in results))
    head = "  ".join(f"{SHORT[o]:>15}" for o in OBJECTIVES)
    cov = "  ".join(f"{SHORT[o]:>5}" for o in OBJECTIVES)
    print(
        f"\nratio of held-out RMSE to {ref} (median / p90 over worlds); "
        "95 % coverage of the noise-free truth"
    )
    print(f"{'family':<14}{'n':>3} {'strategy':<14}{head}   cov {cov}   s/fit")
    for fam in families:
        rs = [r for r in results if r["family"] == fam]
        for n in SIZES:
            base = {
                o: np.array([r["scores"][f"{n}/{ref}"][o]["rmse"] for r in rs]) for o in OBJECTIVES
            }
            for strategy in strategies:
                cells, covs = [], []
                for o in OBJECTIVES:
                    rm = np.array([r["scores"][f"{n}/{strategy}"][o]["rmse"] for r in rs])
                    ratio = rm / base[o]
                    if strategy == ref:
                        cells.append(f"rmse {np.median(rm):.3f}".rjust(15))
                    else:
                        med, p90 = np.nanmedian(ratio), np.nanpercentile(ratio, 90)
                        cells.append(f"{med:.2f} / {p90:.2f}".rjust(15))
                    hits = sum(r["scores"][f"{n}/{strategy}"][o]["hits"] for r in rs)
                    covs.append(f"{hits / (N_TEST * len(rs)):5.0%}")
                sec = np.mean([r["scores"][f"{n}/{strategy}"]["seconds"] for r in rs])
                print(
                    f"{fam:<14}{n:>3} {strategy:<14}{'  '.join(cells)}       "
                    f"{'  '.join(covs)}   {sec:5.2f}"
                )
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=30, help="worlds per family")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--families", default="mechanistic,discrepancy,process-model,named")
    parser.add_argument("--strategies", default=",".join(DEFAULT_STRATEGIES))
    parser.add_argument("--json", type=Path, default=None, help="write the raw scores here")
    args = parser.parse_args()
    strategies = tuple(s for s in args.strategies.split(",") if s)
    unknown = [s for s in strategies if s not in PREDICTORS]
    if unknown:
        raise SystemExit(f"unknown strategies {unknown}; choose from {', '.join(PREDICTORS)}")
    if "botorch" not in strategies:
        strategies = ("botorch", *strategies)
    tasks = []
    for fam in args.families.split(","):
        count = 3 if fam == "named" else args.worlds
        tasks += [(fam, i, strategies) for i in range(count)]
    t0 = time.perf_counter()
    results = []
    print(f"{len(tasks)} worlds, strategies {', '.join(strategies)}, {args.workers} workers")
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = [pool.submit(run_world, *t) for t in tasks]
        for k, fut in enumerate(futures, 1):
            results.append(fut.result())
            if k % 5 == 0 or k == len(futures):
                print(f"  {k}/{len(futures)} worlds done, {time.perf_counter() - t0:.0f} s")
                sys.stdout.flush()
    summarize(results, strategies)
    print(f"total {time.perf_counter() - t0:.0f} s")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results))


if __name__ == "__main__":
    main()
