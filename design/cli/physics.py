"""CLI commands of the physics core: ``gbs fit-eis`` and ``gbs analyze``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from design.cli.fit_eis import fit_eis_command
from design.reporting.format import format_value
from physics.errors import AnalysisError

__all__ = ["analyze_command", "fit_eis_command", "register"]

_console = Console()


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
    """Turn a cycler result into its measurement-table row.

    A result that cannot give a trustworthy row (implausible geometry, corrupt numbers,
    reversed frequencies, no measurement) is refused in one line naming the field and the
    fix; what was read another way (ascending frequencies, a flipped Z'' sign) or left empty
    (repeats that disagree, one temperature only: no Ea) is printed as a note (stderr with
    ``--json``).
    """
    from design.cli.paths import output_dir
    from physics.measurements.results import analyze_result
    from physics.plotting.measurements import plot_analysis

    if plot_dir is not None:
        output_dir(plot_dir, "--plot-dir")
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
        for note in analysis.notes:  # what was corrected or left empty is never silent
            typer.echo(f"note: {note}", err=True)
        return
    table = Table("column", "value", title=f"{result_file.name} (job {analysis.job_id})")
    for column, value in analysis.row.items():
        table.add_row(column, format_value(value, 4))
    _console.print(table)
    for note in analysis.notes:
        _console.print(f"note: {note}", markup=False, highlight=False)
    for path in paths:
        _console.print(f"plot: {path}")


def register(app: typer.Typer) -> None:
    """Add ``fit-eis`` and ``analyze`` to ``app``."""
    app.command("fit-eis")(fit_eis_command)
    app.command("analyze")(analyze_command)
