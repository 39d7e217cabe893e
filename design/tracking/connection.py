"""Check an MLflow store before using it, in seconds, and keep MLflow's HTTP calls short.

Without this, an unreachable ``--tracking-uri http://...`` costs MLflow's default seven
retries with exponential back-off (about 250 s of silence) before a traceback, and an
unwritable default store fails only after the work is done. :func:`check_tracking_store`
answers within :data:`PROBE_TIMEOUT_S`:

- ``http(s)://``: ``GET <uri>/health`` (an MLflow server answers ``OK``);
- ``sqlite:///path``: the folder can be created and written, the file (if any) is an SQLite
  database;
- ``postgresql://...``: a connection opens within the timeout;
- other schemes (``databricks``, ``file``...): not probed.

:func:`short_http_retries` sets MLflow's ``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` and
``MLFLOW_HTTP_REQUEST_TIMEOUT`` for this process unless the user set them already, so that a
server that dies later fails a call in seconds rather than minutes.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

from design.errors import TrackingError

__all__ = [
    "HTTP_MAX_RETRIES",
    "HTTP_TIMEOUT_S",
    "PROBE_TIMEOUT_S",
    "check_tracking_store",
    "short_http_retries",
]

#: Seconds the probe waits for a tracking server or database to answer.
PROBE_TIMEOUT_S: float = 3.0
#: MLflow's retries of one HTTP call (its default, 7, waits about 4 minutes in all).
HTTP_MAX_RETRIES: int = 2
#: Seconds MLflow waits for one HTTP answer (its default is 120).
HTTP_TIMEOUT_S: int = 20

_ADVICE = "start it, pass another --tracking-uri, or log nothing (--no-mlflow, --no-tracking)"


def short_http_retries() -> None:
    """Default MLflow's HTTP retries and timeout to a few seconds (user settings win)."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(HTTP_MAX_RETRIES))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(HTTP_TIMEOUT_S))


def check_tracking_store(uri: str, *, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Raise :class:`TrackingError` (one line) unless the MLflow store at ``uri`` is usable.

    Args:
        uri: the tracking URI (``http://host:port``, ``sqlite:///path.db``, ``postgresql://...``).
        timeout_s: how long a server or database may take to answer, s.

    Raises:
        TrackingError: the server does not answer or is no MLflow server, the SQLite file or its
            folder cannot be created or written, or the file is not a database.
    """
    if uri.startswith(("http://", "https://")):
        _check_http(uri, timeout_s)
    elif uri.startswith("sqlite:///"):
        _check_sqlite(Path(uri.removeprefix("sqlite:///")), uri)
    elif uri.startswith("postgresql"):
        _check_sqlalchemy(uri, timeout_s)


def _check_http(uri: str, timeout_s: float) -> None:
    import httpx

    url = uri.rstrip("/") + "/health"
    try:
        response = httpx.get(url, timeout=timeout_s)
    except httpx.TimeoutException:
        raise TrackingError(
            f"MLflow tracking server {uri} did not answer within {timeout_s:g} s; {_ADVICE}"
        ) from None
    except httpx.HTTPError as exc:
        raise TrackingError(
            f"MLflow tracking server {uri} is not reachable ({type(exc).__name__}: {exc}); "
            f"{_ADVICE}"
        ) from None
    if response.status_code != 200:
        raise TrackingError(
            f"{uri} answered HTTP {response.status_code} at /health: not an MLflow tracking "
            f"server?; {_ADVICE}"
        )


def _check_sqlite(path: Path, uri: str) -> None:
    if path.is_dir():
        raise TrackingError(f"MLflow store {uri}: {path} is a folder, not a database file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".gbs-write-check-"):
            pass
    except OSError as exc:
        raise TrackingError(
            f"MLflow store {uri}: cannot write in {path.parent} ({exc.strerror or exc}); "
            "pass a writable --tracking-uri (e.g. sqlite:////tmp/mlflow.db), set "
            "MLFLOW_TRACKING_URI, or log nothing (--no-mlflow, --no-tracking)"
        ) from None
    if path.exists():
        try:
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)) as conn:
                conn.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
        except sqlite3.DatabaseError as exc:
            raise TrackingError(f"MLflow store {uri}: {path} is not a database ({exc})") from None


def _check_sqlalchemy(uri: str, timeout_s: float) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(
        uri, connect_args={"connect_timeout": max(1, round(timeout_s))}
    )
    try:
        with engine.connect():
            pass
    except Exception as exc:  # any driver error means "not usable"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise TrackingError(f"MLflow store {uri} is not reachable ({first}); {_ADVICE}") from None
    finally:
        engine.dispose()
