"""CLI commands of the design loop: ``gbs suggest`` and ``gbs predict``.

JSON output of both (``--json`` prints only the JSON on stdout): a list of objects with the
recipe fields, ``{"mean": ..., "sd": ...}`` for each of sigma_total_ms_cm, ccd_ma_cm2 and
electronic_fraction in their own units (lognormal / logit-normal moments of the latent
posterior), ``p_feasible``, ``far_from_data`` (true when the recipe is more than 0.2 of the
recipe ranges from every measured recipe, see :mod:`design.acquisition.extrapolation`) and for
``suggest`` the ``acquisition_value`` (natural log of p_feasible times the expected
improvement; null where nothing improves). With ``--minimize-temperature`` the sintering
temperature is a fourth objective, minimized: the improvement is the expected 4-D hypervolume
improvement (model-space volume x degC; reference temperature ``--threshold
sinter_temperature_c=T``, else the top of the temperature range plus one grid step).

The results are printed before anything is logged to MLflow, so a failing store never loses
them; the store itself is checked (in seconds) before the work starts.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console

from design.acquisition.thresholds import check_temperature_objective, parse_thresholds
from design.errors import InputTooLargeError
from physics.errors import ConfigError, DataError

__all__ = [
    "MAX_BATCH",
    "MAX_PREDICT_RECIPES",
    "MAX_TABLE_ROWS",
    "predict_command",
    "read_csv",
    "register",
    "suggest_command",
]

_console = Console()
_err = Console(stderr=True)

#: Largest ``--batch`` of ``gbs suggest``: a furnace load is a handful of pellets; 50 takes
#: about 25 s on one core, 100 about 2 min.
MAX_BATCH = 50
#: Most rows of a measurement table: 1000 rows take about 45 s on one core (300 rows 13 s); an
#: exact GP's cost grows as rows**3.
MAX_TABLE_ROWS = 1000
#: Most recipes in one ``gbs predict --at`` file.
MAX_PREDICT_RECIPES = 100_000


def read_csv(
    path: Path, what: str = "measurement table", max_rows: int | None = None
) -> pd.DataFrame:
    """Read a table file as strings (``physics.table.read_raw_table``: separator, decimal
    comma, encoding, units row); validation is left to the caller. Notes of the reading go
    to stderr.

    Raises:
        DataError: no such file, or not a readable table (the message names the file).
        InputTooLargeError: more than ``max_rows`` rows.
    """
    from physics.table import read_raw_table, table_notes

    frame = read_raw_table(path, what)
    if max_rows is not None and len(frame) > max_rows:
        raise InputTooLargeError(
            f"{path}: {len(frame)} rows; this tool handles at most {max_rows} rows in a "
            f"{what} (the model's cost grows as rows cubed); keep the rows that matter"
        )
    for note in table_notes(frame):
        _err.print(f"note: {path.name}: {note}", markup=False, highlight=False)
    return frame


@contextmanager
def _working(message: str) -> Iterator[None]:
    """A spinner with ``message`` on a terminal's stderr; nothing when stderr is a file/pipe."""
    if _err.is_terminal:
        with _err.status(message):
            yield
    else:
        yield


def _recipe_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    from physics.schema import RECIPE_COLUMNS

    cols = [c for c in RECIPE_COLUMNS if c in frame.columns]
    return frame[cols].apply(pd.to_numeric, errors="coerce")


def _mark_far(records: list[dict[str, Any]], table: pd.DataFrame, space: Any) -> None:
    from design.acquisition.extrapolation import far_from_data
    from design.reporting.tables import FAR_FROM_DATA_KEY
    from physics.schema import RECIPE_COLUMNS

    if not records:
        return
    recipes = [[r[c] for c in RECIPE_COLUMNS] for r in records]
    far = far_from_data(recipes, _recipe_numbers(table), space)
    for rec, flag in zip(records, far, strict=True):
        rec[FAR_FROM_DATA_KEY] = bool(flag)


