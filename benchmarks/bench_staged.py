"""Staged tests against every-test-on-every-sample, in instrument-hours, in simulated campaigns.

In-process (no HTTP): each campaign plans with the real policies of
:mod:`design.campaign.policies` (``all`` and ``staged``, strategy physics-gp, recipes from the
campaign's default proposer) on one simulated cycler with 4 slots, from an empty table. Rounds
are synchronous: the policy plans for the free slots, every admitted action runs, its results
join the table, and the next round plans. Pellets come from :meth:`Landscape.sample_pellet`
(scatter and cracking); a staged pellet's CCD is drawn when it is sintered and revealed only by
its follow-up. Hours are the protocol's example durations
(:data:`experiments.cycler.durations.DEFAULT_DURATIONS`): sintering 10 h + the 6 h dwell,
EIS 6 h, DC polarization 12 h, symmetric EIS 4 h, CCD staircase 72 h (a new sample with every
test: 110 h; stage one: 34 h; the CCD follow-up: 76 h); a cracked pellet costs its 16 furnace
hours.

Worlds per seed: the landscapes ``calibrated`` and ``shifted-optimum``
(:mod:`experiments.worlds.landscapes`) and the mechanistic world of that seed
(:func:`experiments.worlds.mechanistic_world`, written apart from the process model).

Figures per world and seed:

- baseline ``all``: 20 samples in batches of 4 -> its hypervolume HV_all of the TRUE objectives
  (sigma, CCD, -t_e; reference (0, 0, -0.5)) at its measured uncracked recipes, and its
  instrument-hours T_all;
- ``staged`` with ``--budget-hours`` T_all: its true hypervolume counts the samples with every
  objective measured (a sample without its CCD is not a result); printed: the hours at which
  it first reaches HV_all (actions counted in plan order within a round), that over T_all, and
  its hypervolume at T_all over HV_all.

Also printed: the same at 99 % of HV_all (the baseline's own figure beside it). Targets:
median over runs of (hours to HV_all) / T_all <= 0.5; staged HV at T_all >= 98 % of HV_all
(median and worst printed). Runs that never reach HV_all count as ratio inf in the median.
The same figures are also printed in the campaign's own objective space (the hypervolume
its acquisition maximizes: log sigma, log CCD, -logit t_e, reference at the default
thresholds), where a lower t_e counts for much more than in the linear space above.
A figure (relative hypervolume against instrument-hours, both loops) goes to
``benchmarks/out/staged_hv_hours.png`` (gitignored).

Usage: ``.venv/bin/python benchmarks/bench_staged.py [--seeds 10] [--first-seed 0] [--workers 2]
[--worlds calibrated,shifted-optimum,mechanistic] [--loops staged,dominance] [--json FILE]``
(``dominance`` adds the model-free ``staged_dominance`` rule as a loop). Also printed per run:
``oracle``, the hours of running every test on only those baseline samples that add
hypervolume to its final set, over T_all (a fully measured sample costs 110 h in both loops,
so a staged loop reaching HV_all with as many samples cannot do better than that).
"""

from __future__ import annotations

import argparse
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

OUT = Path(__file__).resolve().parent / "out"
RECIPE = ("zbo_fraction", "sinter_temperature_c", "dwell_h")
SLOTS = 4
BUDGET_SAMPLES = 20


def get_world(name: str, seed: int) -> Any:
    from experiments.worlds import mechanistic_world
    from experiments.worlds.landscapes import get_landscape

    return mechanistic_world(seed) if name == "mechanistic" else get_landscape(name)


def _true_values(world: Any, recipes: list[tuple[float, float, float]]) -> dict[str, Any]:
    r = np.asarray(recipes, float).reshape(-1, 3)
    return world.true_properties(r[:, 0], r[:, 1], r[:, 2])


def _true_points(world: Any, recipes: list[tuple[float, float, float]]) -> np.ndarray:
    """(n, 3) true (sigma, CCD, -t_e) of ``recipes``: the benchmark's linear space."""
    t = _true_values(world, recipes)
    return np.column_stack([t["sigma_total_ms_cm"], t["ccd_ma_cm2"], -t["electronic_fraction"]])


def true_hv(world: Any, recipes: list[tuple[float, float, float]]) -> float:
    from experiments.worlds.landscapes import hypervolume

    return hypervolume(_true_points(world, recipes)) if recipes else 0.0


