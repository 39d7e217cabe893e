"""Starting and resuming campaigns: wires the store, the cycler client, MLflow and the display.

Used by ``gbs campaign run/resume`` and by :mod:`design.campaign.demo`.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from design.campaign.config import CampaignConfig
from design.campaign.runner import CampaignRunner, Proposer
from design.errors import CampaignError
from design.reporting.snapshot import CampaignSnapshot
from design.store import ledger
from design.store.database import CampaignRecord, Store, dumps, get_record, resolve_db_url
from design.store.engine import sqlite_file
from physics.table import read_table

__all__ = ["load_initial_data", "resume_campaign", "start_campaign"]


def load_initial_data(path: str | Path | None) -> pd.DataFrame | None:
    """The initial measurement table (validated), or ``None`` for a cold start."""
    return None if path is None else read_table(path)


def _make_client(config: CampaignConfig, token: str | None) -> Any:
    from experiments.cycler.client import CyclerClient

    return CyclerClient(config.cycler_url, token=token)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM ends the loop like Ctrl-C (the lease is released, state is already safe)."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _drive(
    store: Store,
    name: str,
    config: CampaignConfig,
    *,
    token: str | None,
    tracking_uri: str | None,
    on_progress: Callable[[CampaignSnapshot], None] | None,
    client: Any,
    proposer: Proposer | None,
) -> CampaignSnapshot:
    tracker = None
    if config.tracking:
        from design.tracking.campaign import CampaignTracker

        tracker = CampaignTracker(tracking_uri or config.tracking_uri, plots=config.plots)
    own_client = client is None
    client = client or _make_client(config, token)
    try:
        runner = CampaignRunner(
            store, name, client, proposer=proposer, tracker=tracker, on_progress=on_progress
        )
        with _sigterm_as_interrupt():
            return runner.run()
    finally:
        if own_client:
            client.close()


def start_campaign(
    config: CampaignConfig,
    *,
    db_url: str | None = None,
    initial: pd.DataFrame | None = None,
    token: str | None = None,
    on_progress: Callable[[CampaignSnapshot], None] | None = None,
    client: Any = None,
    proposer: Proposer | None = None,
) -> CampaignSnapshot:
    """Create campaign ``config.name`` (with its initial rows) and run it to the end.

    Args:
        config: the campaign's configuration (stored as JSON).
        db_url: SQLAlchemy URL of the campaign database (default: ``campaigns/campaigns.db``).
        initial: initial measurement table (e.g. the paper's data) or ``None``.
        token: cycler token (default: the environment variable CYCLER_TOKEN).
        on_progress: receives a snapshot whenever something changed (the live display).
        client, proposer: replacements for tests and benchmarks.

    Raises:
        CampaignError: the name is taken, the token was refused, ...
    """
    store = Store(db_url)
    own_client = client is None
    client = client or _make_client(config, token)  # no token: fail before creating anything
    try:
        ledger.create_campaign(store, config.name, config.to_json(), initial)
        return _drive(
            store,
            config.name,
            config,
            token=token,
            tracking_uri=config.tracking_uri,
            on_progress=on_progress,
            client=client,
            proposer=proposer,
        )
    finally:
        if own_client:
            client.close()
        store.close()


def resume_campaign(
    name: str,
    *,
    db_url: str | None = None,
    token: str | None = None,
    tracking_uri: str | None = None,
    cycler_url: str | None = None,
    on_progress: Callable[[CampaignSnapshot], None] | None = None,
    client: Any = None,
    proposer: Proposer | None = None,
) -> CampaignSnapshot:
    """Continue campaign ``name`` after a crash or a stop (same keys, same MLflow run).

    Args:
        cycler_url: a new address of the service, if it moved (stored for later resumes).

    Raises:
        CampaignError: no such database (nothing is created) or campaign, the token was
            refused, ...
    """
    file = sqlite_file(resolve_db_url(db_url))
    if file is not None and not file.exists():
        raise CampaignError(
            f"no campaign database at {file}, so no campaign {name!r} to resume; "
            "point --db at the database the campaign was started with"
        )
    store = Store(db_url)
    try:
        rec = store.campaign(name)
        config = CampaignConfig.from_json(rec.config)
        if cycler_url and cycler_url != config.cycler_url:
            config = CampaignConfig.from_json({**config.to_json(), "cycler_url": cycler_url})
            with store.transaction() as s:
                get_record(s, CampaignRecord, rec.id).config_json = dumps(config.to_json())
        return _drive(
            store,
            name,
            config,
            token=token,
            tracking_uri=tracking_uri,
            on_progress=on_progress,
            client=client,
            proposer=proposer,
        )
    finally:
        store.close()
