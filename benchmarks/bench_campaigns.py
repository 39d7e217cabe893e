"""Sample efficiency in simulated campaigns, on named landscapes or on families of worlds.

Each campaign starts from an empty table and runs batches of 4 recipes through
``design.acquisition.batch.suggest`` (strategies physics-gp, gp, sobol), through a default
BoTorch loop (``botorch``, below) or through the paper's grid (x = 0..0.3 at 1000 C, coarse
to fine: 0, 0.1, 0.2, 0.3, then 0.05 steps, then 0.01 steps), sintering each recipe with
:meth:`Landscape.sample_pellet` (scatter and cracking).

Worlds: ``--landscapes`` runs every seed on each named landscape of
:mod:`experiments.worlds.landscapes`; ``--families`` (which replaces it) runs seed i on world
i of each family, as in ``benchmarks/bench_accuracy.py``:

- ``mechanistic``: :func:`experiments.worlds.mechanistic_world`, written apart from the
  process model, through the paper's numbers at 1000 C;
- ``discrepancy``: :func:`experiments.worlds.discrepancy_world`, the process model with
  random parameters plus a smooth random discrepancy;
- ``process-model``: :func:`experiments.worlds.process_model_world` (the prior's form is right).

``botorch``: the default BoTorch loop, written here: a ``SingleTaskGP`` per objective in model
space (log sigma, log CCD, -logit t_e) on the uncracked rows, inputs x and T with
``Normalize``, ``Standardize`` outcome, ``fit_gpytorch_mll`` (as ``bench_accuracy.py``'s
baseline), ``qLogNoisyExpectedHypervolumeImprovement`` (128 Sobol samples, pruned baseline,
reference point at the default thresholds, as ours) and ``optimize_acqf_discrete`` over the
same grid minus the measured recipes, batch by sequential greedy choice. It has no cracking
model (cracked rows are left out). Its first batch (and any batch with fewer than two
uncracked rows) is the scrambled Sobol design our ``gp`` starts with (same seed).

Metrics per campaign:

- experiments to 95 %: the number of experiments (cracked ones included) until a measured,
  uncracked recipe has a TRUE conductivity >= 95 % of the world's best feasible grid
  value (censored at the budget: reported as budget + 1 when never reached; the median is
  then a lower bound); the same to 99 %, a stricter level (8-13 % of the grid reaches
  95 % of the best, so space filling alone gets there in a few experiments);
- best true sigma found (uncracked) / the optimum, after the budget;
- relative hypervolume after k experiments (``--hv-at``, default 10, 12 and 20): HV of the
  TRUE objectives of the uncracked measured recipes / HV of the true Pareto front
  (``Landscape.relative_hypervolume``).

Printed per world group and strategy: median, IQR and 90th percentile over seeds of
experiments to 95 % and 99 %, and median and IQR of the relative hypervolumes; then, per
group, whether physics-gp beats gp and botorch on the median experiments to 99 % and the
median hypervolume at the second ``--hv-at`` value.

Usage: ``.venv/bin/python benchmarks/bench_campaigns.py [--seeds 20] [--budget 24]
[--workers 2] [--landscapes calibrated,... | --families mechanistic,discrepancy]
[--strategies physics-gp,gp,sobol,paper-grid,botorch]``.
Curves (median and IQR over seeds) go to ``benchmarks/out/`` (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

RECIPE = ("zbo_fraction", "sinter_temperature_c", "dwell_h")
STRATEGIES = ("physics-gp", "gp", "sobol", "paper-grid", "botorch")
FAMILIES = ("mechanistic", "discrepancy", "process-model")
OUT = Path(__file__).resolve().parent / "out"


def sinter(land, recipes: np.ndarray, rng: np.random.Generator, start: int = 0) -> pd.DataFrame:
    """Measurement-table rows for one simulated pellet per recipe (n, 3)."""
    return land.measure_table(recipes, rng, start=start)


def random_table(n: int, landscape: str = "calibrated", seed: int = 0) -> pd.DataFrame:
    """``n`` distinct random grid recipes sintered on ``landscape``."""
    from experiments.worlds.landscapes import get_landscape
    from physics.schema import RecipeSpace

    grid = RecipeSpace().grid()
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(grid), n, replace=False)
    return sinter(get_landscape(landscape), grid[idx], rng)


def paper_grid() -> np.ndarray:
    xs: list[float] = []
    for step in (0.1, 0.05, 0.01):
        for x in np.round(np.arange(0, 0.3 + 1e-9, step), 2):
            if x not in xs:
                xs.append(float(x))
    return np.array([[x, 1000.0, 6.0] for x in xs])


def world(group: str, seed: int) -> Any:
    """The world of a campaign: a named landscape, or world ``seed`` of a family."""
    from experiments.worlds import discrepancy_world, mechanistic_world, process_model_world
    from experiments.worlds.landscapes import get_landscape

    family = {
        "mechanistic": mechanistic_world,
        "discrepancy": discrepancy_world,
        "process-model": process_model_world,
    }
    return family[group](seed) if group in family else get_landscape(group)


def botorch_batch(table: pd.DataFrame, n: int, seed: int) -> np.ndarray:
    """The default BoTorch loop's next ``n`` recipes (module docstring), shape (n, 3)."""
    import torch
    from botorch.acquisition.multi_objective.logei import (
        qLogNoisyExpectedHypervolumeImprovement,
    )
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import ModelListGP, SingleTaskGP
    from botorch.models.transforms import Normalize, Standardize
    from botorch.optim import optimize_acqf_discrete
    from botorch.sampling import SobolQMCNormalSampler
    from gpytorch.mlls import ExactMarginalLogLikelihood

    from design.acquisition.hypervolume import reference_point
    from physics.schema import MAXIMIZE, OBJECTIVES, RecipeSpace
    from surrogate.base import to_model_space

    ok = table[table["status"] == "ok"].dropna(subset=list(OBJECTIVES)) if len(table) else []
    if len(ok) < 2:
        from design.acquisition.batch import suggest

        out = suggest(table, batch_size=n, strategy="sobol", seed=seed)
        return np.array([[s.recipe[c] for c in RECIPE] for s in out])
    grid = RecipeSpace().grid()
    measured = {tuple(np.round(r, 6)) for r in table[list(RECIPE)].to_numpy(float)}
    free = grid[[tuple(np.round(r, 6)) not in measured for r in grid]]
    torch.manual_seed(seed)
    X = torch.as_tensor(ok[list(RECIPE[:2])].to_numpy(float).copy(), dtype=torch.double)
    models = []
    for name in OBJECTIVES:
        y = to_model_space(name, ok[name].to_numpy(float)) * (1.0 if MAXIMIZE[name] else -1.0)
        Y = torch.as_tensor(y, dtype=torch.double)[:, None]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = SingleTaskGP(
                X, Y, input_transform=Normalize(d=2), outcome_transform=Standardize(m=1)
            )
            fit_gpytorch_mll(ExactMarginalLogLikelihood(m.likelihood, m))
        models.append(m)
    acq = qLogNoisyExpectedHypervolumeImprovement(
        model=ModelListGP(*models),
        ref_point=reference_point(),
        X_baseline=X,
        sampler=SobolQMCNormalSampler(torch.Size([128]), seed=seed),
        prune_baseline=True,
    )
    choices = torch.as_tensor(free[:, :2], dtype=torch.double)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cand, _ = optimize_acqf_discrete(acq, q=n, choices=choices, max_batch_size=512)
    xt = cand.numpy()
    return np.column_stack([xt, np.full(len(xt), grid[0, 2])])


