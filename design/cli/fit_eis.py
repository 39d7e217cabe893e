"""``gbs fit-eis``: fit every sweep of an impedance file, one table row (or JSON object) each."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from design.errors import OutputPathError
from physics.errors import ConfigError
from physics.jsonsafe import json_safe

__all__ = ["fit_eis_command", "format_elapsed"]

_console = Console()
#: Image formats of ``--plot`` (matplotlib picks the format from the ending).
_PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def format_elapsed(seconds: float | None) -> str:
    """12.5 -> '12.5 s', 5400 -> '1.5 h', 1.3e6 -> '15.05 d'; None -> '—'."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if abs(seconds) >= 2 * size:
            return f"{seconds / size:.4g} {unit}"
    return f"{seconds:.4g} s"


def _sweep_json(row: Any) -> dict[str, Any]:
    s, fit, kk = row.spectrum, row.fit, row.kk
    return json_safe(
        {
            "sweep": row.sweep,
            "start_time_s": row.start_time_s,
            "n_points": s.n_points,
            "frequency_range_hz": [float(s.frequency_hz.max()), float(s.frequency_hz.min())],
            "circuit": row.circuit,
            "circuit_reason": row.circuit_reason,
            "params": None if fit is None else fit.params,
            "stderr": None if fit is None else fit.stderr,
            "units": None if fit is None else fit.units,
            "unresolved": None if fit is None else fit.unresolved,
            "chi2": None if fit is None else fit.chi2,
            "n_points_fitted": None if fit is None else int(fit.frequency_hz.size),
            "n_inductive_dropped": None if fit is None else fit.n_inductive_dropped,
            "notes": [] if fit is None else fit.notes,
            "error": row.error,
            "kk": None
            if kk is None
            else {
                "m": kk.m,
                "mu": kk.mu,
                "max_abs_residual": kk.max_abs_residual,
                "passed": kk.passed,
            },
            "area_cm2": s.area_cm2,
            "area_source": s.metadata.get("area_source"),
            "sigma_ms_cm": row.sigma_ms_cm,
            "sigma_from": row.sigma_from,
            "sigma_note": row.sigma_note,
        }
    )


def _pm(fit: Any, name: str) -> str:
    if name in fit.unresolved:
        return f"[red]unresolved[/] ({fit.params[name]:.3g})"
    return f"{fit.params[name]:.4g} ± {fit.stderr.get(name, float('nan')):.2g}"


def _print_one(row: Any) -> None:
    fit = row.fit
    _console.print(f"circuit [bold]{row.circuit}[/] ({row.circuit_reason})")
    table = Table("parameter", "value", "std. error", "unit", "")
    for name, value in fit.params.items():
        flag = f"[red]unresolved: {fit.unresolved[name]}[/]" if name in fit.unresolved else ""
        table.add_row(
            name,
            f"{value:.5g}",
            f"{fit.stderr.get(name, float('nan')):.2g}",
            fit.units.get(name, ""),
            flag,
        )
    _console.print(table)
    _console.print(f"weighted chi-square {fit.chi2:.3g}; fitted {fit.frequency_hz.size} points")
    for note in fit.notes:
        _console.print(f"note: {note}")
    if row.kk is not None:
        verdict = "[green]passed[/]" if row.kk.passed else "[red]failed[/]"
        _console.print(
            f"Lin-KK: M = {row.kk.m}, mu = {row.kk.mu:.3f}, max |residual| = "
            f"{row.kk.max_abs_residual:.2%}: {verdict}"
        )


