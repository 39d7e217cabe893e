"""CLI commands of the design loop: ``gbs suggest`` and ``gbs predict``.

JSON output of both (``--json`` prints only the JSON on stdout): a list of objects with the
recipe fields, ``{"mean": ..., "sd": ...}`` for each of sigma_total_ms_cm, ccd_ma_cm2 and
electronic_fraction in their own units (lognormal / logit-normal moments of the latent
posterior), ``p_feasible``, and for ``suggest`` the ``acquisition_value`` (natural log of
p_feasible times the expected improvement; null where nothing improves).
"""

from __future__ import annotations

import json
import math
import tempfile
import warnings
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from physics.errors import ConfigError, DataError

__all__ = ["parse_thresholds", "predict_command", "read_csv", "register", "suggest_command"]

_console = Console()
_err = Console(stderr=True)
EXPERIMENT = "gbs-suggest"


def read_csv(path: Path, what: str = "measurement table") -> pd.DataFrame:
    """Read a table file as strings (``physics.table.read_raw_table``: separator, decimal
    comma, encoding, units row); validation is left to the caller. Notes of the reading go
    to stderr.

    Raises:
        DataError: no such file, or not a readable table (the message names the file).
    """
    from physics.table import read_raw_table, table_notes

    frame = read_raw_table(path, what)
    for note in table_notes(frame):
        _err.print(f"note: {path.name}: {note}", markup=False, highlight=False)
    return frame


def parse_thresholds(items: list[str] | None) -> dict[str, float]:
    """``["sigma_total_ms_cm=1", ...]`` -> dict, checked by the acquisition's rules.

    Raises:
        ConfigError: not NAME=VALUE, an unknown name (valid ones listed) or a bad value.
    """
    from design.acquisition.batch import check_thresholds

    out: dict[str, Any] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(
                f"--threshold {item!r}: expected NAME=VALUE, e.g. sigma_total_ms_cm=1"
            )
        out[name.strip()] = value.strip()
    return check_thresholds(out)


def _fmt(entry: dict[str, Any] | float | None, digits: int = 3) -> str:
    if isinstance(entry, dict):
        m, s = entry["mean"], entry["sd"]
        return "—" if m is None else f"{m:.{digits}g} ± {s:.2g}"
    if entry is None or (isinstance(entry, float) and not math.isfinite(entry)):
        return "—"
    return f"{entry:.{digits}g}"


def suggestions_table(records: list[dict[str, Any]], title: str, acquisition: bool) -> Table:
    """Recipes with mean ± sd of each objective, p_feasible and (optionally) log acquisition.

    ``records`` are JSON records (``Suggestion.to_record`` or ``Prediction.to_records``).
    """
    table = Table(title=title, box=box.SIMPLE_HEAD)
    for col in (
        "x",
        "T C",
        "dwell h",
        "sigma mS/cm",
        "CCD mA/cm2",
        "t_e",
        "p_ok",
        *(["log acq"] if acquisition else []),
    ):
        # recipes never shrink; predictions wrap at "±" when the terminal is narrow
        recipe = col in ("x", "T C", "dwell h")
        table.add_column(col, justify="right", no_wrap=recipe, min_width=4 if recipe else None)
    for r in records:
        row = [
            f"{r['zbo_fraction']:.2f}",
            f"{r['sinter_temperature_c']:.0f}",
            f"{r['dwell_h']:g}",
            _fmt(r["sigma_total_ms_cm"]),
            _fmt(r["ccd_ma_cm2"]),
            _fmt(r["electronic_fraction"]),
            _fmt(r["p_feasible"], 2),
        ]
        if acquisition:
            row.append(_fmt(r["acquisition_value"]))
        table.add_row(*row)
    return table


def _print_table(records: list[dict[str, Any]], title: str, acquisition: bool) -> None:
    _console.print(suggestions_table(records, title, acquisition))


def _log_mlflow(
    tracking_uri: str | None,
    data: Path,
    table: pd.DataFrame,
    params: dict,
    records: list[dict],
    plots: list[Path],
) -> str:
    import mlflow
    from mlflow.data.pandas_dataset import from_pandas

    from design.tracking.store import ensure_experiment

    experiment_id = ensure_experiment(EXPERIMENT, tracking_uri=tracking_uri)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        with warnings.catch_warnings():  # "source can be interpreted in multiple ways"
            warnings.simplefilter("ignore", UserWarning)
            dataset = from_pandas(table, source=str(data.resolve()), name=data.name)
        mlflow.log_input(dataset, context="training")
        mlflow.log_params(params)
        mlflow.log_dict(records, "suggestions.json")  # type: ignore[arg-type]  # a JSON list
        flat = pd.json_normalize(records)
        mlflow.log_table(flat, artifact_file="suggestions_table.json")
        for path in plots:
            mlflow.log_artifact(str(path), artifact_path="plots")
    return run.info.run_id


def _prior_summary(surrogate: object) -> dict:
    prior = getattr(surrogate, "physics_prior_", None)
    return {} if prior is None else prior.summary()


