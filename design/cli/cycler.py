"""``gbs cycler ...``: run the simulated cycler service.

The token is read from the environment variable CYCLER_TOKEN only (never from the command
line, which would show in process lists); without it ``serve`` refuses to start and says
how to set one. Clients use the same variable.
"""

from __future__ import annotations

from typing import Annotated

import typer

from physics.errors import ConfigError

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``cycler`` command group to ``app``."""
    cycler_app = typer.Typer(
        help="The simulated cycler service (protocol 1.1, or 1.0).", no_args_is_help=True
    )

    @cycler_app.command("serve")
    def serve(
        host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8765,
        seed: Annotated[
            int, typer.Option(help="Seed of pellets, noise, durations and faults.")
        ] = 0,
        landscape: Annotated[
            str, typer.Option(help="Truth landscape: calibrated, shifted-optimum, phase-boundary.")
        ] = "calibrated",
        fault: Annotated[
            list[str] | None,
            typer.Option(
                help="NAME=VALUE, repeatable: http-error, lost-reply, slow-reply, instrument "
                "(probabilities), slow-reply-s, retry-after-s (seconds).",
            ),
        ] = None,
        job_duration_s: Annotated[
            float,
            typer.Option(
                help="Real seconds of a reference job (new pellet, 6 h dwell, all four "
                "protocols: 110 instrument-hours); every job takes its hours in proportion."
            ),
        ] = 2.0,
        job_jitter: Annotated[
            float, typer.Option(help="Relative spread of the instrument-hours a job uses.")
        ] = 0.2,
        max_concurrent_jobs: Annotated[int, typer.Option(help="Jobs running at once.")] = 4,
        log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
        protocol_version: Annotated[
            str,
            typer.Option(
                help="Protocol to serve: 1.1 (durations, follow-up jobs) or 1.0 (as a 1.0 service)."
            ),
        ] = "1.1",
    ) -> None:
        """Serve a simulated cycler service until interrupted (token from CYCLER_TOKEN)."""
        from experiments.simulator.config import SimulatorConfig
        from experiments.simulator.faults import FaultConfig
        from experiments.simulator.service import serve as run_server

        if not (0 < port < 65536):
            raise ConfigError(f"--port {port} must lie in 1..65535")
        levels = ("critical", "error", "warning", "info", "debug", "trace")
        if log_level not in levels:
            raise ConfigError(f"--log-level {log_level!r}; valid levels: {', '.join(levels)}")
        config = SimulatorConfig(
            seed=seed,
            landscape=landscape,
            job_duration_s=job_duration_s,
            job_jitter=job_jitter,
            max_concurrent_jobs=max_concurrent_jobs,
            faults=FaultConfig.from_options(fault or []),
            protocol_version=protocol_version,
        )

        def announce() -> None:
            typer.echo(
                f"cycler simulator on http://{host}:{port} (protocol {config.protocol_version}, "
                f"landscape {landscape}, seed {seed}, {config.hour_s * 24:.3g} s per lab day); "
                "Ctrl-C stops it",
                err=True,
            )

        run_server(config, host, port, log_level=log_level, on_ready=announce)

    app.add_typer(cycler_app, name="cycler")
