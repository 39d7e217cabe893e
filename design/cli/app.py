"""The ``gbs`` command line.

Each command group lives in its own module with a ``register(app)`` function. User errors
(:class:`physics.errors.GBSError`) print one line naming the problem and exit non-zero.
"""

from __future__ import annotations

import sys

import typer

from physics.errors import GBSError

__all__ = ["app", "main"]

app = typer.Typer(
    name="gbs",
    help="Design loop for grain-boundary-sealed NZSP solid electrolytes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_all() -> None:
    from design.cli import campaign, cycler, physics, suggest, ui

    for module in (physics, suggest, cycler, campaign, ui):
        module.register(app)


@app.command()
def version() -> None:
    """Print the package version."""
    from importlib.metadata import version as _version

    typer.echo(_version("gbs-design"))


_register_all()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (errors print one line to stderr)."""
    try:
        rc = app(args=argv, standalone_mode=False)
    except GBSError as exc:
        typer.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except Exception as exc:
        # Usage errors of the (vendored) click: show the usage line, not a traceback.
        show = getattr(exc, "show", None)
        if callable(show) and isinstance(getattr(exc, "exit_code", None), int):
            show()
            return int(exc.exit_code)  # type: ignore[attr-defined]
        raise
    return int(rc) if isinstance(rc, int) else 0


def entrypoint() -> None:
    """Console-script entry point."""
    sys.exit(main())