def _far_note(records: list[dict[str, Any]]) -> None:
    from design.acquisition.extrapolation import FAR_FROM_DATA

    n_far = sum(bool(r.get("far_from_data")) for r in records)
    if n_far:
        _err.print(
            f"{n_far} of {len(records)} recipes are far from data (more than {FAR_FROM_DATA:g} "
            "of the recipe ranges from every measured recipe): their predictions rest on the "
            "physics prior, not on measurements"
        )


def _prior_summary(surrogate: object) -> dict:
    """MLflow parameters: the physics weight per objective and any model-fitting problem."""
    prior = getattr(surrogate, "physics_prior_", None)
    out = {} if prior is None else prior.summary()
    for name, note in (getattr(surrogate, "fit_notes_", None) or {}).items():
        out[f"fit_note_{name}"] = note[:500]
    return out


def _with_model_notes(records: list[dict], surrogate: object) -> list[dict]:
    """JSON records with the physics weight per objective and any fitting problem added."""
    trust = getattr(surrogate, "trust_summary", None)
    numbers = trust()["numbers"] if callable(trust) else {}
    notes = getattr(surrogate, "fit_notes_", None) or {}
    for rec in records:
        if numbers:
            rec["physics_weight"] = {name: n["weight"] for name, n in numbers.items()}
        if notes:
            rec["model_notes"] = dict(notes)
    return records


def _model_notes(surrogate: object) -> None:
    """On stderr, in words: how far the model trusts the physics, and fitting problems."""
    trust = getattr(surrogate, "trust_summary", None)
    lines = trust()["lines"] if callable(trust) else {}
    if lines:
        _err.print("How far the model trusts the physics, per objective:")
        for line in lines.values():
            _err.print(f"  {line}", soft_wrap=True, markup=False, highlight=False)
    for name, note in (getattr(surrogate, "fit_notes_", None) or {}).items():
        _err.print(f"model fitting, {name}: {note}", soft_wrap=True, markup=False, highlight=False)


