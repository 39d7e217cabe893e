"""``gbs campaign run|resume|status|export`` and ``gbs demo`` (registered by design.cli.app).

Cycler services: ``--cycler-url URL`` (repeat it for several services: ``cycler-1``,
``cycler-2``... in that order). Tokens come from the environment only: ``CYCLER_TOKEN`` for
the first service, ``CYCLER_TOKEN_2``, ``CYCLER_TOKEN_3``... for the others. Campaign state
lives in ``campaigns/campaigns.db`` under the repository unless ``--db`` (a SQLAlchemy URL,
e.g. ``postgresql+psycopg://user@127.0.0.1:5432/db``) or ``GBS_CAMPAIGN_DB`` says otherwise.

``status``, ``export`` and ``report`` only read the campaign database: pointed at a SQLite file
that does not exist, is not a database or holds no campaigns, they say so in one line and
create nothing. Output files are checked before any work (a folder, an existing file without
``--force``, an unwritable place: one line each). ``run`` checks the MLflow store (seconds)
before it creates the campaign.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["campaign_app", "demo", "export", "register", "report", "resume", "run", "status"]

campaign_app = typer.Typer(
    name="campaign",
    help="Closed-loop campaigns with a cycler service (state survives crashes; resume any time).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="SQLAlchemy URL of the campaign database "
        "(default: GBS_CAMPAIGN_DB or sqlite:///<repo>/campaigns/campaigns.db).",
    ),
]
TrackingOpt = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri",
        help="MLflow tracking URI (default: MLFLOW_TRACKING_URI, "
        "else sqlite:///<repo>/mlruns/mlflow.db).",
    ),
]


ForceOpt = Annotated[bool, typer.Option("--force", help="Replace the output file if it exists.")]


def _display(enabled: bool):
    from design.reporting.progress import CampaignDisplay

    return CampaignDisplay(live=None if enabled else False)


def _interrupted(name: str) -> Exception:
    from design.errors import CampaignInterruptedError

    return CampaignInterruptedError(
        f"stopped; everything received is stored. Continue with: gbs campaign resume {name}"
    )


@campaign_app.command("run")
def run(
    cycler_url: Annotated[
        list[str],
        typer.Option(
            "--cycler-url",
            help="Base URL of a cycler service; repeat for several (tokens: CYCLER_TOKEN, "
            "CYCLER_TOKEN_2, ... in this order).",
        ),
    ],
    campaign: Annotated[str, typer.Option("--campaign", help="Campaign name (new).")],
    budget: Annotated[
        int | None, typer.Option("--budget", help="Number of samples to make.")
    ] = None,
    budget_hours: Annotated[
        float | None,
        typer.Option(
            "--budget-hours",
            help="Instrument-hours to spend (sintering and tests, all services together).",
        ),
    ] = None,
    protocols: Annotated[
        str,
        typer.Option(
            "--protocols",
            help="all: every test on every sample; staged: new samples get impedance and "
            "polarization, and each round the loop chooses between new samples and the CCD "
            "tests on samples already made by expected hypervolume gain per instrument-hour.",
        ),
    ] = "all",
    batch_size: Annotated[
        int | None,
        typer.Option(
            "--batch-size",
            help="Jobs in flight per service (default: each service's max_concurrent_jobs).",
        ),
    ] = None,
    strategy: Annotated[
        str, typer.Option("--strategy", help="physics-gp, gp or sobol.")
    ] = "physics-gp",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    initial_data: Annotated[
        Path | None,
        typer.Option(
            "--initial-data",
            help="Measurement-table CSV to start from (default: the paper's data).",
        ),
    ] = None,
    no_initial_data: Annotated[bool, typer.Option("--no-initial-data", help="Cold start.")] = False,
    threshold: Annotated[
        list[str] | None,
        typer.Option(
            "--threshold",
            help="Property threshold NAME=VALUE (repeatable), e.g. sigma_total_ms_cm=1.0.",
        ),
    ] = None,
    minimize_temperature: Annotated[
        bool,
        typer.Option(
            "--minimize-temperature",
            help="Also minimize the sintering temperature (a 4th objective; reference: "
            "--threshold sinter_temperature_c=T, else the top of the range). Kept on resume.",
        ),
    ] = False,
    tracking_uri: TrackingOpt = None,
    db: DbOpt = None,
    poll_interval: Annotated[
        float, typer.Option("--poll-interval", help="First polling interval, s.")
    ] = 1.0,
    poll_max: Annotated[
        float, typer.Option("--poll-max", help="Longest polling interval, s.")
    ] = 30.0,
    plots: Annotated[
        bool, typer.Option("--plots/--no-plots", help="Plots as MLflow artifacts.")
    ] = True,
    tracking: Annotated[
        bool, typer.Option("--tracking/--no-tracking", help="Log to MLflow.")
    ] = True,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Live display.")
    ] = True,
) -> None:
    """Start a campaign: propose, submit, poll, ingest, refit until the budget is spent.

    Give --budget (samples), --budget-hours (instrument-hours) or both.
    """
    from design.acquisition.thresholds import parse_thresholds
    from design.campaign.config import CampaignConfig
    from design.campaign.session import load_initial_data, start_campaign
    from design.tracking.connection import check_tracking_store, short_http_retries
    from design.tracking.store import default_tracking_uri
    from experiments import paper_table_path
    from physics.errors import ConfigError

    if initial_data is not None and no_initial_data:
        raise ConfigError("--initial-data and --no-initial-data exclude each other")
    source = None if no_initial_data else (initial_data or paper_table_path())
    chosen_uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()
    if not cycler_url:
        raise ConfigError("give the cycler service's address: --cycler-url URL")
    config = CampaignConfig(
        name=campaign,
        cycler_url=cycler_url[0],
        other_cycler_urls=list(cycler_url[1:]),
        budget=budget,
        budget_hours=budget_hours,
        protocol_policy=protocols,
        batch_size=batch_size,
        strategy=strategy,
        seed=seed,
        thresholds=parse_thresholds(threshold),
        minimize_temperature=minimize_temperature,
        initial_data=None if source is None else str(source),
        poll_interval_s=poll_interval,
        poll_max_s=max(poll_max, poll_interval),
        plots=plots,
        tracking=tracking,
        tracking_uri=chosen_uri,
    )
    initial = load_initial_data(source)
    if tracking:  # seconds, before the campaign exists: a wrong URI costs nothing
        short_http_retries()
        check_tracking_store(chosen_uri)
    try:
        with _display(progress) as display:
            snap = start_campaign(config, db_url=db, initial=initial, on_progress=display)
    except KeyboardInterrupt:
        raise _interrupted(campaign) from None
    _print_final(snap)


@campaign_app.command("resume")
def resume(
    name: Annotated[str, typer.Argument(help="Campaign to continue.")],
    db: DbOpt = None,
    tracking_uri: TrackingOpt = None,
    cycler_url: Annotated[
        list[str] | None,
        typer.Option(
            "--cycler-url",
            help="New addresses of the services, if they moved: one per service, in the "
            "order the campaign was started with.",
        ),
    ] = None,
    standby: Annotated[
        bool,
        typer.Option(
            "--standby",
            help="If another process drives the campaign, wait and take over when it stops "
            "or dies (a second loop machine on a shared PostgreSQL store).",
        ),
    ] = False,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Live display.")
    ] = True,
) -> None:
    """Continue a campaign after a crash or a stop: re-send unconfirmed jobs, reconcile, go on."""
    from design.campaign.session import resume_campaign

    try:
        with _display(progress) as display:
            snap = resume_campaign(
                name,
                db_url=db,
                tracking_uri=tracking_uri,
                cycler_url=cycler_url or None,
                on_progress=display,
                standby=standby,
            )
    except KeyboardInterrupt:
        raise _interrupted(name) from None
    _print_final(snap)


def _print_final(snap) -> None:
    from design.reporting.progress import snapshot_line

    typer.echo(snapshot_line(snap))
    typer.echo(f"campaign {snap.name}: {snap.status} ({snap.message or ''})")


@campaign_app.command("status")
def status(name: Annotated[str, typer.Argument(help="Campaign name.")], db: DbOpt = None) -> None:
    """Show a campaign's jobs by status and its best recipes so far."""
    from rich.console import Console

    from design.reporting.progress import status_table
    from design.reporting.snapshot import snapshot
    from design.store.database import Store

    store = Store(db, read_only=True)
    try:
        Console(width=120).print(status_table(snapshot(store, name)))
    finally:
        store.close()