def run_campaign(
    group: str, strategy: str, seed: int, budget: int, batch: int, objective: str
) -> dict:
    """One campaign; returns the true objectives of its measured recipes in order."""
    import torch

    from design.acquisition.batch import suggest

    torch.set_num_threads(1)
    land = world(group, seed)
    rng = np.random.default_rng(1000 + seed)
    table = sinter(land, np.zeros((0, 3)), rng)
    plan = paper_grid() if strategy == "paper-grid" else None
    t0 = time.perf_counter()
    while len(table) < budget:
        n = min(batch, budget - len(table))
        if plan is not None:
            if len(table) >= len(plan):
                break
            recipes = plan[len(table) : len(table) + n]
        elif strategy == "botorch":
            recipes = botorch_batch(table, n, seed * 1000 + len(table))
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = suggest(
                    table,
                    batch_size=n,
                    strategy=strategy,
                    seed=seed * 1000 + len(table),
                    objective=objective,
                )
            recipes = np.array([[s.recipe[c] for c in RECIPE] for s in out])
        table = pd.concat([table, sinter(land, recipes, rng, len(table))], ignore_index=True)
    seconds = time.perf_counter() - t0
    rec = table[list(RECIPE)].to_numpy(float)
    true = land.true_properties(rec[:, 0], rec[:, 1], rec[:, 2])
    res = {
        "group": group,
        "strategy": strategy,
        "seed": seed,
        "ok": (table["status"] == "ok").to_numpy(),
        "true": np.column_stack(
            [true["sigma_total_ms_cm"], true["ccd_ma_cm2"], -true["electronic_fraction"]]
        ),
        "seconds": seconds,
    }
    return _metrics(res, land, budget)


