"""Starting and resuming campaigns: wires the store, the cycler clients, MLflow and the display.

Used by ``gbs campaign run/resume`` and by :mod:`design.campaign.demo`.

Tokens: the first service's comes from ``CYCLER_TOKEN``, the others' from ``CYCLER_TOKEN_2``,
``CYCLER_TOKEN_3``... in the order of ``--cycler-url`` (never from the command line). Each
service also gets a probe (a client that tries once, 5 s timeout), used to see whether a
service that went away is back without stalling the loop on retries.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from design.campaign.config import CampaignConfig, redact_url, token_variable
from design.campaign.planning import Policy
from design.campaign.runner import CampaignRunner, Proposer
from design.errors import CampaignError
from design.reporting.snapshot import CampaignSnapshot
from design.store import ledger
from design.store.database import CampaignRecord, Store, dumps, get_record, resolve_db_url
from design.store.engine import sqlite_file
from experiments.cycler.errors import CyclerAuthError
from physics.errors import ConfigError
from physics.table import read_table

__all__ = ["load_initial_data", "resume_campaign", "start_campaign"]


def load_initial_data(path: str | Path | None) -> pd.DataFrame | None:
    """The initial measurement table (validated), or ``None`` for a cold start."""
    return None if path is None else read_table(path)


@dataclass
class _Clients:
    """The clients of a campaign's services and their probes (closed together)."""

    clients: dict[str, Any]
    probes: dict[str, Callable[[], Any]]
    owned: list[Any]

    def close(self) -> None:
        for client in self.owned:
            client.close()


def _token(index: int, first: str | None) -> str:
    variable = token_variable(index)
    value = first if index == 0 and first is not None else os.environ.get(variable)
    if not value or not value.strip():
        raise CyclerAuthError(f"no cycler token: set the environment variable {variable}")
    return value


def _make_clients(config: CampaignConfig, token: str | None) -> _Clients:
    """A client and a probe per service (tokens: see the module docstring).

    Raises:
        CyclerAuthError: a service's token variable is not set (naming it).
    """
    from experiments.cycler.client import CyclerClient

    out = _Clients({}, {}, [])
    try:
        for i, (name, url) in enumerate(config.services.items()):
            try:
                secret = _token(i, token)
            except CyclerAuthError as exc:
                raise CyclerAuthError(f"{exc} (the token of {name}, {redact_url(url)})") from None
            client = CyclerClient(url, token=secret)
            probe = CyclerClient(url, token=secret, max_retries=0, timeout_s=5.0)
            out.owned += [client, probe]
            out.clients[name], out.probes[name] = client, probe.health
    except BaseException:
        out.close()
        raise
    return out


def _given(config: CampaignConfig, client: Any) -> _Clients | None:
    """Clients passed by a test or benchmark: one client, or service name -> client."""
    if client is None:
        return None
    if isinstance(client, Mapping):
        return _Clients(dict(client), {}, [])
    return _Clients({next(iter(config.services)): client}, {}, [])


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
    clients: _Clients,
    tracking_uri: str | None,
    on_progress: Callable[[CampaignSnapshot], None] | None,
    proposer: Proposer | None,
    policy: Policy | None,
    standby: bool = False,
) -> CampaignSnapshot:
    tracker = None
    if config.tracking:
        from design.tracking.campaign import CampaignTracker

        tracker = CampaignTracker(tracking_uri or config.tracking_uri, plots=config.plots)
    runner = CampaignRunner(
        store,
        name,
        clients.clients,
        proposer=proposer,
        policy=policy,
        tracker=tracker,
        on_progress=on_progress,
        probes=clients.probes,
    )
    with _sigterm_as_interrupt():
        return runner.run(standby=standby)


def start_campaign(
    config: CampaignConfig,
    *,
    db_url: str | None = None,
    initial: pd.DataFrame | None = None,
    token: str | None = None,
    on_progress: Callable[[CampaignSnapshot], None] | None = None,
    client: Any = None,
    proposer: Proposer | None = None,
    policy: Policy | None = None,
) -> CampaignSnapshot:
    """Create campaign ``config.name`` (with its initial rows) and run it to the end.

    Args:
        config: the campaign's configuration (stored as JSON).
        db_url: SQLAlchemy URL of the campaign database (default: ``campaigns/campaigns.db``).
        initial: initial measurement table (e.g. the paper's data) or ``None``.
        token: the first service's token (default: the environment variable CYCLER_TOKEN;
            the others' always come from CYCLER_TOKEN_2, CYCLER_TOKEN_3...).
        on_progress: receives a snapshot whenever something changed (the live display).
        client: replacement client(s) for tests and benchmarks: one client (one service), or
            service name -> client.
        proposer, policy: replacements for tests and benchmarks.

    Raises:
        CampaignError: the name is taken, a token was refused, ...
    """
    store = Store(db_url)
    clients = _given(config, client) or _make_clients(config, token)  # fail before creating
    try:
        ledger.create_campaign(store, config.name, config.to_json(), initial)
        return _drive(
            store,
            config.name,
            config,
            clients=clients,
            tracking_uri=config.tracking_uri,
            on_progress=on_progress,
            proposer=proposer,
            policy=policy,
        )
    finally:
        clients.close()
        store.close()


def resume_campaign(
    name: str,
    *,
    db_url: str | None = None,
    token: str | None = None,
    tracking_uri: str | None = None,
    cycler_url: str | Sequence[str] | None = None,
    on_progress: Callable[[CampaignSnapshot], None] | None = None,
    client: Any = None,
    proposer: Proposer | None = None,
    policy: Policy | None = None,
    standby: bool = False,
) -> CampaignSnapshot:
    """Continue campaign ``name`` after a crash or a stop (same keys, same MLflow run).

    Every service of the campaign is reconnected (and reconciled) with its token.

    Args:
        cycler_url: new addresses of the services, if they moved (stored for later
            resumes): one per service, in the order the campaign was started with.
        standby: if another process drives the campaign, wait and take over when it stops
            or dies (:meth:`CampaignRunner.run`).

    Raises:
        ConfigError: not one address per service.
        CampaignError: no such database (nothing is created) or campaign, a token was
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
        stored = CampaignConfig.from_json(rec.config)
        config = _moved(stored, cycler_url)
        if config.cycler_urls != stored.cycler_urls:
            with store.transaction() as s:
                get_record(s, CampaignRecord, rec.id).config_json = dumps(config.to_json())
        clients = _given(config, client) or _make_clients(config, token)
        try:
            return _drive(
                store,
                name,
                config,
                clients=clients,
                tracking_uri=tracking_uri,
                on_progress=on_progress,
                proposer=proposer,
                policy=policy,
                standby=standby,
            )
        finally:
            clients.close()
    finally:
        store.close()


def _moved(config: CampaignConfig, urls: str | Sequence[str] | None) -> CampaignConfig:
    """``config`` with the services' new addresses (one per service, in order).

    Raises:
        ConfigError: not one address per service.
    """
    if not urls:
        return config
    given = [urls] if isinstance(urls, str) else list(urls)
    if len(given) != len(config.cycler_urls):
        raise ConfigError(
            f"campaign {config.name} has {len(config.cycler_urls)} cycler service(s) "
            f"({', '.join(config.services)}): give --cycler-url once per service, in that "
            f"order, or not at all (got {len(given)})"
        )
    data = {**config.to_json(), "cycler_url": given[0], "other_cycler_urls": given[1:]}
    return CampaignConfig.from_json(data)
