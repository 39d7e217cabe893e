"""Figures of a fitted surrogate: posterior maps over the (x, T) plane and the Pareto front.

Matplotlib's object API (``Figure``) is used directly, so no GUI backend is ever needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from physics.schema import OBJECTIVES, RecipeSpace

__all__ = ["plot_pareto", "plot_posterior_maps"]

_LABELS = {
    "sigma_total_ms_cm": "sigma_total (mS/cm)",
    "ccd_ma_cm2": "CCD (mA/cm2)",
    "electronic_fraction": "t_e",
}


def _plane(surrogate: Any, space: RecipeSpace) -> tuple[np.ndarray, np.ndarray, Any]:
    xs = space.zbo_fraction.values
    ts = space.sinter_temperature_c.values
    xx, tt = np.meshgrid(xs, ts, indexing="ij")
    grid = np.column_stack([xx.ravel(), tt.ravel(), np.full(xx.size, space.default_dwell_h)])
    return xs, ts, surrogate.predict(grid)


def _mark(ax: Any, table: pd.DataFrame | None, suggestions: Sequence[Any]) -> None:
    if table is not None and len(table):
        ok = table["status"] == "ok"
        ax.scatter(
            table.loc[ok, "zbo_fraction"],
            table.loc[ok, "sinter_temperature_c"],
            c="white",
            edgecolors="black",
            s=28,
            label="measured ok",
        )
        ax.scatter(
            table.loc[~ok, "zbo_fraction"],
            table.loc[~ok, "sinter_temperature_c"],
            c="red",
            marker="x",
            s=36,
            label="cracked",
        )
    if suggestions:
        ax.scatter(
            [s.recipe["zbo_fraction"] for s in suggestions],
            [s.recipe["sinter_temperature_c"] for s in suggestions],
            c="gold",
            edgecolors="black",
            marker="*",
            s=160,
            label="suggested",
        )


def plot_posterior_maps(
    surrogate: Any,
    space: RecipeSpace,
    table: pd.DataFrame | None,
    suggestions: Sequence[Any],
    out_dir: str | Path,
) -> list[Path]:
    """One PNG per objective (posterior mean and sd) and one of p_feasible.

    Args:
        surrogate: a fitted surrogate.
        space: the recipe space (maps at its default dwell).
        table: the measured data (marked), or None.
        suggestions: :class:`design.acquisition.batch.Suggestion` objects (marked as stars).
        out_dir: folder for the PNG files (created).

    Returns:
        The paths written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    xs, ts, pred = _plane(surrogate, space)
    shape = (len(xs), len(ts))
    paths = []
    for name in OBJECTIVES:
        fig = Figure(figsize=(10, 4), layout="constrained")
        for ax, values, title in zip(
            fig.subplots(1, 2),
            (pred.mean[name], pred.sd[name]),
            ("posterior mean", "posterior sd"),
            strict=True,
        ):
            mesh = ax.pcolormesh(xs, ts, values.reshape(shape).T, shading="nearest")
            fig.colorbar(mesh, ax=ax, label=_LABELS[name])
            _mark(ax, table, suggestions)
            ax.set(
                xlabel="ZBO fraction x",
                ylabel="sintering temperature (C)",
                title=f"{_LABELS[name]}: {title}",
            )
        fig.axes[0].legend(loc="upper right", fontsize="small")
        path = out / f"posterior_{name}.png"
        fig.savefig(path, dpi=110)
        paths.append(path)
    fig = Figure(figsize=(5.5, 4), layout="constrained")
    ax = fig.subplots()
    mesh = ax.pcolormesh(
        xs, ts, pred.p_feasible.reshape(shape).T, shading="nearest", vmin=0, vmax=1, cmap="RdYlGn"
    )
    fig.colorbar(mesh, ax=ax, label="p_feasible")
    _mark(ax, table, suggestions)
    ax.set(
        xlabel="ZBO fraction x",
        ylabel="sintering temperature (C)",
        title="probability the pellet does not crack",
    )
    path = out / "p_feasible.png"
    fig.savefig(path, dpi=110)
    paths.append(path)
    return paths


def _non_dominated(Y: np.ndarray) -> np.ndarray:
    """Mask of rows of Y (maximize every column) no other row dominates."""
    keep = np.ones(len(Y), bool)
    for i in range(len(Y)):
        if keep[i]:
            dominated = (Y >= Y[i]).all(1) & (Y > Y[i]).any(1)
            if dominated.any():
                keep[i] = False
    return keep


def plot_pareto(
    surrogate: Any,
    space: RecipeSpace,
    table: pd.DataFrame | None,
    suggestions: Sequence[Any],
    out_dir: str | Path,
    min_p_feasible: float = 0.5,
) -> Path:
    """The predicted Pareto front (posterior means over the grid, p_feasible >= 0.5).

    Sigma against CCD, coloured by t_e; measured ok rows and suggestions marked.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _, _, pred = _plane(surrogate, space)
    Y = np.column_stack(
        [pred.mean["sigma_total_ms_cm"], pred.mean["ccd_ma_cm2"], -pred.mean["electronic_fraction"]]
    )
    ok = np.isfinite(Y).all(1) & (pred.p_feasible >= min_p_feasible)
    front = Y[ok][_non_dominated(Y[ok])] if ok.any() else np.zeros((0, 3))
    fig = Figure(figsize=(6, 4.5), layout="constrained")
    ax = fig.subplots()
    sc = ax.scatter(
        front[:, 0], front[:, 1], c=-front[:, 2], cmap="viridis_r", s=22, label="predicted front"
    )
    fig.colorbar(sc, ax=ax, label="t_e (predicted)")
    if table is not None and len(table):
        meas = table[table["status"] == "ok"]
        ax.scatter(
            meas["sigma_total_ms_cm"],
            meas["ccd_ma_cm2"],
            facecolors="none",
            edgecolors="black",
            s=36,
            label="measured",
        )
    if suggestions:
        ax.scatter(
            [s.mean["sigma_total_ms_cm"] for s in suggestions],
            [s.mean["ccd_ma_cm2"] for s in suggestions],
            marker="*",
            c="gold",
            edgecolors="black",
            s=160,
            label="suggested (predicted)",
        )
    ax.set(
        xlabel=_LABELS["sigma_total_ms_cm"],
        ylabel=_LABELS["ccd_ma_cm2"],
        title="predicted Pareto front",
    )
    ax.legend(fontsize="small")
    path = out / "pareto_front.png"
    fig.savefig(path, dpi=110)
    return path
