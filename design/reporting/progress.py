"""Live display of a running campaign (rich), and the ``gbs campaign status`` table.

On a terminal the display redraws in place; otherwise (a log file, a test's pipe) it prints one
plain line whenever the counts change.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from design.reporting.format import format_value
from design.reporting.snapshot import CampaignSnapshot

__all__ = ["HOURS_LABELS", "CampaignDisplay", "hours_text", "snapshot_line", "status_table"]

_JOB_ORDER = (
    "submitting",
    "queued",
    "running",
    "fetched",
    "done",
    "cracked",
    "fault",
    "rejected",
    "failed",
)


#: Short names of the parts of instrument-hours, in display order.
HOURS_LABELS: dict[str, str] = {
    "sintering": "sinter",
    "eis_blocking": "EIS",
    "dc_polarization": "DC",
    "eis_symmetric": "EIS-Na",
    "ccd_staircase": "CCD",
}


def hours_text(snap: CampaignSnapshot) -> str:
    """``412/1000 h (sinter 80, EIS 60, DC 120, EIS-Na 12, CCD 140)``."""
    h = snap.hours
    spent = f"{h.spent_h:.0f}" + ("" if h.budget_h is None else f"/{h.budget_h:.0f}") + " h"
    parts = [
        f"{HOURS_LABELS.get(k, k)} {h.parts_h[k]:.0f}"
        for k in [*HOURS_LABELS, *sorted(set(h.parts_h) - set(HOURS_LABELS))]
        if h.parts_h.get(k)
    ]
    return spent + (f" ({', '.join(parts)})" if parts else "")


def snapshot_line(snap: CampaignSnapshot) -> str:
    """One plain line: counts, hours, best values and hypervolume, services away."""
    jobs = " ".join(f"{k}={snap.jobs[k]}" for k in _JOB_ORDER if snap.jobs.get(k))
    m = snap.metrics
    done = f"{snap.experiments_done}/{snap.budget}" if snap.budget else str(snap.experiments_done)
    follow = f" +{snap.followups_done} follow-ups" if snap.followups_done else ""
    away = "".join(f" | {note}" for note in snap.notes)
    return (
        f"[{snap.name}] {done} done{follow}, {hours_text(snap)} | jobs {jobs or 'none'} | "
        f"best sigma {format_value(m.get('best_sigma_ms_cm'))} mS/cm, CCD {format_value(m.get('best_ccd_ma_cm2'))} "
        f"mA/cm2, t_e {format_value(m.get('lowest_electronic_fraction'))} | HV {format_value(m.get('hypervolume'))}"
        + away
    )


def status_table(snap: CampaignSnapshot) -> Group:
    """Rich renderable: jobs by status, progress, metrics and the best recipes so far."""
    head = Text(
        f"Campaign {snap.name}: {snap.status}"
        + (f" ({snap.message})" if snap.message else "")
        + f" - {snap.budget_text()}, {snap.followups_done} follow-ups, "
        f"{snap.proposals_open} in flight, {snap.proposals_abandoned} abandoned",
        style="bold",
    )
    jobs = Table(title="Jobs by status", show_header=True)
    jobs.add_column("status")
    jobs.add_column("jobs", justify="right")
    for key in _JOB_ORDER:
        if snap.jobs.get(key):
            jobs.add_row(key, str(snap.jobs[key]))
    metrics = Table(title="Best so far", show_header=True)
    metrics.add_column("metric")
    metrics.add_column("value", justify="right")
    labels = {
        "best_sigma_ms_cm": "sigma_total (mS/cm)",
        "best_ccd_ma_cm2": "CCD (mA/cm2)",
        "lowest_electronic_fraction": "t_e (lowest)",
        "hypervolume": "hypervolume",
        "hypervolume_4d": "hypervolume 4-D (with temperature)",
    }
    for key, label in labels.items():
        if key in snap.metrics or key != "hypervolume_4d":
            metrics.add_row(label, format_value(snap.metrics.get(key)))
    best = Table(title="Best recipes (by sigma)", show_header=True)
    for col in ("sample", "x ZBO", "T (C)", "dwell (h)", "sigma", "CCD", "t_e", "source"):
        best.add_column(col)
    for row in snap.best:
        best.add_row(
            str(row["sample_id"]),
            format_value(row["zbo_fraction"]),
            format_value(row["sinter_temperature_c"]),
            format_value(row["dwell_h"]),
            format_value(row["sigma_total_ms_cm"]),
            format_value(row["ccd_ma_cm2"]),
            format_value(row["electronic_fraction"]),
            str(row["source"]),
        )
    hours = Table(title="Instrument-hours", show_header=True)
    hours.add_column("spent on")
    hours.add_column("h", justify="right")
    for key in [*HOURS_LABELS, *sorted(set(snap.hours.parts_h) - set(HOURS_LABELS))]:
        if snap.hours.parts_h.get(key):
            hours.add_row(key, f"{snap.hours.parts_h[key]:.1f}")
    if len(snap.hours.by_service_h) > 1:
        for service, h in sorted(snap.hours.by_service_h.items()):
            hours.add_row(f"on {service}", f"{h:.1f}")
    budget = "" if snap.hours.budget_h is None else f" of {snap.hours.budget_h:.0f}"
    hours.add_row("total", f"{snap.hours.spent_h:.1f}{budget}")
    hours.add_row("furnace energy proxy (kK h)", f"{snap.hours.furnace_energy_proxy_kkh:.2f}")
    parts: list[Any] = [head, jobs, hours, metrics, best]
    if snap.notes:
        parts.append(Text("Services: " + "; ".join(snap.notes)))
    if snap.rejected_reasons:
        parts.append(
            Text("Set aside (analysis failed):\n  " + "\n  ".join(snap.rejected_reasons[-5:]))
        )
    return Group(*parts)


class CampaignDisplay:
    """Context manager fed with snapshots by :class:`design.campaign.runner.CampaignRunner`.

    Args:
        console: where to draw (default: stdout).
        live: redraw in place; default only when the console is a terminal.
    """

    def __init__(self, console: Console | None = None, *, live: bool | None = None) -> None:
        self.console = console or Console()
        self.live_enabled = self.console.is_terminal if live is None else live
        self._live: Live | None = None
        self._last = ""

    def __enter__(self) -> CampaignDisplay:
        if self.live_enabled:
            self._live = Live(console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None

    def __call__(self, snap: CampaignSnapshot) -> None:
        if self._live is not None:
            self._live.update(status_table(snap))
            return
        line = snapshot_line(snap)
        if line != self._last:
            self.console.print(line, highlight=False, soft_wrap=True)
            self._last = line