def _metrics(res: dict, land: Any, budget: int) -> dict:
    from experiments.worlds.landscapes import hypervolume

    front_hv = hypervolume(land.pareto_front().objectives)
    best = land.best_sigma_total_ms_cm()
    sig = np.where(res["ok"], res["true"][:, 0], 0.0)
    n_to = {}
    for level in (0.95, 0.99):
        hit = np.flatnonzero(sig >= level * best)
        n_to[level] = int(hit[0]) + 1 if len(hit) else budget + 1
    curve_hv = []
    for k in range(1, budget + 1):
        k_eff = min(k, len(sig))
        obj = res["true"][:k_eff][res["ok"][:k_eff]]
        curve_hv.append(hypervolume(obj) / front_hv if len(obj) else 0.0)
    best_so_far = np.maximum.accumulate(np.pad(sig, (0, budget - len(sig)), mode="edge")) / best
    return {
        **res,
        "n_to_95": n_to[0.95],
        "n_to_99": n_to[0.99],
        "hv": np.array(curve_hv),
        "best_curve": best_so_far,
    }


def _plot(
    results: list[dict], groups: list[str], strategies: list[str], budget: int, objective: str
) -> Path:
    from matplotlib.figure import Figure

    OUT.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(5 * len(groups), 8), layout="constrained")
    axes = fig.subplots(2, len(groups), squeeze=False)
    k = np.arange(1, budget + 1)
    for j, group in enumerate(groups):
        for strat in strategies:
            rs = [r for r in results if r["group"] == group and r["strategy"] == strat]
            if not rs:
                continue
            for i, key in enumerate(("best_curve", "hv")):
                q25, med, q75 = np.percentile([r[key] for r in rs], [25, 50, 75], axis=0)
                (line,) = axes[i, j].plot(k, med, label=strat)
                axes[i, j].fill_between(k, q25, q75, color=line.get_color(), alpha=0.15)
        axes[0, j].axhline(0.99, color="grey", ls=":")
        axes[0, j].set(
            title=f"{group} ({len(rs)} seeds; median, IQR)",
            xlabel="experiments",
            ylabel="best true sigma / optimum",
        )
        axes[1, j].set(xlabel="experiments", ylabel="relative hypervolume (true values)")
        axes[0, j].legend(fontsize="small")
    name = "families" if set(groups) <= set(FAMILIES) else "landscapes"
    path = OUT / f"campaign_curves_{name}_{objective}.png"
    fig.savefig(path, dpi=110)
    return path


def _spread(v: np.ndarray) -> str:
    q25, med, q75, p90 = np.percentile(v, [25, 50, 75, 90])
    return f"{med:g} [{q25:g}-{q75:g}] {p90:g}"


