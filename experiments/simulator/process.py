"""A simulated cycler service in a subprocess, for tests and the quick start.

Example:
    >>> with running_simulator(seed=1, job_duration_s=0.3) as sim:    # doctest: +SKIP
    ...     client = CyclerClient(sim.url, token=sim.token)

The subprocess runs ``python -m experiments.simulator.service`` on a free loopback port with
the token in its environment (never on its command line), and the context manager returns
once ``GET /v1/health`` answers 200 (retrying through injected faults).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from experiments.cycler.errors import CyclerUnavailableError
from experiments.simulator.faults import FaultConfig
from physics.errors import ConfigError

__all__ = ["RunningSimulator", "free_port", "running_simulator"]

_REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningSimulator:
    """Handle of a simulator subprocess: ``url``, ``token``, ``pid``; ``stop()`` ends it."""

    url: str
    token: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] | None = field(default=None, repr=False)
    protocol_version: str = "1.1"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, n_chars: int = 2000) -> str:
        """The end of the subprocess's output."""
        try:
            return self.log_path.read_text(errors="replace")[-n_chars:]
        except OSError:
            return ""

    def stop(self, timeout_s: float = 5.0) -> None:
        """Terminate the subprocess (kill it after ``timeout_s``); safe to call twice."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout_s)
        if self._log is not None:
            self._log.close()
            self._log = None


def _wait_healthy(sim: RunningSimulator, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last = "no answer yet"
    headers = {"Authorization": f"Bearer {sim.token}"}
    with httpx.Client(timeout=2.0) as http:
        while time.monotonic() < deadline:
            if sim.process.poll() is not None:
                raise CyclerUnavailableError(
                    f"cycler simulator exited with code {sim.process.returncode}: {sim.log_tail()}"
                )
            try:
                response = http.get(f"{sim.url}/v1/health", headers=headers)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}"
            time.sleep(0.05)
    raise CyclerUnavailableError(
        f"cycler simulator at {sim.url} not healthy after {timeout_s:g} s ({last}): {sim.log_tail()}"
    )


@contextlib.contextmanager
def running_simulator(
    *,
    seed: int = 0,
    landscape: str = "calibrated",
    faults: Mapping[str, Any] | FaultConfig | None = None,
    token: str = "test-token",
    job_duration_s: float = 0.3,
    job_jitter: float = 0.2,
    max_concurrent_jobs: int = 4,
    host: str = "127.0.0.1",
    startup_timeout_s: float = 30.0,
    protocol_version: str = "1.1",
) -> Iterator[RunningSimulator]:
    """Start a simulator subprocess, wait until healthy, yield its handle, stop it.

    Args:
        seed: Seed of pellets, noise and faults.
        landscape: Truth landscape name.
        faults: Fault settings (FaultConfig or a mapping like ``{"http-error": 0.1}``).
        token: Bearer token of the service.
        job_duration_s: Real seconds of a reference job (110 instrument-hours); any job
            takes its instrument-hours times ``job_duration_s / 110``.
        job_jitter: Relative spread of the instrument-hours a job uses.
        max_concurrent_jobs: Jobs running at once.
        host: Loopback address to bind.
        startup_timeout_s: How long to wait for ``/v1/health``.
        protocol_version: "1.1" (default) or "1.0".

    Raises:
        CyclerUnavailableError: The subprocess died or never became healthy (its output is
            quoted).
    """
    from experiments.simulator.config import SimulatorConfig  # light: no web framework

    if isinstance(faults, FaultConfig):
        fault_config = faults
    else:
        fault_config = FaultConfig.from_dict(faults or {})
    if not token:
        raise ConfigError("running_simulator needs a non-empty token")
    config = SimulatorConfig(
        seed=seed,
        landscape=landscape,
        job_duration_s=job_duration_s,
        job_jitter=job_jitter,
        max_concurrent_jobs=max_concurrent_jobs,
        faults=fault_config,
        protocol_version=protocol_version,
    )
    port = free_port(host)
    env = dict(os.environ, CYCLER_TOKEN=token, PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_REPO_ROOT), env.get("PYTHONPATH", "")) if p
    )
    fd, log_name = tempfile.mkstemp(prefix="cycler-sim-", suffix=".log")
    os.close(fd)
    log = open(log_name, "wb")  # closed by stop()
    command = [
        sys.executable,
        "-m",
        "experiments.simulator.service",
        "--host",
        host,
        "--port",
        str(port),
        "--config-json",
        config.to_json(),
    ]
    process = subprocess.Popen(
        command, cwd=_REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    sim = RunningSimulator(
        url=f"http://{host}:{port}",
        token=token,
        process=process,
        log_path=Path(log_name),
        _log=log,
        protocol_version=config.protocol_version,
    )
    try:
        _wait_healthy(sim, startup_timeout_s)
        yield sim
    finally:
        sim.stop()
        with contextlib.suppress(OSError):
            Path(log_name).unlink()