def suggest_command(
    data: Annotated[Path, typer.Option("--data", help="Measurement table (CSV).")],
    batch: Annotated[int, typer.Option("--batch", help="Number of recipes to suggest.")] = 4,
    strategy: Annotated[str, typer.Option(help="physics-gp, gp or sobol.")] = "physics-gp",
    threshold: Annotated[
        list[str] | None,
        typer.Option(
            "--threshold", help="NAME=VALUE, e.g. sigma_total_ms_cm=1 or electronic_fraction=0.05."
        ),
    ] = None,
    objective: Annotated[str, typer.Option(help="multi (3 objectives) or sigma.")] = "multi",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")] = False,
    plot_dir: Annotated[Path | None, typer.Option("--plot-dir", help="Write plots here.")] = None,
    tracking_uri: Annotated[
        str | None, typer.Option("--tracking-uri", help="MLflow store.")
    ] = None,
    no_mlflow: Annotated[bool, typer.Option("--no-mlflow", help="Do not log to MLflow.")] = False,
) -> None:
    """Suggest the next recipes to sinter (multi-objective batch Bayesian optimization)."""
    from design.acquisition.batch import suggest
    from design.reporting.plots import plot_pareto, plot_posterior_maps
    from physics.schema import RecipeSpace
    from surrogate import STRATEGIES, make_surrogate
    from surrogate.base import split_noise_columns

    if strategy not in STRATEGIES:
        raise ConfigError(
            f"unknown strategy {strategy!r}; valid strategies: {', '.join(STRATEGIES)}"
        )
    thresholds = parse_thresholds(threshold)
    raw = read_csv(data)
    space = RecipeSpace()
    clean, _ = split_noise_columns(raw, space.default_dwell_h)
    surrogate = make_surrogate(
        strategy, seed=seed, bounds=space.bounds, default_dwell_h=space.default_dwell_h
    )
    suggestions = suggest(
        raw,
        space=space,
        batch_size=batch,
        strategy=strategy,
        thresholds=thresholds,
        objective=objective,
        seed=seed,
        surrogate=surrogate,
    )
    records = [s.to_record() for s in suggestions]
    plots: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        target = plot_dir if plot_dir is not None else (Path(tmp) if not no_mlflow else None)
        if target is not None and strategy != "sobol":
            plots = plot_posterior_maps(surrogate, space, clean, suggestions, target)
            plots.append(plot_pareto(surrogate, space, clean, suggestions, target))
        run_id = None
        if not no_mlflow:
            params = {
                "strategy": strategy,
                "batch": batch,
                "objective": objective,
                "seed": seed,
                "n_rows": len(clean),
                "data": str(data),
                **{f"threshold.{k}": v for k, v in thresholds.items()},
                **_prior_summary(surrogate),
            }
            run_id = _log_mlflow(tracking_uri, data, clean, params, records, plots)
    if as_json:
        typer.echo(json.dumps(records))
        return
    _print_table(records, f"next {len(records)} recipes ({strategy}, {objective})", True)
    prior = getattr(surrogate, "physics_prior_", None)
    if prior is not None:
        _err.print(
            "physics prior mean (chosen by cross-validation): "
            + ", ".join(f"{name} {prior.choice[name]}" for name in prior.choice)
        )
    if plot_dir is not None and plots:
        _err.print(f"plots: {', '.join(str(p) for p in plots)}")
    if run_id:
        _err.print(f"MLflow run {run_id} (experiment {EXPERIMENT})")


def predict_command(
    data: Annotated[Path, typer.Option("--data", help="Measurement table (CSV).")],
    at: Annotated[
        Path,
        typer.Option("--at", help="CSV of recipes: zbo_fraction, sinter_temperature_c, dwell_h."),
    ],
    strategy: Annotated[str, typer.Option(help="physics-gp or gp.")] = "physics-gp",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")] = False,
) -> None:
    """Predict the three objectives and p_feasible at given recipes."""
    from physics.schema import RecipeSpace
    from surrogate import make_surrogate
    from surrogate.base import recipes_frame

    space = RecipeSpace()
    recipes = read_csv(at, "recipe file")
    for col in ("zbo_fraction", "sinter_temperature_c"):
        if col not in recipes.columns:
            raise DataError(
                f"{at}: missing column {col}; expected zbo_fraction, sinter_temperature_c, dwell_h"
            )
    try:
        numeric = recipes.apply(pd.to_numeric, errors="raise")
    except (ValueError, TypeError) as exc:
        raise DataError(f"{at}: recipe values must be numbers ({exc})") from exc
    frame = recipes_frame(numeric, space.default_dwell_h)
    surrogate = make_surrogate(
        strategy, seed=seed, bounds=space.bounds, default_dwell_h=space.default_dwell_h
    ).fit(read_csv(data))
    records = surrogate.predict(frame).to_records()
    if as_json:
        typer.echo(json.dumps(records))
        return
    _print_table(records, f"predictions ({strategy})", False)


def register(app: typer.Typer) -> None:
    """Add ``suggest`` and ``predict`` to the main app."""
    app.command("suggest")(suggest_command)
    app.command("predict")(predict_command)
