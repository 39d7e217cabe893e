"""Plots of circuit fits: Nyquist and Bode (|Z| and phase), data and fit (matplotlib Agg)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from physics.fitting import FitResult

__all__ = ["plot_fit"]


def plot_fit(result: FitResult, path: str | Path, title: str | None = None) -> Path:
    """Nyquist plot and Bode plots (|Z| and phase) of data and fit, saved to ``path``.

    Args:
        result: a fit from :func:`physics.fitting.fit_spectrum` or ``fit_batch``.
        path: output file; the suffix picks the format (.png, .svg, .pdf). Folders are created.
        title: figure title; the circuit string when omitted.

    Returns:
        The path written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    f, zm, zf = result.frequency_hz, result.z_measured, result.z_fit
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    ax = axes[0]
    ax.plot(zm.real, -zm.imag, "o", ms=3, label="data")
    ax.plot(zf.real, -zf.imag, "-", label="fit")
    ax.set_xlabel("Z' (ohm)")
    ax.set_ylabel("-Z'' (ohm)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend()
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
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
