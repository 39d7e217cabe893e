"""Starting MLflow servers: the local UI and a shared tracking server.

- ``gbs ui``: the MLflow UI on this repository's store (``mlruns/mlflow.db`` and
  ``mlruns/artifacts``).
- ``gbs tracking-server``: a shared tracking server for a lab, with a PostgreSQL (or any
  SQLAlchemy) backend store and served artifacts, optionally behind MLflow's basic-auth app.
  Campaigns log to it with ``--tracking-uri http://HOST:PORT`` or ``MLFLOW_TRACKING_URI``.

The servers run lean: one worker and no job-execution processes
(``MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false``), ~0.5 GB instead of ~3 GB.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from design.tracking.store import default_artifact_root, default_tracking_uri
from physics.errors import ConfigError

__all__ = [
    "MlflowServer",
    "ServerSpec",
    "auth_config_file",
    "server_command",
    "server_env",
    "start_server",
]


@dataclass
class ServerSpec:
    """What to start.

    Attributes:
        backend_store_uri: SQLAlchemy URL of the run metadata store (sqlite:///..., postgresql://...).
        artifacts_destination: where served artifacts go (a folder or a URI).
        host, port: where to listen (loopback by default).
        auth: start MLflow's basic-auth app (users and permissions in ``auth_db_uri``).
        auth_db_uri: the basic-auth user store (default: beside the artifacts).
        admin_password: the admin's password on first start (env MLFLOW_AUTH_ADMIN_PASSWORD).
        workers: gunicorn/uvicorn workers.
    """

    backend_store_uri: str = field(default_factory=default_tracking_uri)
    artifacts_destination: str = field(default_factory=default_artifact_root)
    host: str = "127.0.0.1"
    port: int = 5000
    auth: bool = False
    auth_db_uri: str | None = None
    admin_password: str | None = None
    workers: int = 1

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def server_command(spec: ServerSpec) -> list[str]:
    """The ``mlflow server`` command line for ``spec``."""
    mlflow_exe = Path(sys.executable).with_name("mlflow")
    cmd = [str(mlflow_exe) if mlflow_exe.exists() else "mlflow", "server"]
    cmd += ["--backend-store-uri", spec.backend_store_uri]
    cmd += ["--artifacts-destination", spec.artifacts_destination, "--serve-artifacts"]
    cmd += ["--host", spec.host, "--port", str(spec.port), "--workers", str(spec.workers)]
    if spec.auth:
        cmd += ["--app-name", "basic-auth"]
    return cmd


def auth_config_file(spec: ServerSpec, folder: Path) -> Path:
    """Write the basic-auth configuration (an INI file) for ``spec`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    db = spec.auth_db_uri or f"sqlite:///{(folder / 'basic_auth.db').resolve()}"
    path = folder / "basic_auth.ini"
    path.write_text(
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = {db}\n"
        "admin_username = admin\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    return path


def server_env(spec: ServerSpec, *, state_dir: Path) -> dict[str, str]:
    """Environment for the server process (lean mode; auth secrets when ``spec.auth``)."""
    env = dict(os.environ)
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    env.pop("MLFLOW_TRACKING_URI", None)
    if spec.auth:
        password = spec.admin_password or os.environ.get("MLFLOW_AUTH_ADMIN_PASSWORD")
        if not password:
            raise ConfigError(
                "basic auth needs an admin password: set MLFLOW_AUTH_ADMIN_PASSWORD "
                "(used when the user store is first created)"
            )
        env["MLFLOW_AUTH_ADMIN_PASSWORD"] = password
        env.setdefault("MLFLOW_FLASK_SERVER_SECRET_KEY", secrets.token_hex(16))
        env["MLFLOW_AUTH_CONFIG_PATH"] = str(auth_config_file(spec, state_dir))
    return env


@dataclass
class MlflowServer:
    """A running server process."""

    spec: ServerSpec
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return self.spec.url

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> MlflowServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(
    spec: ServerSpec,
    *,
    state_dir: Path,
    wait_s: float = 120.0,
    log_file: Path | None = None,
) -> MlflowServer:
    """Start ``mlflow server`` for ``spec`` and wait until ``/health`` answers.

    Raises:
        ConfigError: the server exited or did not answer within ``wait_s`` (the message
            carries the end of its log).
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_file or state_dir / "mlflow-server.log"
    log = open(log_path, "ab")  # handed to the child process
    process = subprocess.Popen(
        server_command(spec),
        env=server_env(spec, state_dir=state_dir),
        stdout=log,
        stderr=log,
        cwd=state_dir,
    )
    log.close()
    server = MlflowServer(spec, process)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"{spec.url}/health", timeout=2.0).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.stop()
    tail = log_path.read_text(errors="replace")[-1500:]
    raise ConfigError(f"the MLflow server at {spec.url} did not start; its log ends with:\n{tail}")
