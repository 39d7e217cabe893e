"""``gbs ui`` (the MLflow UI on this repository's store) and ``gbs tracking-server``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from design.tracking.server import ServerSpec, server_command, server_env
from design.tracking.store import REPO_ROOT, default_artifact_root, default_tracking_uri

__all__ = ["register", "tracking_server_command", "ui_command"]


def ui_command(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 5000,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    backend_store_uri: Annotated[
        str | None, typer.Option(help="Store to show (default: mlruns/mlflow.db).")
    ] = None,
) -> None:
    """Open this repository's MLflow store in the MLflow UI (prints the links to open).

    The first link opens the latest campaign's runs table in the UI's model-training view,
    with the objectives and the recipe of each pellet as columns (design.tracking.views).
    """
    from design.tracking.store import resolve_tracking_uri
    from design.tracking.views import ui_links

    uri = backend_store_uri or default_tracking_uri()
    resolve_tracking_uri(uri)  # creates mlruns/ when missing
    spec = ServerSpec(
        backend_store_uri=uri, artifacts_destination=default_artifact_root(), host=host, port=port
    )
    links = ui_links(uri, spec.url)
    width = max(len(label) for label in links) + 1
    lines = [f"MLflow UI on {spec.url}  (store {uri}; Ctrl-C stops it). Open:"]
    lines += [f"  {label + ':':<{width}} {url}" for label, url in links.items()]
    lines += [
        "A page in the GenAI view (Traces, Sessions)? Click 'Model training' at the top of the "
        "sidebar: the browser keeps that choice."
    ]
    state = Path(default_tracking_uri().removeprefix("sqlite:///")).parent / "server"
    _run(spec, "\n".join(lines), state)


def tracking_server_command(
    backend_store_uri: Annotated[
        str,
        typer.Option(help="SQLAlchemy URL, e.g. postgresql+psycopg://user@127.0.0.1:5432/mlflow"),
    ],
    artifacts_destination: Annotated[
        str, typer.Option(help="Folder or URI for the served artifacts.")
    ],
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 5000,
    host: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0 for the lab network).")
    ] = "127.0.0.1",
    auth: Annotated[
        bool, typer.Option(help="Require a user and password (MLflow basic-auth app).")
    ] = False,
    auth_db_uri: Annotated[
        str | None,
        typer.Option(help="User store of the basic-auth app (default: SQLite in --state-dir)."),
    ] = None,
    state_dir: Annotated[
        Path, typer.Option(help="Folder for the server's log and auth configuration.")
    ] = REPO_ROOT / "mlruns" / "server",
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Start a shared MLflow tracking server (campaigns log to it with --tracking-uri URL).

    With --auth the admin's password on first start comes from MLFLOW_AUTH_ADMIN_PASSWORD;
    clients then set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD.
    """
    spec = ServerSpec(
        backend_store_uri=backend_store_uri,
        artifacts_destination=artifacts_destination,
        host=host,
        port=port,
        auth=auth,
        auth_db_uri=auth_db_uri,
        workers=workers,
    )
    _run(
        spec,
        f"MLflow tracking server on {spec.url} (backend {backend_store_uri}{', basic auth' if auth else ''})",
        state_dir,
    )


def _run(spec: ServerSpec, banner: str, state_dir: Path | None = None) -> None:
    state = state_dir or REPO_ROOT / "mlruns" / "server"
    state.mkdir(parents=True, exist_ok=True)
    env = server_env(spec, state_dir=state)
    typer.echo(banner)
    cmd = server_command(spec)
    os.chdir(state)
    os.execvpe(cmd[0], cmd, env)


def register(app: typer.Typer) -> None:
    """Add ``ui`` and ``tracking-server`` to ``app``."""
    app.command("ui")(ui_command)
    app.command("tracking-server")(tracking_server_command)