def _print_many(rows: list[Any]) -> None:
    circuit = rows[0].circuit
    _console.print(f"circuit [bold]{circuit}[/] ({rows[0].circuit_reason})")
    r_names = [n for n in next((r.fit.params for r in rows if r.fit), {}) if n.startswith("R")]
    table = Table("sweep", "start", "points", *(f"{n} / ohm" for n in r_names), "chi2", "KK")
    table.add_column("sigma / mS/cm")
    for row in rows:
        fit = row.fit
        cells = [str(row.sweep), format_elapsed(row.start_time_s), str(row.spectrum.n_points)]
        if fit is None:
            cells += ["[red]fit failed[/]"] + [""] * len(r_names)
        else:
            cells += [_pm(fit, n) for n in r_names] + [f"{fit.chi2:.3g}"]
        cells.append("—" if row.kk is None else ("pass" if row.kk.passed else "[red]fail[/]"))
        cells.append("—" if row.sigma_ms_cm is None else f"{row.sigma_ms_cm:.4g}")
        table.add_row(*cells)
    _console.print(table)
    grouped: dict[str, list[int]] = {}
    for row in rows:
        notes = [n for n in (row.fit.notes if row.fit else []) if not n.startswith("unresolved")]
        for note in [*notes, *([row.error] if row.error else [])]:
            grouped.setdefault(note, []).append(row.sweep)
    for note, sweeps in grouped.items():
        _console.print(f"note: {_which(sweeps, len(rows))}{note}")
    if any(r.fit is not None and set(r_names) & set(r.fit.unresolved) for r in rows):
        _console.print(
            "unresolved = the data do not determine it (relative standard error > 100 % or "
            "at a bound); the value fitted is in brackets, details with --json"
        )


def _which(sweeps: list[int], n_rows: int) -> str:
    if n_rows == 1:
        return ""
    listed = ", ".join(map(str, sweeps[:12])) + ("..." if len(sweeps) > 12 else "")
    return f"sweep{'s' if len(sweeps) > 1 else ''} {listed}: "


def _sigma_line(rows: list[Any]) -> None:
    computed = [r for r in rows if r.sigma_ms_cm is not None]
    missing = [r for r in rows if r.sigma_ms_cm is None]
    if len(rows) == 1 and computed:
        r = computed[0]
        source = r.spectrum.metadata.get("area_source")
        area = f"A = {r.spectrum.area_cm2:g} cm2 " + (
            "from the file" if source == "file" else "as given"
        )
        _console.print(
            f"sigma = L / (R A) = [bold]{r.sigma_ms_cm:.4g} mS/cm[/] "
            f"(R = {' + '.join(r.sigma_from)}, {area})"
        )
    elif computed and rows[0].spectrum.area_cm2 is not None:
        source = rows[0].spectrum.metadata.get("area_source")
        _console.print(
            f"sigma = L / (R A), R = {' + '.join(computed[0].sigma_from)}, "
            f"A = {rows[0].spectrum.area_cm2:g} cm2 {'from the file' if source == 'file' else 'as given'}"
        )
    reasons: dict[str, list[int]] = {}
    for r in missing:
        note = r.sigma_note or ""
        if len(rows) > 1:  # one line for all sweeps with the same reason
            note = re.sub(r" \([^()]*\)", "", note)
        reasons.setdefault(note, []).append(r.sweep)
    for reason, sweeps in reasons.items():
        _console.print(f"sigma: {_which(sweeps, len(rows))}{reason}")


