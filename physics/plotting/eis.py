"""Plots of circuit fits: Nyquist and Bode (|Z| and phase), data and fit (matplotlib Agg)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from physics.eis.fitting import FitResult

__all__ = ["plot_fit"]


def plot_fit(result: FitResult, path: str | Path, title: str | None = None) -> Path:
    """Nyquist plot and Bode plots (|Z| and phase) of data and fit, saved to ``path``.

    Args:
        result: a fit from :func:`physics.eis.fitting.fit_spectrum` or ``fit_batch``.
        path: output file; the suffix picks the format (.png, .svg, .pdf). Folders are created.
        title: figure title; the circuit string when omitted.

    Returns:
        The path written.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    path = Path(path)
    f, zm, zf = result.frequency_hz, result.z_measured, result.z_fit
    # fixed margins: constrained layout measured every tick label and took half the time
    fig = Figure(figsize=(14, 4.2))
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.13, top=0.89, wspace=0.3)
    axes = fig.subplots(1, 3)
    ax = axes[0]
    ax.plot(zm.real, -zm.imag, "o", ms=3, label="data")
    ax.plot(zf.real, -zf.imag, "-", label="fit")
    ax.set_xlabel("Z' (ohm)")
    ax.set_ylabel("-Z'' (ohm)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.legend()
    _zoom_electrolyte(ax, result)
    axes[1].loglog(f, np.abs(zm), "o", ms=3, label="data")
    axes[1].loglog(f, np.abs(zf), "-", label="fit")
    axes[1].set_xlabel("frequency (Hz)")
    axes[1].set_ylabel("|Z| (ohm)")
    axes[2].semilogx(f, np.degrees(np.angle(zm)), "o", ms=3, label="data")
    axes[2].semilogx(f, np.degrees(np.angle(zf)), "-", label="fit")
    axes[2].set_xlabel("frequency (Hz)")
    axes[2].set_ylabel("phase (deg)")
    head = title or result.circuit
    fig.suptitle(f"{head}   (chi2 = {result.chi2:.3g}, {result.weighting} weighting)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def _zoom_electrolyte(ax, result: FitResult) -> None:
    """Inset of the high-frequency (electrolyte) part of the Nyquist plot.

    A blocking-electrode spike or a large interface arc dwarfs the bulk and grain-boundary
    arc; when the spectrum reaches beyond three times R0 + R1 the inset shows that region,
    with the fitted intercepts R0 and R0 + R1 marked.
    """
    r0 = result.params.get("R0")
    if r0 is None:
        return
    r_end = r0 + result.params.get("R1", 0.0)
    zm, zf = result.z_measured, result.z_fit
    lo = min(float(zm.real.min()), r0)
    if float(zm.real.max()) < lo + 3 * (r_end - lo) or r_end <= lo:
        return
    span = 1.3 * (r_end - lo)
    inset = ax.inset_axes((0.45, 0.08, 0.5, 0.45))
    inset.plot(zm.real, -zm.imag, "o", ms=2)
    inset.plot(zf.real, -zf.imag, "-")
    for r in {r0, r_end}:
        inset.axvline(r, color="grey", lw=0.7, ls=":")
    inset.set_xlim(lo - 0.05 * span, lo + span)
    inset.set_ylim(-0.1 * span, 0.6 * span)
    inset.set_title("R0, R0+R1 region", fontsize=7)
    inset.tick_params(labelsize=6)