def suggest_command(
    data: Annotated[Path, typer.Option("--data", help="Measurement table (CSV).")],
    batch: Annotated[
        int, typer.Option("--batch", help=f"Number of recipes to suggest (1 to {MAX_BATCH}).")
    ] = 4,
    strategy: Annotated[str, typer.Option(help="physics-gp, gp or sobol.")] = "physics-gp",
    threshold: Annotated[
        list[str] | None,
        typer.Option(
            "--threshold", help="NAME=VALUE, e.g. sigma_total_ms_cm=1 or electronic_fraction=0.05."
        ),
    ] = None,
    objective: Annotated[str, typer.Option(help="multi (3 objectives) or sigma.")] = "multi",
    minimize_temperature: Annotated[
        bool,
        typer.Option(
            "--minimize-temperature",
            help="Also minimize the sintering temperature (a 4th objective, multi only); "
            "reference: --threshold sinter_temperature_c=T, else the top of the range.",
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")] = False,
    plot_dir: Annotated[
        Path | None, typer.Option("--plot-dir", help="Write plots in this folder.")
    ] = None,
    tracking_uri: Annotated[
        str | None, typer.Option("--tracking-uri", help="MLflow store.")
    ] = None,
    no_mlflow: Annotated[bool, typer.Option("--no-mlflow", help="Do not log to MLflow.")] = False,
) -> None:
    """Suggest the next recipes to sinter (multi-objective batch Bayesian optimization)."""
    from design.acquisition.batch import suggest
    from design.acquisition.extrapolation import check_in_space
    from design.cli.paths import output_dir
    from design.reporting.plots import plot_pareto, plot_posterior_maps
    from design.reporting.tables import suggestions_table
    from design.tracking.suggest import SUGGEST_EXPERIMENT, check_suggest_store, log_suggestions
    from physics.schema import RecipeSpace
    from surrogate import STRATEGIES, make_surrogate
    from surrogate.base import split_noise_columns

    # every check that can fail fast, before the work
    if strategy not in STRATEGIES:
        raise ConfigError(
            f"unknown strategy {strategy!r}; valid strategies: {', '.join(STRATEGIES)}"
        )
    if not 1 <= batch <= MAX_BATCH:
        raise ConfigError(f"--batch must be between 1 and {MAX_BATCH}, got {batch}")
    thresholds = parse_thresholds(threshold)
    check_temperature_objective(thresholds, minimize_temperature, objective)
    if plot_dir is not None:
        output_dir(plot_dir, "--plot-dir")
    uri = None if no_mlflow else check_suggest_store(tracking_uri)
    raw = read_csv(data, max_rows=MAX_TABLE_ROWS)
    space = RecipeSpace()
    clean, _ = split_noise_columns(raw, space.default_dwell_h)  # unit mistakes named first
    check_in_space(_recipe_numbers(raw), space, source=str(data))
    surrogate = make_surrogate(
        strategy, seed=seed, bounds=space.bounds, default_dwell_h=space.default_dwell_h
    )
    with _working(f"fitting the {strategy} model on {len(raw)} rows, choosing {batch} recipes"):
        suggestions = suggest(
            raw,
            space=space,
            batch_size=batch,
            strategy=strategy,
            thresholds=thresholds,
            objective=objective,
            seed=seed,
            surrogate=surrogate,
            minimize_temperature=minimize_temperature,
        )
    records = [s.to_record() for s in suggestions]
    _mark_far(records, clean, space)
    with tempfile.TemporaryDirectory() as tmp:
        plots: list[Path] = []
        target = plot_dir if plot_dir is not None else (Path(tmp) if uri else None)
        if target is not None and strategy != "sobol":
            with _working("drawing the plots"):
                plots = plot_posterior_maps(surrogate, space, clean, suggestions, target)
                plots.append(plot_pareto(surrogate, space, clean, suggestions, target))
        # the results first: whatever happens to MLflow, the user has them
        if as_json:
            typer.echo(json.dumps(_with_model_notes(records, surrogate)))
        else:
            _console.print(
                suggestions_table(
                    records,
                    f"next {len(records)} recipes ({strategy}, {objective}"
                    f"{' + low temperature' if minimize_temperature else ''})",
                    True,
                )
            )
            _model_notes(surrogate)
            _far_note(records)
            if plot_dir is not None and plots:
                _err.print(f"plots: {', '.join(str(p) for p in plots)}")
        if uri is None:
            return
        params = {
            "strategy": strategy,
            "batch": batch,
            "objective": objective,
            "seed": seed,
            "n_rows": len(clean),
            "data": str(data),
            **({"minimize_temperature": True} if minimize_temperature else {}),
            **{f"threshold.{k}": v for k, v in thresholds.items()},
            **_prior_summary(surrogate),
        }
        with _working("logging to MLflow"):
            run_id = log_suggestions(uri, data, clean, params, records, plots)
    if not as_json:
        _err.print(f"MLflow run {run_id} (experiment {SUGGEST_EXPERIMENT})")


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
    """Predict the three objectives and p_feasible at given recipes (inside the recipe space).

    Recipes outside the space are refused; predictions more than 0.2 of the recipe ranges
    from every measured recipe are marked "far" (column ``data``, JSON ``far_from_data``).
    """
    from design.acquisition.extrapolation import check_in_space
    from design.reporting.tables import suggestions_table
    from physics.schema import RecipeSpace
    from surrogate import make_surrogate
    from surrogate.base import recipes_frame

    space = RecipeSpace()
    recipes = read_csv(at, "recipe file", max_rows=MAX_PREDICT_RECIPES)
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
    check_in_space(frame, space, source=str(at))
    table = read_csv(data, max_rows=MAX_TABLE_ROWS)
    with _working(f"fitting the {strategy} model on {len(table)} rows"):
        surrogate = make_surrogate(
            strategy, seed=seed, bounds=space.bounds, default_dwell_h=space.default_dwell_h
        ).fit(table)
        records = surrogate.predict(frame).to_records()
    _mark_far(records, table, space)
    if as_json:
        typer.echo(json.dumps(_with_model_notes(records, surrogate)))
        return
    _console.print(suggestions_table(records, f"predictions ({strategy})", False))
    _model_notes(surrogate)
    _far_note(records)


def register(app: typer.Typer) -> None:
    """Add ``suggest`` and ``predict`` to the main app."""
    app.command("suggest")(suggest_command)
    app.command("predict")(predict_command)