def summarize(
    results: list[dict], groups: list[str], strategies: list[str], budget: int, hv_at: list[int]
) -> dict[tuple[str, str], dict[str, float]]:
    """Print the table (module docstring); returns the medians per (group, strategy)."""

    def txt(m: float) -> str:
        return f"{m:g}" if m <= budget else f">{budget}"

    hv_heads = "".join(f"{'HV@' + str(k) + ' med [IQR]':>24}" for k in hv_at)
    print(
        f"\nexperiments to 95 % / 99 % of the best true sigma: median [IQR] p90 over seeds "
        f"({budget + 1} = not reached); relative hypervolume of the true objectives; "
        f"best@{budget}: median best true sigma / optimum after {budget}"
    )
    print(
        f"{'world group':<15}{'strategy':<12}{'n->95%':>18}{'hit':>5}{'n->99%':>20}{'hit':>5}"
        f"{hv_heads}{'best@' + str(budget):>9}{'s/run':>7}"
    )
    summary: dict[tuple[str, str], dict[str, float]] = {}
    for group in groups:
        for strat in strategies:
            rs = [r for r in results if r["group"] == group and r["strategy"] == strat]
            if not rs:
                continue
            n95 = np.array([r["n_to_95"] for r in rs])
            n99 = np.array([r["n_to_99"] for r in rs])
            cell = {"median95": float(np.median(n95)), "median99": float(np.median(n99))}
            hv_txt = ""
            for k in hv_at:
                hv = np.array([r["hv"][min(k, budget) - 1] for r in rs])
                q25, med, q75 = np.percentile(hv, [25, 50, 75])
                cell[f"hv{k}"] = float(med)
                hv_txt += f"{f'{med:.3f} [{q25:.3f}-{q75:.3f}]':>24}"
            summary[group, strat] = cell
            print(
                f"{group:<15}{strat:<12}{_spread(n95):>18}{np.mean(n95 <= budget):>5.0%}"
                f"{_spread(n99):>20}{np.mean(n99 <= budget):>5.0%}{hv_txt}"
                f"{np.median([r['best_curve'][-1] for r in rs]):>9.3f}"
                f"{np.mean([r['seconds'] for r in rs]):>7.1f}"
            )
    k = hv_at[1] if len(hv_at) > 1 else hv_at[0]
    print(
        f"\ntargets: physics-gp better than gp and botorch on the median experiments to 99 % "
        f"(fewer; '>{budget}' = censored) and on the median HV@{k} (higher)"
    )
    for group in groups:
        s = {st: v for (g, st), v in summary.items() if g == group}
        if "physics-gp" not in s:
            continue
        p = s["physics-gp"]
        parts = []
        for other in ("gp", "botorch"):
            if other in s:
                o = s[other]
                parts.append(
                    f"vs {other}: n->99% {txt(p['median99'])} vs {txt(o['median99'])} "
                    f"{'MET' if p['median99'] < o['median99'] else 'MISSED'}, "
                    f"HV@{k} {p[f'hv{k}']:.3f} vs {o[f'hv{k}']:.3f} "
                    f"{'MET' if p[f'hv{k}'] > o[f'hv{k}'] else 'MISSED'}"
                )
        print(f"  {group}: " + "; ".join(parts))
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=24)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--objective", default="multi", choices=("multi", "sigma"))
    parser.add_argument("--landscapes", default="calibrated,shifted-optimum,phase-boundary")
    parser.add_argument(
        "--families",
        default=None,
        help=f"comma-separated families of worlds ({', '.join(FAMILIES)}); seed i runs on "
        "world i; replaces --landscapes",
    )
    parser.add_argument("--strategies", default="physics-gp,gp,sobol,paper-grid")
    parser.add_argument("--json", type=Path, default=None, help="write per-campaign figures here")
    parser.add_argument(
        "--hv-at", default="10,12,20", help="report relative hypervolume after these experiments"
    )
    args = parser.parse_args()
    from experiments.worlds.landscapes import LANDSCAPES

    if args.families:
        groups = args.families.split(",")
        bad = [g for g in groups if g not in FAMILIES]
        if bad:
            parser.error(f"unknown families {bad}; choose from {', '.join(FAMILIES)}")
    else:
        groups = args.landscapes.split(",")
        bad = [g for g in groups if g not in LANDSCAPES]
        if bad:
            parser.error(f"unknown landscapes {bad}; choose from {', '.join(LANDSCAPES)}")
    strategies = args.strategies.split(",")
    bad = [s for s in strategies if s not in STRATEGIES]
    if bad:
        parser.error(f"unknown strategies {bad}; choose from {', '.join(STRATEGIES)}")
    hv_at = [int(k) for k in args.hv_at.split(",")]
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    slow_first = sorted(strategies, key=lambda s: s != "botorch")  # the longest campaigns
    jobs = [
        (group, strat, seed, args.budget, args.batch, args.objective)
        for seed in seeds
        for strat in slow_first
        for group in groups
    ]
    print(
        f"{len(jobs)} campaigns: {', '.join(groups)} x {', '.join(strategies)} x seeds "
        f"{seeds.start}-{seeds.stop - 1}, budget {args.budget}, batch {args.batch}, objective "
        f"{args.objective}, {args.workers} workers x 1 thread"
    )
    sys.stdout.flush()
    t0 = time.perf_counter()
    results = []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = [pool.submit(run_campaign, *job) for job in jobs]
        for k, fut in enumerate(as_completed(futures), 1):
            r = fut.result()
            results.append(r)
            print(
                f"  [{k}/{len(jobs)} {time.perf_counter() - t0:.0f} s] {r['group']} seed "
                f"{r['seed']} {r['strategy']}: n->99% {r['n_to_99']}, "
                f"HV@{hv_at[-1]} {r['hv'][min(hv_at[-1], args.budget) - 1]:.3f}, "
                f"{r['seconds']:.0f} s"
            )
            sys.stdout.flush()
    print(f"{len(jobs)} campaigns in {time.perf_counter() - t0:.0f} s")
    summarize(results, groups, strategies, args.budget, hv_at)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        keys = ("group", "strategy", "seed", "n_to_95", "n_to_99", "seconds")
        rows = [
            {**{k: r[k] for k in keys}, "hv": r["hv"].tolist(), "best": r["best_curve"].tolist()}
            for r in results
        ]
        args.json.write_text(json.dumps(rows))
    path = _plot(results, groups, strategies, args.budget, args.objective)
    print(f"curves: {path}")


if __name__ == "__main__":
    main()