def true_hv_model(world: Any, recipes: list[tuple[float, float, float]]) -> float:
    """The same in the campaign's own objective space: the hypervolume its acquisition
    maximizes (log sigma, log CCD, -logit t_e; reference at the default thresholds)."""
    import torch

    from design.acquisition.hypervolume import points_hypervolume, reference_point
    from physics.schema import MAXIMIZE, OBJECTIVES
    from surrogate.base import to_model_space

    if not recipes:
        return 0.0
    t = _true_values(world, recipes)
    Y = np.column_stack(
        [
            to_model_space(n, np.asarray(t[n], float)) * (1 if MAXIMIZE[n] else -1)
            for n in OBJECTIVES
        ]
    )
    return points_hypervolume(torch.as_tensor(Y, dtype=torch.double), reference_point())


def run_loop(
    world_name: str, seed: int, policy_name: str, budget_samples: int | None, budget_h: float | None
) -> dict:
    """One simulated campaign; the curve of (instrument-hours, true HV) after each action."""
    import pandas as pd
    import torch

    from design.campaign.config import CampaignConfig
    from design.campaign.planning import PlanningState, SampleState, ServiceState
    from design.campaign.policies import (
        STAGE_ONE,
        STAGE_TWO,
        all_protocols,
        staged,
        staged_dominance,
    )
    from design.campaign.proposer import default_proposer
    from experiments.cycler.durations import DEFAULT_DURATIONS
    from experiments.cycler.models import PROTOCOLS
    from physics.schema import MEASUREMENT_COLUMNS, RecipeSpace

    torch.set_num_threads(1)
    policy = {"all": all_protocols, "staged": staged, "dominance": staged_dominance}[policy_name]
    world = get_world(world_name, seed)
    rng = np.random.default_rng(10_000 + seed)
    space = RecipeSpace()
    config = CampaignConfig(
        name="bench",
        cycler_url="http://sim",
        budget=budget_samples,
        budget_hours=budget_h,
        protocol_policy="all" if policy_name == "all" else "staged",
        strategy="physics-gp",
        seed=seed,
        tracking=False,
        plots=False,
    )
    rows: dict[str, dict] = {}
    pellets: dict[str, Any] = {}
    samples: dict[str, SampleState] = {}
    full: list[tuple[float, float, float]] = []
    spent_h, n_new, n_follow = 0.0, 0, 0
    curve = [(0.0, 0.0, 0.0)]
    t0 = time.perf_counter()
    for rnd in range(200):
        service = ServiceState(
            "cycler-1", "http://sim", "1.1", True, True, SLOTS, 0, DEFAULT_DURATIONS, 6.0
        )
        table = pd.DataFrame(list(rows.values()), columns=list(MEASUREMENT_COLUMNS))
        state = PlanningState(
            table=table,
            samples=list(samples.values()),
            pending=[],
            services={"cycler-1": service},
            hours_left=None if budget_h is None else budget_h - spent_h,
            samples_left=None if budget_samples is None else budget_samples - n_new,
            config=config,
            space=space,
            seed=seed * 1000 + rnd,
        )
        plan = policy(state, recipes=default_proposer)
        admitted = 0
        for action in plan.actions:
            if action.kind == "new":
                if budget_samples is not None and n_new >= budget_samples:
                    continue
                protocols = tuple(action.protocols or PROTOCOLS)
                recipe = {c: float(action.recipe.get(c, 6.0)) for c in RECIPE}
                pellet = world.sample_pellet(recipe, rng)
                hours = DEFAULT_DURATIONS.job_hours(
                    () if pellet.cracked else protocols, dwell_h=recipe["dwell_h"]
                )
                if budget_h is not None and spent_h + hours > budget_h + 1e-9:
                    continue
                key = f"s{n_new}"
                n_new += 1
                row = dict.fromkeys(MEASUREMENT_COLUMNS)
                row.update(sample_id=key, source="simulated", **recipe)
                if pellet.cracked:
                    row["status"] = "cracked"
                else:
                    row.update(
                        status="ok",
                        sigma_total_ms_cm=pellet.sigma_total_ms_cm,
                        electronic_fraction=pellet.electronic_fraction,
                    )
                    if "ccd_staircase" in protocols:
                        row.update(ccd_ma_cm2=pellet.ccd_ma_cm2, ccd_censored=False)
                        full.append(tuple(recipe[c] for c in RECIPE))
                rows[key] = row
                pellets[key] = pellet
                samples[key] = SampleState(
                    key,
                    key,
                    "cycler-1",
                    recipe,
                    () if pellet.cracked else protocols,
                    consumed=pellet.cracked or "ccd_staircase" in protocols,
                )
            else:
                key = str(action.sample)
                hours = DEFAULT_DURATIONS.job_hours(action.protocols or STAGE_TWO, dwell_h=None)
                if budget_h is not None and spent_h + hours > budget_h + 1e-9:
                    continue
                n_follow += 1
                rows[key].update(ccd_ma_cm2=pellets[key].ccd_ma_cm2, ccd_censored=False)
                full.append(tuple(samples[key].recipe[c] for c in RECIPE))
                samples[key] = SampleState(
                    key, key, "cycler-1", samples[key].recipe, STAGE_ONE + STAGE_TWO, consumed=True
                )
            admitted += 1
            spent_h += hours
            curve.append((spent_h, true_hv(world, full), true_hv_model(world, full)))
        if admitted == 0:
            break
    return {
        "world": world_name,
        "seed": seed,
        "policy": policy_name,
        "hours": spent_h,
        "hv": curve[-1][1],
        "hv_model": curve[-1][2],
        "curve": np.array(curve),
        "full": full,
        "new": n_new,
        "follow": n_follow,
        "seconds": time.perf_counter() - t0,
    }


