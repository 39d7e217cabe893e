"""A one-page HTML summary of a campaign, plots embedded, for people who will not open MLflow."""

from __future__ import annotations

import base64
import html
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from design.reporting.format import format_mean_sd, format_value
from design.reporting.summary import CampaignSummary

__all__ = ["render_report", "write_report"]

_OBJECTIVES = (
    ("sigma_total_ms_cm", "σ total (mS/cm)"),
    ("ccd_ma_cm2", "CCD (mA/cm²)"),
    ("electronic_fraction", "t_e"),
)
_PLOT_ORDER = (
    ("progress", "Progress"),
    ("pareto_front", "Predicted Pareto front"),
    ("posterior_sigma_total_ms_cm", "Posterior: total ionic conductivity"),
    ("posterior_ccd_ma_cm2", "Posterior: critical current density"),
    ("posterior_electronic_fraction", "Posterior: electronic fraction"),
    ("p_feasible", "Probability of feasibility"),
)
_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9em}td,th{padding:.25em .7em;border-bottom:1px solid #eee;text-align:right}
th{background:#f5f5f5}td:first-child,th:first-child{text-align:left}
.plots img{max-width:100%;margin:.5em 0;border:1px solid #eee}.muted{color:#777}
"""


def _fmt(value: Any) -> str:
    return html.escape(format_value(value))


#: Metric names with units that the plain name would hide.
_METRIC_LABELS = {"furnace_energy_proxy_kkh": "furnace energy proxy (kK h: dwell x (T - 298 K))"}


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def render_report(summary: CampaignSummary) -> str:
    """The report as one self-contained HTML page."""
    snap, cfg = summary.snapshot, summary.config
    thresholds = ", ".join(f"{k} = {v:g}" for k, v in (cfg.get("thresholds") or {}).items())
    parts = [
        f"<h1>Campaign {html.escape(snap.name)}</h1>",
        f"<p>Status <b>{html.escape(snap.status)}</b>"
        + (f" ({html.escape(snap.message)})" if snap.message else "")
        + f": {snap.budget_text()} (instrument-hours), strategy "
        f"{html.escape(str(cfg.get('strategy')))}, thresholds {html.escape(thresholds or 'none')}"
        + ("; sintering temperature minimized too (4-D)" if cfg.get("minimize_temperature") else "")
        + "."
        f" <span class=muted>Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.</span></p>",
        "<h2>Where it stands</h2>",
        _table(
            ["metric", "value"],
            [[_METRIC_LABELS.get(k, k.replace("_", " ")), v] for k, v in snap.metrics.items()]
            + [[f"jobs {k}", v] for k, v in sorted(snap.jobs.items())],
        ),
        "<h2>Best recipes measured (by conductivity)</h2>",
        _table(
            [
                "sample",
                "x ZBO",
                "T (°C)",
                "dwell (h)",
                "σ (mS/cm)",
                "CCD (mA/cm²)",
                "t_e",
                "source",
            ],
            [
                [
                    b.get("sample_id"),
                    b.get("zbo_fraction"),
                    b.get("sinter_temperature_c"),
                    b.get("dwell_h"),
                    b.get("sigma_total_ms_cm"),
                    b.get("ccd_ma_cm2"),
                    b.get("electronic_fraction"),
                    b.get("source"),
                ]
                for b in snap.best
            ],
        ),
        "<h2>What to try next</h2>",
        _table(
            ["x ZBO", "T (°C)", "dwell (h)"]
            + [f"{label} mean ± sd" for _, label in _OBJECTIVES]
            + ["p feasible", "acquisition"],
            [
                [s.recipe["zbo_fraction"], s.recipe["sinter_temperature_c"], s.recipe["dwell_h"]]
                + [format_mean_sd(s.mean.get(k), s.sd.get(k)) for k, _ in _OBJECTIVES]
                + [s.p_feasible, s.acquisition_value]
                for s in summary.suggestions
            ],
        ),
    ]
    if snap.rejected_reasons:
        items = "".join(f"<li>{html.escape(r)}</li>" for r in snap.rejected_reasons)
        parts += ["<h2>Results set aside</h2>", f"<ul>{items}</ul>"]
    plots = [(summary.plots[key], title) for key, title in _PLOT_ORDER if key in summary.plots]
    if plots:
        parts.append("<h2>Plots</h2><div class=plots>")
        parts += [f"<h3>{html.escape(title)}</h3>{_img(path)}" for path, title in plots]
        parts.append("</div>")
    table = summary.table
    columns = [c for c in table.columns if c != "source"]
    parts += [
        f"<h2>Measurement table ({len(table)} samples)</h2>",
        _table(
            columns,
            table[columns].astype(object).where(table[columns].notna(), None).values.tolist(),
        ),
    ]
    body = "\n".join(parts)
    return (
        "<!doctype html><html><head><meta charset=utf-8>"
        f"<title>Campaign {html.escape(snap.name)}</title><style>{_CSS}</style></head>"
        f"<body>{body}</body></html>"
    )


def write_report(summary: CampaignSummary, path: Path) -> Path:
    """Write :func:`render_report` to ``path`` (folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(summary), encoding="utf-8")
    return path
