"""Figures of the cell tests: DC polarization, CCD staircase, Arrhenius, a whole analysis."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from physics.constants import BOLTZMANN_EV_PER_K, CELSIUS_TO_KELVIN
from physics.measurements.ccd import CCDResult
from physics.measurements.conductivity import ArrheniusFit
from physics.measurements.polarization import PolarizationResult, decay_current_a
from physics.measurements.results import ResultAnalysis
from physics.plotting.eis import plot_fit

__all__ = ["plot_analysis", "plot_arrhenius", "plot_ccd", "plot_polarization"]


def plot_ccd(result: CCDResult, path: str | Path) -> Path:
    """Plot voltage vs time with the current-density staircase and the detected short.

    Args:
        result: from :func:`analyze_ccd`.
        path: image file to write (format from the extension).

    Returns:
        The path written.
    """
    from matplotlib.figure import Figure  # Agg canvas, no pyplot global state

    path = Path(path)
    t_h = result.time_s / 3600.0
    fig = Figure(figsize=(8.0, 4.5))
    ax = fig.subplots()
    ax.plot(t_h, 1000.0 * result.voltage_v, lw=0.8, color="C0", label="voltage")
    ax.set_xlabel("time (h)")
    ax.set_ylabel("voltage (mV)", color="C0")
    ax2 = ax.twinx()
    ax2.step(t_h, np.abs(result.current_ma_cm2), where="post", color="0.5", lw=0.8)
    ax2.set_ylabel("|current density| (mA/cm2)", color="0.4")
    for s in result.steps:
        on = np.nonzero(np.isclose(np.abs(result.current_ma_cm2), s.current_density_ma_cm2))[0]
        if on.size:
            ax2.annotate(
                f"{s.current_density_ma_cm2:g}",
                (t_h[on[0]], s.current_density_ma_cm2),
                fontsize=7,
                color="0.3",
                va="bottom",
            )
    if result.short_time_s is not None:
        ax.axvline(
            result.short_time_s / 3600.0,
            color="C3",
            ls="--",
            label=f"short at {result.short_time_s / 3600.0:.3g} h",
        )
        title = f"CCD = {result.ccd_ma_cm2:g} mA/cm2 (shorted)"
    else:
        title = f"CCD >= {result.ccd_ma_cm2:g} mA/cm2 (no short: censored)"
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path


def plot_polarization(result: PolarizationResult, path: str | Path) -> Path:
    """Plot |current| vs time (log time axis) with the fitted decay, Iss and I0; save to path.

    Args:
        result: from :func:`analyze_polarization`.
        path: image file to write (format from the extension, e.g. ``.png``).

    Returns:
        The path written.
    """
    from matplotlib.figure import Figure  # Agg canvas, no pyplot global state

    path = Path(path)
    sign = 1.0 if result.voltage_v > 0 else -1.0
    t = result.time_s
    t_pos = t[t > 0]
    grid = np.geomspace(t_pos.min(), t.max(), 400) if t_pos.size else t
    fig = Figure(figsize=(6.4, 4.2))
    ax = fig.subplots()
    ax.plot(t_pos, sign * result.current_a[t > 0], ".", ms=3, color="0.3", label="measured")
    ax.plot(
        grid,
        decay_current_a(grid, result.model, result.fit_params),
        "-",
        color="C0",
        label=f"fit ({result.model})",
    )
    ax.axhline(result.iss_a, ls="--", color="C3", label=f"Iss = {result.iss_a:.3g} A (asymptote)")
    ax.axhline(result.i0_a, ls=":", color="C2", label=f"I0 = {result.i0_a:.3g} A")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("|current| (A)")
    state = "settled" if result.settled else "NOT settled"
    ax.set_title(
        f"DC polarization at {result.voltage_v:g} V: t_e = "
        f"{result.electronic_fraction:.3g}, {state}"
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path


def plot_analysis(analysis: ResultAnalysis, out_dir: str | Path) -> list[Path]:
    """Plot every part of an analysis into ``out_dir``; return the files written.

    One Nyquist/Bode figure per impedance fit, the Arrhenius plot, the polarization decay
    with its asymptote, and the CCD staircase with the detected short.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = analysis.job_id.replace("/", "_")
    paths: list[Path] = []
    for key, fit in analysis.fits.items():
        name = key.replace("@", "_").replace(".", "p")
        paths.append(plot_fit(fit, out / f"{stem}_{name}.png", title=f"{analysis.job_id} {key}"))
    if analysis.arrhenius is not None:
        paths.append(
            plot_arrhenius(analysis.arrhenius, out / f"{stem}_arrhenius.png", analysis.job_id)
        )
    if analysis.polarization is not None:
        paths.append(plot_polarization(analysis.polarization, out / f"{stem}_polarization.png"))
    if analysis.ccd is not None:
        paths.append(plot_ccd(analysis.ccd, out / f"{stem}_ccd.png"))
    return paths


def plot_arrhenius(fit: ArrheniusFit, path: str | Path, title: str) -> Path:
    """ln(sigma T) against 1000/T with the fitted line and Ea; saved to ``path``."""
    path = Path(path)
    from matplotlib.figure import Figure  # Agg canvas, no pyplot global state

    t_k = np.asarray(fit.temperature_c, dtype=float) + CELSIUS_TO_KELVIN
    y = np.log(np.asarray(fit.sigma_s_cm) * t_k)
    grid = np.linspace(t_k.min(), t_k.max(), 50)
    line = np.log(fit.prefactor_s_k_cm) - fit.activation_energy_ev / (BOLTZMANN_EV_PER_K * grid)
    fig = Figure(figsize=(5, 4))
    ax = fig.subplots()
    ax.plot(1000 / t_k, y, "o", label="measured")
    ax.plot(
        1000 / grid,
        line,
        "-",
        label=f"Ea = {fit.activation_energy_ev:.3f} ± {fit.activation_energy_stderr_ev:.3f} eV",
    )
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel("ln(σ T / (S K/cm))")
    ax.set_title(f"{title}: Arrhenius")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path
