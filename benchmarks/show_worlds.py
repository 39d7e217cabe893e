"""Survey of the mechanistic worlds (``experiments.worlds``) on the cycler's default grid.

For each of ``--n`` worlds (seeds ``--seed``, ``--seed + 1``, ...) prints the best feasible
recipe (x, T) and its sigma_total over ``experiments.landscapes.default_grid()`` (dwell 6 h),
the feasible fraction of the grid (p_crack < 0.5), sigma at the best recipe's x for dwells
of 1 and 24 h, and the largest error at the paper's recipes per property (relative, density
absolute); then the distribution of the optimum locations. Plots log10 sigma_total maps
over (x, T), cracked points (p_crack >= 0.5) hatched, into
``benchmarks/out/mechanistic_worlds.png``.

Usage: ``.venv/bin/python benchmarks/show_worlds.py [--n 30] [--seed 0]``.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from experiments.worlds import paper_point_errors, sample_mechanistic_worlds
from experiments.worlds.landscapes import FEASIBLE_P_CRACK, default_grid

OUT = Path(__file__).resolve().parent / "out"
N_X, N_T = 51, 41


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30, help="number of worlds (default 30)")
    parser.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    worlds = sample_mechanistic_worlds(args.n, seed=args.seed)
    build_s = time.perf_counter() - t0
    grid = default_grid()
    x_axis, t_axis = grid[::N_T, 0], grid[:N_T, 1]
    maps, best = [], []
    t0 = time.perf_counter()
    props = [w.true_properties(grid[:, 0], grid[:, 1], grid[:, 2]) for w in worlds]
    grid_ms = (time.perf_counter() - t0) / len(worlds) * 1e3
    print(f"{len(worlds)} worlds built in {build_s:.1f} s; one 51 x 41 grid: {grid_ms:.2f} ms")
    print(
        f"{'world':>16} {'x*':>5} {'T* C':>6} {'sigma*':>7} {'feas':>5} {'s(1h)':>6} "
        f"{'s(24h)':>6} | paper errors: {'sigma':>6} {'t_e':>6} {'rho':>6} {'Rint':>6} "
        f"{'CCD':>6} {'pcrack':>6}"
    )
    for world, p in zip(worlds, props, strict=True):
        rec = world.best_recipe(grid)
        feasible = p["p_crack"] < FEASIBLE_P_CRACK
        dwell = world.true_properties(rec["zbo_fraction"], rec["sinter_temperature_c"], [1.0, 24.0])
        err = paper_point_errors(world.model)
        e = {k: float(np.max(np.abs(v))) for k, v in err.items()}
        print(
            f"{world.name:>16} {rec['zbo_fraction']:5.2f} {rec['sinter_temperature_c']:6.0f} "
            f"{rec['sigma_total_ms_cm']:7.2f} {feasible.mean():5.2f} "
            f"{dwell['sigma_total_ms_cm'][0]:6.2f} {dwell['sigma_total_ms_cm'][1]:6.2f} | "
            f"{'':>13} {e['sigma_total_ms_cm']:6.3f} {e['electronic_fraction']:6.3f} "
            f"{e['relative_density']:6.3f} {e['r_int_ohm_cm2']:6.3f} {e['ccd_ma_cm2']:6.3f} "
            f"{e['p_crack']:6.3f}"
        )
        maps.append(
            (np.log10(p["sigma_total_ms_cm"]).reshape(N_X, N_T), ~feasible.reshape(N_X, N_T))
        )
        best.append(rec)

    xs = np.array([b["zbo_fraction"] for b in best])
    ts = np.array([b["sinter_temperature_c"] for b in best])
    sig = np.array([b["sigma_total_ms_cm"] for b in best])
    print(f"\noptimum x: min {xs.min():.2f} median {np.median(xs):.2f} max {xs.max():.2f}")
    print(f"optimum T: min {ts.min():.0f} median {np.median(ts):.0f} max {ts.max():.0f} C")
    print(f"best sigma: min {sig.min():.2f} median {np.median(sig):.2f} max {sig.max():.2f} mS/cm")
    bins = Counter(f"x {0.1 * (x // 0.1):.1f}-{0.1 * (x // 0.1) + 0.1:.1f}" for x in xs)
    print("optimum x bins:", dict(sorted(bins.items())))
    tbins = Counter(f"T {100 * (t // 100):.0f}s" for t in ts)
    print("optimum T bins:", dict(sorted(tbins.items())))
    print(f"distinct optimum recipes: {len(set(zip(xs, ts, strict=True)))} of {len(xs)}")
    at_1250 = np.array([np.log10(p["sigma_total_ms_cm"][grid[:, 1] == 1250.0]) for p in props])
    print(
        f"log10 sigma at 1250 C (all x): 5-95 % across worlds "
        f"{np.percentile(at_1250, 5):.2f} .. {np.percentile(at_1250, 95):.2f}"
    )
    _plot(maps, best, worlds, x_axis, t_axis)


def _plot(maps, best, worlds, x_axis, t_axis) -> None:
    fig = Figure(figsize=(18, 16), constrained_layout=True)
    FigureCanvasAgg(fig)
    n_rows, n_cols = 5, 6
    axes = fig.subplots(n_rows, n_cols, sharex=True, sharey=True, squeeze=False)
    lo = max(min(float(np.min(m)) for m, _ in maps), -2.0)  # darker: off the colour scale
    hi = max(float(np.max(m)) for m, _ in maps)
    image = None
    for k, ax in enumerate(axes.ravel()):
        if k >= len(maps):
            ax.set_axis_off()
            continue
        log_sigma, cracked = maps[k]
        image = ax.pcolormesh(x_axis, t_axis, log_sigma.T, vmin=lo, vmax=hi, cmap="viridis",
                              shading="nearest")  # fmt: skip
        ax.contourf(x_axis, t_axis, cracked.T.astype(float), levels=[0.5, 1.5], colors="none",
                    hatches=["xx"])  # fmt: skip
        ax.contour(x_axis, t_axis, log_sigma.T, levels=8, colors="white", linewidths=0.4)
        ax.plot(best[k]["zbo_fraction"], best[k]["sinter_temperature_c"], "r*", ms=10)
        ax.plot([0, 0.1, 0.2, 0.3], [1000] * 4, "w.", ms=4)
        ax.set_title(f"{worlds[k].name}: {best[k]['sigma_total_ms_cm']:.2f} mS/cm", fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("ZBO fraction x")
    for ax in axes[:, 0]:
        ax.set_ylabel("T (C)")
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.6, label="log10 sigma_total (mS/cm), 6 h dwell")
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "mechanistic_worlds.png"
    fig.savefig(path, dpi=80)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
