"""The README's main command: ``gbs demo``, a whole closed loop on this machine.

It starts the built-in cycler simulator (a subprocess on a free loopback port, with a fresh
random token), runs a campaign of a dozen experiments in batches of four from the paper's data,
logs everything to MLflow (``mlruns/`` in this repository unless ``MLFLOW_TRACKING_URI`` or
``--tracking-uri`` says otherwise), and ends by printing the best recipes found, the next
suggestions, and the command that opens the MLflow UI.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from design.campaign.config import CampaignConfig
from design.campaign.runner import default_proposer
from design.campaign.session import load_initial_data, start_campaign
from design.reporting.progress import CampaignDisplay, status_table
from design.reporting.snapshot import CampaignSnapshot
from design.store.database import Store, resolve_db_url
from design.store.ledger import measurement_table
from experiments import paper_table_path
from physics.schema import RecipeSpace

__all__ = ["DemoResult", "run_demo", "ui_command_for"]


@dataclass
class DemoResult:
    """What the demo did: the final snapshot, the next suggestions and where things are."""

    snapshot: CampaignSnapshot
    next_suggestions: list[Any]
    db_url: str
    tracking_uri: str
    ui_command: str


def ui_command_for(tracking_uri: str, campaign: str | None = None) -> str:
    """How to open ``tracking_uri`` in the MLflow UI: the command, then the link to open.

    The link shows ``campaign``'s runs table (default: the latest campaign's) in the UI's
    model-training view with the recipe and objective columns (design.tracking.views).
    """
    from design.tracking.store import default_tracking_uri
    from design.tracking.views import ui_links

    remote = tracking_uri.startswith(("http://", "https://"))
    base = tracking_uri if remote else "http://127.0.0.1:5000"
    link = next(iter(ui_links(tracking_uri, base, campaign).values()))
    if remote:
        return f"open {link}"
    if tracking_uri == default_tracking_uri():
        return f".venv/bin/gbs ui, then open {link}"
    return f".venv/bin/gbs ui --backend-store-uri {tracking_uri}, then open {link}"


def run_demo(
    *,
    n_experiments: int = 12,
    batch_size: int = 4,
    strategy: str = "physics-gp",
    seed: int = 0,
    tracking_uri: str | None = None,
    db_url: str | None = None,
    progress: bool = True,
    job_duration_s: float = 1.0,
    console: Console | None = None,
) -> DemoResult:
    """Run the demo campaign end to end against a private simulator; print a summary.

    Args:
        n_experiments: the campaign's budget.
        batch_size: jobs in flight (also the simulator's ``max_concurrent_jobs``).
        strategy: ``physics-gp``, ``gp`` or ``sobol``.
        seed: seeds the simulator and the loop.
        tracking_uri: MLflow store (default ``MLFLOW_TRACKING_URI`` or ``mlruns/``).
        db_url: campaign database (default ``campaigns/campaigns.db``).
        progress: live display.
        job_duration_s: simulated seconds per job (time compression).
        console: where to print (default stdout).
    """
    import os

    from design.tracking.store import resolve_tracking_uri
    from experiments.simulator.process import running_simulator

    console = console or Console()
    Store(db_url).close()  # an unusable --db fails here, before the simulator starts
    uri = resolve_tracking_uri(tracking_uri or os.environ.get("MLFLOW_TRACKING_URI"))
    name = f"demo-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    token = secrets.token_urlsafe(24)
    initial = load_initial_data(paper_table_path())
    console.print(
        f"Starting the cycler simulator and campaign [bold]{name}[/bold] "
        f"({n_experiments} experiments, batches of {batch_size}, {strategy})."
    )
    with running_simulator(
        seed=seed, token=token, job_duration_s=job_duration_s, max_concurrent_jobs=batch_size
    ) as sim:
        config = CampaignConfig(
            name=name,
            cycler_url=sim.url,
            budget=n_experiments,
            batch_size=batch_size,
            strategy=strategy,
            seed=seed,
            initial_data=str(paper_table_path()),
            poll_interval_s=0.2,
            poll_max_s=2.0,
            tracking_uri=uri,
        )
        with CampaignDisplay(console, live=None if progress else False) as display:
            snap = start_campaign(
                config, db_url=db_url, initial=initial, token=token, on_progress=display
            )
        space = _space(sim.url, token)
    store = Store(db_url)
    try:
        table = measurement_table(store, store.campaign(name).id)
    finally:
        store.close()
    proposed = default_proposer(
        table, batch_size=batch_size, pending=[], config=config, space=space, seed=seed + 10_000
    )
    result = DemoResult(
        snap, list(proposed.suggestions), resolve_db_url(db_url), uri, ui_command_for(uri, name)
    )
    _print_summary(console, result)
    return result


def _space(url: str, token: str) -> RecipeSpace:
    from experiments.cycler.client import CyclerClient

    with CyclerClient(url, token=token) as client:
        return RecipeSpace.from_capabilities(client.capabilities().raw)


def _print_summary(console: Console, result: DemoResult) -> None:
    console.print(status_table(result.snapshot))
    from design.reporting.tables import suggestions_table

    records = [sug.to_record() for sug in result.next_suggestions]
    nxt = suggestions_table(records, "Next suggestions (if the campaign went on)", False)
    console.print(nxt)
    console.print(f"Campaign database: {result.db_url}")
    console.print(f"MLflow runs:       {result.tracking_uri}")
    console.print(f"Open the MLflow UI: [bold]{result.ui_command}[/bold]", soft_wrap=True)
    console.print(f"Campaign status:    .venv/bin/gbs campaign status {result.snapshot.name}")
    console.print(f"One-page report:    .venv/bin/gbs campaign report {result.snapshot.name}")
