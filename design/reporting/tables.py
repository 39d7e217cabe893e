"""Terminal tables of suggested or predicted recipes (rich), shared by the CLI and the demo."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.table import Table

from design.reporting.format import format_mean_sd, format_value

__all__ = ["FAR_FROM_DATA_KEY", "suggestions_table"]

#: Record key (bool) set by ``gbs predict`` / ``gbs suggest``: the recipe is far from any data.
FAR_FROM_DATA_KEY = "far_from_data"


def suggestions_table(records: list[dict[str, Any]], title: str, acquisition: bool) -> Table:
    """Recipes with mean ± sd of each objective, p_feasible and (optionally) log acquisition.

    Args:
        records: JSON records (``Suggestion.to_record`` or ``Prediction.to_records``); when
            any carries ``far_from_data`` a last column says "far" for those recipes.
        title: the table's title.
        acquisition: add the ``log acq`` column (``acquisition_value``).
    """
    table = Table(title=title, box=box.SIMPLE_HEAD)
    flagged = any(FAR_FROM_DATA_KEY in r for r in records)
    columns = ["x", "T C", "dwell h", "sigma mS/cm", "CCD mA/cm2", "t_e", "p_ok"]
    columns += ["log acq"] if acquisition else []
    columns += ["data"] if flagged else []
    for col in columns:
        # recipes never shrink; predictions wrap at "±" when the terminal is narrow
        recipe = col in ("x", "T C", "dwell h")
        table.add_column(col, justify="right", no_wrap=recipe, min_width=4 if recipe else None)
    for r in records:
        row = [
            f"{r['zbo_fraction']:.2f}",
            f"{r['sinter_temperature_c']:.0f}",
            f"{r['dwell_h']:g}",
            format_mean_sd(r["sigma_total_ms_cm"], None),
            format_mean_sd(r["ccd_ma_cm2"], None),
            format_mean_sd(r["electronic_fraction"], None),
            format_value(r["p_feasible"], 2),
        ]
        if acquisition:
            row.append(format_value(r["acquisition_value"]))
        if flagged:
            row.append("[yellow]far[/]" if r.get(FAR_FROM_DATA_KEY) else "near")
        table.add_row(*row)
    return table