@campaign_app.command("export")
def export(
    name: Annotated[str, typer.Argument(help="Campaign name.")],
    csv: Annotated[Path, typer.Option("--csv", help="Output measurement-table CSV.")],
    db: DbOpt = None,
    campaign_only: Annotated[
        bool, typer.Option("--campaign-only", help="Leave out the initial data.")
    ] = False,
    force: ForceOpt = False,
) -> None:
    """Write the campaign's measurement table (initial data and results) as CSV."""
    from design.cli.paths import output_file
    from design.errors import OutputPathError
    from design.reporting.snapshot import export_csv

    output_file(csv, "--csv", suffixes=(".csv",), overwrite=force)
    from design.store.database import Store

    store = Store(db, read_only=True)
    try:
        path = export_csv(store, name, csv, include_initial=not campaign_only)
    except OSError as exc:
        raise OutputPathError(f"--csv {csv}: cannot write ({exc.strerror or exc})") from None
    finally:
        store.close()
    typer.echo(f"wrote {path}")


@campaign_app.command("report")
def report(
    name: Annotated[str, typer.Argument(help="Campaign name.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Output HTML file (default: report-NAME.html).")
    ] = None,
    db: DbOpt = None,
    force: ForceOpt = False,
) -> None:
    """Write a one-page HTML summary (plots embedded) of a campaign."""
    import tempfile

    from design.cli.paths import output_file
    from design.errors import OutputPathError
    from design.reporting.html import write_report
    from design.reporting.summary import summarize_campaign

    path = output_file(
        out or Path(f"report-{name}.html"), "--out", suffixes=(".html", ".htm"), overwrite=force
    )
    from design.store.database import Store

    store = Store(db, read_only=True)
    try:
        store.campaign(name)  # an unknown name fails before the model is fitted
        with tempfile.TemporaryDirectory() as tmp:
            summary = summarize_campaign(store, name, Path(tmp))
            try:
                write_report(summary, path)
            except OSError as exc:
                raise OutputPathError(
                    f"--out {path}: cannot write ({exc.strerror or exc})"
                ) from None
    finally:
        store.close()
    typer.echo(f"wrote {path}")


def demo(
    experiments: Annotated[
        int, typer.Option("--experiments", help="Budget of the demo campaign.")
    ] = 12,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 4,
    strategy: Annotated[str, typer.Option("--strategy")] = "physics-gp",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    tracking_uri: TrackingOpt = None,
    db: DbOpt = None,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Live display.")
    ] = True,
) -> None:
    """Start the built-in cycler simulator and run a short campaign against it, end to end."""
    from design.campaign.demo import run_demo

    run_demo(
        n_experiments=experiments,
        batch_size=batch_size,
        strategy=strategy,
        seed=seed,
        tracking_uri=tracking_uri,
        db_url=db,
        progress=progress,
    )


def register(app: typer.Typer) -> None:
    """Add the ``campaign`` command group and the ``demo`` command to the main app."""
    app.add_typer(campaign_app, name="campaign")
    app.command("demo")(demo)
