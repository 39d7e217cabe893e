"""``gbs suggest --minimize-temperature``: what the fourth objective costs in time and buys.

On ``--worlds`` mechanistic worlds (``experiments.worlds.mechanistic_world`` seeds), a table
of ``--rows`` random grid recipes measured with scatter and cracking, the physics-gp
surrogate fitted once (its CPU time printed apart), then
:func:`design.acquisition.batch.suggest` with a batch of 4, the same seed, without and with
``minimize_temperature`` (3-D exact grid NEHVI against 4-D by temperature slabs; reference
temperature 1310 C, the top of the default space plus one step).

Figures, median over the worlds (one torch thread, one process; the machine may be shared,
so process CPU time is the figure load does not inflate, wall time in brackets):

- CPU time of the acquisition alone, off and on, and their ratio;
- the mean sintering temperature of the 4 recipes, off and on;
- the true 3-D hypervolume the 4 recipes add (model space, default thresholds, as a fraction
  of the world's true grid front), off and on: what the temperature objective costs in the
  three measured objectives.

Usage: ``PYTHONPATH=.:benchmarks .venv/bin/python benchmarks/bench_suggest_temperature.py
[--rows 60] [--worlds 10] [--seed 0]``
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import torch
from bench_suggest_latency import Prefitted, gain, hv, timed, true_model_space, world_table

from design.acquisition.batch import suggest
from experiments.worlds import mechanistic_world
from physics.schema import RECIPE_COLUMNS, RecipeSpace
from surrogate import make_surrogate

BATCH = 4


def one_world(n: int, i: int, seed: int) -> dict[str, float]:
    space = RecipeSpace()
    world = mechanistic_world(seed + i)
    front = hv(true_model_space(world, space.grid()))
    table = world_table(world, n, seed + 100 * i + n, space)
    sur = make_surrogate(
        "physics-gp", seed=seed, bounds=space.bounds, default_dwell_h=space.default_dwell_h
    )
    _, _, fit_cpu = timed(sur.fit, table)
    out: dict[str, float] = {"fit_cpu": fit_cpu}
    for name, flag in (("off", False), ("on", True)):
        picks, wall, cpu = timed(
            lambda f=flag: suggest(
                table,
                space=space,
                batch_size=BATCH,
                seed=seed,
                surrogate=Prefitted(sur),
                minimize_temperature=f,
            )
        )
        batch = np.array([[s.recipe[c] for c in RECIPE_COLUMNS] for s in picks])
        out[f"{name}_cpu"], out[f"{name}_wall"] = cpu, wall
        out[f"{name}_temp"] = float(batch[:, 1].mean())
        out[f"{name}_gain"] = gain(world, table, batch, front)
    print(
        f"  world {i}: fit {fit_cpu:.1f} s cpu | off {out['off_cpu']:.2f} s cpu, "
        f"{out['off_temp']:.0f} C, gain {out['off_gain']:.4f} | on {out['on_cpu']:.2f} s cpu, "
        f"{out['on_temp']:.0f} C, gain {out['on_gain']:.4f}",
        flush=True,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=60)
    parser.add_argument("--worlds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    print(f"physics-gp, {args.rows} rows, batch {BATCH}, {args.worlds} mechanistic worlds")
    res = [one_world(args.rows, i, args.seed) for i in range(args.worlds)]

    def med(key: str) -> float:
        return float(np.median([r[key] for r in res]))

    def p10(key: str) -> float:
        return float(np.percentile([r[key] for r in res], 10))

    ratio = np.median([r["on_cpu"] / r["off_cpu"] for r in res])
    print(f"surrogate fit: median {med('fit_cpu'):.1f} s cpu")
    print("                     acq cpu s (wall)   mean T of batch C   true 3-D HV gain")
    for name in ("off", "on"):
        print(
            f"  minimize-T {name:3s}:   {med(name + '_cpu'):6.2f} ({med(name + '_wall'):5.2f})"
            f"       {med(name + '_temp'):7.0f}           {med(name + '_gain'):.4f}, "
            f"p10 {p10(name + '_gain'):.4f}"
        )
    print(f"  cpu ratio on/off: median {ratio:.2f}")


if __name__ == "__main__":
    main()