def fit_eis_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="Impedance file: BioLogic .mpt/.mpr, Gamry .DTA, ZPlot/ZView .z (also Autolab), "
            "CH Instruments, VersaStudio .par, PowerSuite, PARSTAT or CSV."
        ),
    ],
    circuit: Annotated[
        str | None,
        typer.Option(
            help="Circuit string, e.g. 'R0-p(R1,CPE1)-CPE2'. Default: chosen from the spectra."
        ),
    ] = None,
    area_cm2: Annotated[
        float | None, typer.Option("--area-cm2", help="Electrode area in cm2.")
    ] = None,
    thickness_cm: Annotated[
        float | None, typer.Option("--thickness-cm", help="Pellet thickness in cm.")
    ] = None,
    sweep: Annotated[
        int | None,
        typer.Option(help="Fit only sweep N (1-based) of a file with several sweeps."),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            help="Write a Nyquist + Bode plot of data and fit here (PNG); with several sweeps "
            "one file per sweep, named OUT_sweepN.png."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object (a 'sweeps' list inside).")
    ] = False,
) -> None:
    """Fit an equivalent circuit to each sweep of an impedance file, with a Kramers-Kronig check.

    A file with several sweeps (cycles, loops, restarts) gives one row per sweep: start time,
    the resistances with standard errors, chi-square and, when the geometry is known, the
    conductivity sigma = L / (R A). Sweeps are never merged. Parameters the data do not
    determine are marked unresolved and no sigma is computed from them.
    """
    from design.cli.paths import output_file
    from physics.eis.readers import read_spectra
    from physics.eis.readers.sweeps import select_sweep
    from physics.eis.sweep_fit import fit_sweeps
    from physics.plotting.eis import plot_fit

    for name, value in (("--area-cm2", area_cm2), ("--thickness-cm", thickness_cm)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise ConfigError(f"{name} must be a positive number, got {value}")
    if sweep is not None and sweep < 1:
        raise ConfigError(f"--sweep counts from 1, got {sweep}")
    if plot is not None:  # before the fit: a wrong path costs nothing
        output_file(plot, "--plot", suffixes=_PLOT_SUFFIXES, overwrite=True)
    spectra = read_spectra(file, area_cm2=area_cm2)
    if sweep is not None:
        spectra = [select_sweep(file, spectra, sweep)]
    rows, set_notes = fit_sweeps(spectra, circuit=circuit, thickness_cm=thickness_cm)
    first = spectra[0].metadata
    plots = []
    if plot is not None:
        for row in rows:
            if row.fit is None:
                continue
            out = (
                plot
                if len(rows) == 1
                else plot.with_name(f"{plot.stem}_sweep{row.sweep}{plot.suffix}")
            )
            try:
                plot_fit(row.fit, out, title=f"{file.name} sweep {row.sweep}: {row.circuit}")
            except OSError as exc:
                raise OutputPathError(
                    f"--plot {out}: cannot write ({exc.strerror or exc})"
                ) from None
            plots.append(out)
    file_notes = list(first.get("notes", [])) + set_notes
    if as_json:
        payload = {
            "file": str(file),
            "instrument": first.get("instrument"),
            "format": first.get("format"),
            "technique": first.get("technique"),
            "file_start": first.get("file_start"),
            "aborted": first.get("aborted"),
            "n_sweeps_in_file": first.get("n_sweeps", len(spectra)),
            "notes": file_notes,
            "sweeps": [_sweep_json(r) for r in rows],
        }
        typer.echo(json.dumps(payload, indent=2, default=float, allow_nan=False))
        return
    n_total = int(first.get("n_sweeps", len(spectra)))
    what = f"{first.get('instrument', '')} {first.get('technique', '')}".strip()
    if len(rows) == 1:
        s = spectra[0]
        sweep_text = f", sweep {rows[0].sweep} of {n_total}" if n_total > 1 else ""
        _console.print(
            f"[bold]{file}[/] ({what}{sweep_text}): {s.n_points} points, "
            f"{s.frequency_hz.max():.4g} Hz to {s.frequency_hz.min():.4g} Hz"
        )
    else:
        _console.print(
            f"[bold]{file}[/] ({what}): {len(rows)} sweeps, fitted one by one (never merged)"
            + (f"; file started {first['file_start']}" if first.get("file_start") else "")
        )
    for note in file_notes:
        _console.print(f"note: {note}")
    if len(rows) == 1:
        _print_one(rows[0])
    else:
        _print_many(rows)
    _sigma_line(rows)
    for path in plots[:3]:
        _console.print(f"plot: {path}")
    if len(plots) > 3:
        _console.print(f"plot: ... and {len(plots) - 3} more beside it")