def front_samples(world: Any, recipes: list[tuple[float, float, float]]) -> int:
    """How many of ``recipes`` add hypervolume (true objectives) to the others."""
    from experiments.worlds.landscapes import hypervolume

    if not recipes:
        return 0
    pts = _true_points(world, recipes)
    whole = hypervolume(pts)
    return sum(hypervolume(np.delete(pts, i, 0)) < whole * (1 - 1e-12) for i in range(len(pts)))


def run_pair(world_name: str, seed: int, loops: tuple[str, ...]) -> list[dict]:
    from experiments.cycler.durations import DEFAULT_DURATIONS
    from experiments.cycler.models import PROTOCOLS

    base = run_loop(world_name, seed, "all", BUDGET_SAMPLES, None)
    out = [base] + [run_loop(world_name, seed, loop, None, base["hours"]) for loop in loops]
    # the hours of measuring only the baseline's samples that add hypervolume, every test each
    full_h = DEFAULT_DURATIONS.job_hours(PROTOCOLS, dwell_h=6.0)
    oracle = front_samples(get_world(world_name, seed), base["full"]) * full_h / base["hours"]
    for r in out:
        r["oracle"] = oracle
        r["t_all"], r["hv_all"] = base["hours"], base["hv"]
        c = r["curve"]
        hit = np.flatnonzero(c[:, 1] >= base["hv"] * (1 - 1e-9))
        r["hours_to"] = float(c[hit[0], 0]) if len(hit) else math.inf
        hit = np.flatnonzero(c[:, 1] >= 0.99 * base["hv"])
        r["hours_to_99"] = float(c[hit[0], 0]) if len(hit) else math.inf
        # the same in the campaign's own objective space
        r["hv_model_all"] = base["hv_model"]
        hit = np.flatnonzero(c[:, 2] >= base["hv_model"] * (1 - 1e-9))
        r["hours_to_model"] = float(c[hit[0], 0]) if len(hit) else math.inf
    return out


