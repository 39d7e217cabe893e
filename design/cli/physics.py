"""CLI commands of the physics core: ``gbs fit-eis`` and ``gbs analyze``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from physics.errors import AnalysisError, ConfigError

__all__ = ["analyze_command", "fit_eis_command", "register"]

_console = Console()


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def fit_eis_command(
    file: Annotated[
        Path, typer.Argument(help="Impedance file: BioLogic .mpt/.mpr, Gamry .DTA or CSV.")
    ],
    circuit: Annotated[
        str | None,
        typer.Option(
            help="Circuit string, e.g. 'R0-p(R1,CPE1)-CPE2'. Default: chosen from the spectrum."
        ),
    ] = None,
    area_cm2: Annotated[
        float | None, typer.Option("--area-cm2", help="Electrode area in cm2.")
    ] = None,
    thickness_cm: Annotated[
        float | None, typer.Option("--thickness-cm", help="Pellet thickness in cm.")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write a Nyquist + Bode plot of data and fit here (PNG).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of tables.")
    ] = False,
) -> None:
    """Fit an equivalent circuit to an impedance file, with a Kramers-Kronig check.

    Prints the parameters with standard errors and units, the fit quality, the Lin-KK
    result and, when the geometry is known, the conductivity sigma = L / (R A).
    """
    from physics.eis.fitting import choose_circuit, fit_spectrum
    from physics.eis.kk import lin_kk
    from physics.eis.readers import read_spectrum
    from physics.measurements.conductivity import S_CM_TO_MS_CM, conductivity_s_cm
    from physics.plotting.eis import plot_fit

    for name, value in (("--area-cm2", area_cm2), ("--thickness-cm", thickness_cm)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ConfigError(f"{name} must be a positive number, got {value}")
    spectrum = read_spectrum(file, area_cm2=area_cm2)
    area = area_cm2 if area_cm2 is not None else spectrum.area_cm2
    reason = "given with --circuit"
    if circuit is None:
        circuit, reason = choose_circuit(spectrum)
    fit = fit_spectrum(spectrum, circuit=circuit)
    kk = lin_kk(spectrum.frequency_hz, spectrum.z_ohm)
    # Electrolyte resistance: bulk R0 plus the first arc R1 (grain boundary) when present;
    # a later arc (R2...) is the electrode interface and does not count.
    r_used = [n for n in ("R0", "R1") if n in fit.params]
    sigma_ms_cm = None
    if thickness_cm is not None and area is not None and r_used:
        r_electrolyte_ohm = sum(fit.params[n] for n in r_used)
        sigma_ms_cm = (
            float(conductivity_s_cm(r_electrolyte_ohm, thickness_cm, area)) * S_CM_TO_MS_CM
        )
    if plot is not None:
        plot_fit(fit, plot, title=f"{file.name}: {circuit}")

    if as_json:
        payload = {
            "file": str(file),
            "circuit": circuit,
            "circuit_reason": reason,
            "params": fit.params,
            "stderr": fit.stderr,
            "units": fit.units,
            "chi2": fit.chi2,
            "n_points": int(fit.frequency_hz.size),
            "n_inductive_dropped": fit.n_inductive_dropped,
            "notes": fit.notes,
            "kk": {
                "m": kk.m,
                "mu": kk.mu,
                "max_abs_residual": kk.max_abs_residual,
                "passed": kk.passed,
            },
            "sigma_ms_cm": sigma_ms_cm,
            "sigma_from": r_used,
        }
        typer.echo(json.dumps(payload, indent=2, default=float))
        return

    _console.print(
        f"[bold]{file}[/]: {spectrum.n_points} points, {spectrum.frequency_hz.max():.4g} Hz to {spectrum.frequency_hz.min():.4g} Hz"
    )
    _console.print(f"circuit [bold]{circuit}[/] ({reason})")
    table = Table("parameter", "value", "std. error", "unit")
    for name, value in fit.params.items():
        table.add_row(
            name,
            f"{value:.5g}",
            f"{fit.stderr.get(name, float('nan')):.2g}",
            fit.units.get(name, ""),
        )
    _console.print(table)
    _console.print(f"weighted chi-square {fit.chi2:.3g}; fitted {fit.frequency_hz.size} points")
    for note in fit.notes:
        _console.print(f"note: {note}")
    verdict = "[green]passed[/]" if kk.passed else "[red]failed[/]"
    _console.print(
        f"Lin-KK: M = {kk.m}, mu = {kk.mu:.3f}, max |residual| = {kk.max_abs_residual:.2%}: {verdict}"
    )
    if sigma_ms_cm is not None:
        _console.print(
            f"sigma = L / (R A) = [bold]{sigma_ms_cm:.4g} mS/cm[/] (R = {' + '.join(r_used)})"
        )
    elif thickness_cm is None:
        _console.print(
            "sigma: give --thickness-cm (and --area-cm2 unless the file has it) to compute it"
        )
    else:
        _console.print("sigma: the electrode area is unknown; give --area-cm2")
    if plot is not None:
        _console.print(f"plot: {plot}")


def analyze_command(
    result_file: Annotated[
        Path, typer.Argument(help="A cycler result JSON (protocol v1, section Result).")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the row as one JSON object keyed by column name.")
    ] = False,
    plot_dir: Annotated[
        Path | None,
        typer.Option(help="Write plots of every fit, the decay and the staircase here."),
    ] = None,
    theoretical_density_g_cm3: Annotated[
        float, typer.Option(help="From the service's capabilities.")
    ] = 3.244,
) -> None:
    """Turn a cycler result into its measurement-table row."""
    from physics.measurements.results import analyze_result
    from physics.plotting.measurements import plot_analysis

    try:
        text = result_file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise AnalysisError(f"{result_file}: no such file") from exc
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise AnalysisError(f"{result_file}: not a text JSON file ({exc})") from exc
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnalysisError(
            f"{result_file}: not valid JSON ({exc.msg} at line {exc.lineno})"
        ) from exc
    try:
        analysis = analyze_result(payload, theoretical_density_g_cm3=theoretical_density_g_cm3)
    except AnalysisError as exc:
        raise AnalysisError(f"{result_file}: {exc}") from exc
    paths = plot_analysis(analysis, plot_dir) if plot_dir is not None else []
    if as_json:
        typer.echo(json.dumps(analysis.row, default=float))
        return
    table = Table("column", "value", title=f"{result_file.name} (job {analysis.job_id})")
    for column, value in analysis.row.items():
        table.add_row(column, _fmt(value))
    _console.print(table)
    for note in analysis.notes:
        _console.print(f"note: {note}")
    for path in paths:
        _console.print(f"plot: {path}")


def register(app: typer.Typer) -> None:
    """Add ``fit-eis`` and ``analyze`` to ``app``."""
    app.command("fit-eis")(fit_eis_command)
    app.command("analyze")(analyze_command)
