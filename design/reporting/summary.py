"""What a finished (or running) campaign amounts to: its table, final model, plots, next steps.

Used twice: at the end of a campaign, to put the summary on the MLflow parent run (plots,
the measurement table as a dataset input, the surrogate as a pyfunc model, the HTML report),
and by ``gbs campaign report`` for people who will not open MLflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from design.reporting.snapshot import CampaignSnapshot, progress_metrics, snapshot
from design.store.database import Store
from design.store.ledger import measurement_table
from physics.schema import RecipeSpace

__all__ = ["CampaignSummary", "plot_progress", "summarize_campaign"]


@dataclass
class CampaignSummary:
    """A campaign's results.

    Attributes:
        snapshot: status, job counts, metrics and best rows from the database.
        config: the campaign's configuration (JSON dict).
        table: the measurement table (initial data and campaign rows).
        surrogate: the surrogate fitted on ``table`` (None for sobol).
        suggestions: what to try next.
        plots: name -> PNG path (progress, posterior maps, p_feasible, Pareto front).
    """

    snapshot: CampaignSnapshot
    config: dict[str, Any]
    table: pd.DataFrame
    surrogate: Any
    suggestions: list[Any]
    plots: dict[str, Path] = field(default_factory=dict)


def plot_progress(store: Store, name: str, path: Path) -> Path:
    """Best sigma, best CCD, lowest t_e and hypervolume against experiments done (and the
    4-D hypervolume on a second axis when the campaign minimizes the temperature)."""
    from matplotlib.figure import Figure

    rec = store.campaign(name)
    thresholds = rec.config.get("thresholds") or {}
    rows = store.rows(rec.id)
    initial = [r.row for r in rows if r.origin != "campaign"]
    campaign = [r.row for r in rows if r.origin == "campaign"]
    steps, history = [], []
    for k in range(len(campaign) + 1):
        frame = pd.DataFrame(initial + campaign[:k])
        if frame.empty:
            continue
        frame = _table_from_rows(frame)
        steps.append(k)
        history.append(
            progress_metrics(frame, thresholds, k, bool(rec.config.get("minimize_temperature")))
        )
    fig = Figure(figsize=(9, 6), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    for ax, (key, label) in zip(
        axes,
        (
            ("best_sigma_ms_cm", "best sigma_total (mS/cm)"),
            ("best_ccd_ma_cm2", "best CCD (mA/cm2)"),
            ("lowest_electronic_fraction", "lowest t_e"),
            ("hypervolume", "hypervolume"),
        ),
        strict=True,
    ):
        ax.plot(steps, [h[key] for h in history], "o-", ms=3)
        ax.set(xlabel="experiments done", ylabel=label)
        ax.grid(alpha=0.3)
        if key == "hypervolume" and history and "hypervolume_4d" in history[0]:
            twin = ax.twinx()
            twin.plot(steps, [h["hypervolume_4d"] for h in history], "s--", ms=3, color="C1")
            twin.set_ylabel("4-D hypervolume, with temperature (x degC)", color="C1")
    fig.suptitle(f"campaign {name}: progress (step 0 = initial data)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def _table_from_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate a frame of stored rows as a measurement table."""
    from physics.schema import MEASUREMENT_COLUMNS
    from physics.table import validate_table

    return validate_table(frame.reindex(columns=list(MEASUREMENT_COLUMNS)), name="campaign table")


def summarize_campaign(
    store: Store,
    name: str,
    out_dir: Path,
    *,
    space: RecipeSpace | None = None,
    n_suggestions: int = 4,
    plots: bool = True,
) -> CampaignSummary:
    """Fit the campaign's final model, suggest what to try next and draw the plots.

    Args:
        store: the campaign database.
        name: the campaign.
        out_dir: folder for the PNG files.
        space: the recipe space (default: the protocol's default space).
        n_suggestions: how many next recipes.
        plots: draw the plots (False: only the table, model and suggestions).
    """
    from design.acquisition.batch import suggest
    from design.reporting.plots import plot_pareto, plot_posterior_maps
    from surrogate import make_surrogate

    rec = store.campaign(name)
    config = dict(rec.config)
    snap = snapshot(store, name)
    table = measurement_table(store, rec.id)
    space = space or RecipeSpace()
    strategy = str(config.get("strategy", "physics-gp"))
    seed = int(config.get("seed", 0))
    thresholds = config.get("thresholds") or None
    surrogate = None
    if strategy != "sobol":
        surrogate = make_surrogate(
            strategy, seed=seed, bounds=space.bounds, default_dwell_h=space.default_dwell_h
        )
    suggestions = suggest(
        table,
        space=space,
        batch_size=n_suggestions,
        strategy=strategy,
        thresholds=thresholds,
        seed=seed,
        surrogate=surrogate,
        minimize_temperature=bool(config.get("minimize_temperature", False)),
    )
    summary = CampaignSummary(snap, config, table, surrogate, list(suggestions))
    if plots:
        out_dir.mkdir(parents=True, exist_ok=True)
        summary.plots["progress"] = plot_progress(store, name, out_dir / "progress.png")
        if surrogate is not None:
            for path in plot_posterior_maps(surrogate, space, table, suggestions, out_dir):
                summary.plots[path.stem] = path
            summary.plots["pareto_front"] = plot_pareto(
                surrogate, space, table, suggestions, out_dir
            )
    return summary
