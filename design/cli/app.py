"""The ``gbs`` command line.

Each command group lives in its own module with a ``register(app)`` function. Only the console
entry point (and ``python -m design.cli``) imports this package; library code never does.

Errors: a user error (:class:`physics.errors.GBSError`) prints one line, ``error: ...``, naming
the problem and what to do, and exits with its ``exit_code`` (1 unless said otherwise). A usage
mistake caught by typer/click (unknown option, missing argument, bad value) is one line too,
``error: ... (see 'gbs CMD --help')``, exit code 2. Ctrl-C exits 130.

Logging policy (the whole project follows it):

- Library code never prints. It logs through ``logger = logging.getLogger(__name__)``:
  ``logger.warning`` for what the user should know (a skipped row, MLflow logging that failed
  and will be retried, a fallback taken), ``logger.info`` / ``logger.debug`` for progress and
  details. It never configures logging (no ``basicConfig``, no handlers).
- The CLI configures one handler at startup (:func:`configure_logging`): on stderr, rich when
  stderr is a terminal and plain ``warning: message`` lines otherwise; level WARNING, or DEBUG
  with ``GBS_LOG_LEVEL=DEBUG`` (any logging level name). Third-party loggers (MLflow, alembic,
  httpx) stay at WARNING.
- The CLI prints the user's results itself: tables and JSON on stdout, short notes about them
  (where plots went, the MLflow run) on stderr. With ``--json`` stdout holds only the JSON.
"""

from __future__ import annotations

import logging
import os
import sys

import typer

from physics.errors import GBSError

__all__ = ["app", "configure_logging", "entrypoint", "main", "version"]

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


class _PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = f"{record.levelname.lower()}: {record.getMessage()}"
        if record.exc_info and record.levelno <= logging.DEBUG:
            text += "\n" + self.formatException(record.exc_info)
        return text


class _StderrHandler(logging.StreamHandler):
    """A stream handler on whatever ``sys.stderr`` is when a record is written.

    ``logging.StreamHandler(sys.stderr)`` keeps the stream it was given; after a caller swaps
    ``sys.stderr`` (a test's capture, a redirect) and closes the old one, every later warning
    would fail with "I/O operation on closed file".
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def configure_logging(level: str | None = None) -> None:
    """One stderr handler on the root logger (rich on a terminal, plain lines otherwise).

    Args:
        level: a logging level name; default ``GBS_LOG_LEVEL`` or WARNING.
    """
    name = (level or os.environ.get("GBS_LOG_LEVEL") or "WARNING").upper()
    numeric = logging.getLevelName(name)
    if not isinstance(numeric, int):
        numeric = logging.WARNING
    handler: logging.Handler
    if sys.stderr.isatty():
        from rich.console import Console
        from rich.logging import RichHandler

        handler = RichHandler(
            console=Console(stderr=True), show_time=False, show_path=False, markup=False
        )
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = _StderrHandler()
        handler.setFormatter(_PlainFormatter())
    handler.set_name("gbs-cli")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "gbs-cli"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    # MLflow configures its own logger on import (INFO by default): keep it at our level
    os.environ.setdefault(
        "MLFLOW_LOGGING_LEVEL", logging.getLevelName(max(numeric, logging.WARNING))
    )
    for noisy in ("mlflow", "alembic", "httpx", "httpcore", "urllib3", "matplotlib"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))


def _usage_line(exc: Exception) -> str:
    """A click usage error as one line: the message and where to read more."""
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)  # type: ignore[attr-defined]
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "gbs"
    return f"error: {' '.join(message.split())} (see '{command} --help')"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (errors print one line to stderr)."""
    from typer._click import exceptions as click_errors  # typer vendors click

    configure_logging()
    try:
        rc = app(args=argv, prog_name="gbs", standalone_mode=False)
    except GBSError as exc:
        typer.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except click_errors.NoArgsIsHelpError as exc:  # `gbs` or `gbs campaign` alone: the help
        exc.show()
        return int(exc.exit_code)
    except click_errors.UsageError as exc:  # typer's own: bad option, missing argument
        typer.echo(_usage_line(exc), err=True)
        return int(exc.exit_code)
    except click_errors.ClickException as exc:
        typer.echo(f"error: {' '.join(exc.format_message().split())}", err=True)
        return int(exc.exit_code)
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    return int(rc) if isinstance(rc, int) else 0


def entrypoint() -> None:
    """Console-script entry point."""
    sys.exit(main())