def _plot(results: list[dict], worlds: list[str], policies: list[str]) -> Path:
    from matplotlib.figure import Figure

    OUT.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(5 * len(worlds), 4), layout="constrained")
    axes = fig.subplots(1, len(worlds), squeeze=False)[0]
    frac = np.linspace(0, 1.0, 101)
    for ax, w in zip(axes, worlds, strict=True):
        for pol in policies:
            rs = [r for r in results if r["world"] == w and r["policy"] == pol]
            if not rs:
                continue
            ys = []
            for r in rs:
                c = r["curve"]
                idx = np.searchsorted(c[:, 0], frac * r["t_all"], side="right") - 1
                ys.append(c[np.clip(idx, 0, len(c) - 1), 1] / max(r["hv_all"], 1e-12))
            ys = np.array(ys)
            ax.plot(frac, np.median(ys, 0), label=f"{pol} (median)")
            ax.fill_between(frac, *np.percentile(ys, [10, 90], 0), alpha=0.2)
        ax.axhline(1.0, color="grey", ls=":")
        ax.axvline(0.5, color="grey", ls="--", lw=0.8)
        ax.set(
            title=w,
            xlabel="instrument-hours / T_all",
            ylabel="true hypervolume / HV_all",
            ylim=(0, 1.3),
        )
        ax.legend(fontsize="small")
    path = OUT / "staged_hv_hours.png"
    fig.savefig(path, dpi=110)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds first..first+seeds-1")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--worlds", default="calibrated,shifted-optimum,mechanistic")
    parser.add_argument("--loops", default="staged", help="staged,dominance")
    parser.add_argument("--json", default=None, help="write the per-run figures here")
    args = parser.parse_args()
    worlds = args.worlds.split(",")
    loops = tuple(args.loops.split(","))
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    jobs = [(w, s, loops) for s in seeds for w in worlds]
    t0 = time.perf_counter()
    results: list[dict] = []
    print(
        f"{'world':<16}{'seed':>5}{'T_all h':>9}{'HV_all':>8}{'policy':>10}{'h to HV_all':>12}"
        f"{'/T_all':>8}{'99%/T_all':>10}{'HV@T_all/HV_all':>16}{'new':>5}{'CCD':>5}{'s':>6}"
        f"{'oracle':>8}",
        flush=True,
    )
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for out in pool.map(run_pair, *zip(*jobs, strict=True)):
            results.extend(out)
            for r in out[1:]:
                print(
                    f"{r['world']:<16}{r['seed']:>5}{r['t_all']:>9.0f}{r['hv_all']:>8.3f}"
                    f"{r['policy']:>10}{r['hours_to']:>12.0f}{r['hours_to'] / r['t_all']:>8.2f}"
                    f"{r['hours_to_99'] / r['t_all']:>10.2f}"
                    f"{r['hv'] / max(r['hv_all'], 1e-12):>16.3f}{r['new']:>5}{r['follow']:>5}"
                    f"{r['seconds'] + out[0]['seconds']:>6.0f}{r['oracle']:>8.2f}",
                    flush=True,
                )
    policies = ["all", *loops]
    print(
        f"{len(jobs)} world-seeds in {time.perf_counter() - t0:.0f} s, {args.workers} workers; "
        f"baseline 'all': {BUDGET_SAMPLES} samples, batches of {SLOTS}, physics-gp"
    )
    for pol in policies[1:]:
        for w in [*worlds, "all worlds"]:
            rs = [r for r in results if r["policy"] == pol and w in (r["world"], "all worlds")]
            ratio = np.array([r["hours_to"] / r["t_all"] for r in rs])
            ratio99 = np.array([r["hours_to_99"] / r["t_all"] for r in rs])
            rel = np.array([r["hv"] / max(r["hv_all"], 1e-12) for r in rs])
            print(
                f"{pol:>9} {w:<16} n={len(rs):<3} median (hours to HV_all)/T_all "
                f"{np.median(ratio):.2f} (target <= 0.50: {np.median(ratio) <= 0.5}; "
                f"reached in {np.mean(np.isfinite(ratio)):.0%}); HV at T_all / HV_all median "
                f"{np.median(rel):.3f}, worst {rel.min():.3f} (target >= 0.98: "
                f"{np.median(rel) >= 0.98}/{rel.min() >= 0.98}); to 99 % of HV_all: median "
                f"{np.median(ratio99):.2f} of T_all"
            )
    print("the same in the campaign's own objective space (model space, default thresholds):")
    for pol in policies[1:]:
        for w in [*worlds, "all worlds"]:
            rs = [r for r in results if r["policy"] == pol and w in (r["world"], "all worlds")]
            ratio = np.array([r["hours_to_model"] / r["t_all"] for r in rs])
            rel = np.array([r["hv_model"] / max(r["hv_model_all"], 1e-12) for r in rs])
            print(
                f"{pol:>9} {w:<16} n={len(rs):<3} median (hours to HV_all)/T_all "
                f"{np.median(ratio):.2f} (reached in {np.mean(np.isfinite(ratio)):.0%}, "
                f"<= 0.5 in {np.mean(ratio <= 0.5):.0%}); HV at T_all / HV_all median "
                f"{np.median(rel):.3f}, worst {rel.min():.3f}"
            )
    base = [r for r in results if r["policy"] == "all"]
    to99 = np.array([r["hours_to_99"] / r["t_all"] for r in base])
    print(
        f"baseline 'all': T_all median {np.median([r['t_all'] for r in base]):.0f} h; "
        f"reaches 99 % of its own HV_all at median {np.median(to99):.2f} of T_all"
    )
    oracle = np.array([r["oracle"] for r in base])
    print(
        f"oracle (every test on only the baseline's samples that add hypervolume) / T_all: "
        f"median {np.median(oracle):.2f}, range {oracle.min():.2f}-{oracle.max():.2f}"
    )
    print(f"figure: {_plot(results, worlds, policies)}")
    if args.json:
        import json

        keep = ("world", "seed", "policy", "hours", "hv", "t_all", "hv_all", "hours_to")
        keep += ("hours_to_99", "oracle", "new", "follow", "hv_model", "hv_model_all")
        keep += ("hours_to_model",)
        rows = [{k: r[k] for k in keep} for r in results]
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
