"""Opening the campaign database: the engine, the schema check and upgrade, the read-only mode.

:func:`open_database` behind :class:`design.store.database.Store`:

- writing (the default): creates the SQLite file and its folder if needed, refuses a database
  of another application or of a newer gbs before touching it, switches a SQLite file to WAL,
  and migrates it to :data:`design.store.migrate.SCHEMA_REVISION`
  (:func:`design.store.migrate.upgrade`);
- ``read_only=True`` (status, export, report): creates, migrates and writes nothing. SQLite
  opens the file with ``mode=ro`` (SQLite itself refuses writes; for a WAL database it may
  create the ``-wal``/``-shm`` companion files, as any reader does), PostgreSQL sessions run
  with ``default_transaction_read_only``. A missing file, a file that is not a database and a
  database without a ``campaigns`` table are refused with one line; a SQLite file of an older
  revision is read through an upgraded in-memory copy, a PostgreSQL one is refused with the
  command that upgrades it.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool, StaticPool

from design.errors import CampaignError
from design.store.migrate import (
    SCHEMA_REVISION,
    SchemaState,
    read_state,
    refuse_unusable,
    upgrade,
)
from physics.errors import ConfigError

__all__ = ["OpenedDatabase", "open_database", "safe_url", "sqlite_file"]

logger = logging.getLogger(__name__)


@dataclass
class OpenedDatabase:
    """An engine on a campaign database at this code's schema.

    Attributes:
        engine: the SQLAlchemy engine.
        display: how messages name the database (the file, or the URL without password).
        found: the schema found on open, before any upgrade.
    """

    engine: Engine
    display: str
    found: SchemaState


def safe_url(url: str) -> str:
    """The URL with any password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable URL)"


def sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite:///path`` URL (``None`` for other and in-memory databases)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    db = parsed.database
    if parsed.get_backend_name() != "sqlite" or not db or db == ":memory:":
        return None
    return None if db.startswith("file:") else Path(db)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # per connection only: the file's journal mode (WAL) is set once the file is known to be ours
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_read_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA busy_timeout=30000")


def _make_engine(url: str, file: Path | None, read_only: bool) -> Engine:
    backend = make_url(url).get_backend_name()
    if backend == "postgresql":
        args: dict[str, Any] = {"connect_timeout": 10}
        if read_only:
            args["options"] = "-c default_transaction_read_only=on"
        return create_engine(url, connect_args=args)
    if file is not None and read_only:
        return _read_only_engine(file)
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _read_only_engine(path: Path) -> Engine:
    """SQLite opened with ``mode=ro``: the library itself refuses every write."""
    if not path.exists():
        raise CampaignError(
            f"no campaign database at {path}: start a campaign (gbs campaign run or gbs demo) "
            "or point --db at an existing one"
        )
    if path.is_dir():
        raise CampaignError(f"--db {path} is a directory, not a campaign database")
    uri = f"{path.resolve().as_uri()}?mode=ro"
    engine = create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
        poolclass=NullPool,
    )
    event.listen(engine, "connect", _sqlite_read_pragmas)
    return engine


def _upgraded_copy(path: Path, display: str) -> Engine:
    """An in-memory copy of a SQLite file, upgraded to this code's schema; the file untouched."""
    memory = sqlite3.connect(":memory:", check_same_thread=False)
    source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        source.backup(memory)
    finally:
        source.close()
    engine = create_engine("sqlite://", creator=lambda: memory, poolclass=StaticPool)
    upgrade(engine, f"an in-memory copy of {display}", SCHEMA_REVISION)
    return engine


def _prepare(engine: Engine, display: str, file: Path | None, read_only: bool) -> tuple:
    """Check (and for writing, upgrade) the schema; return the engine to use and the state."""
    with engine.connect() as conn:
        state = read_state(conn)
    current = state.recorded and state.revision == SCHEMA_REVISION
    if not read_only:
        if not current:
            refuse_unusable(state, display, SCHEMA_REVISION)  # before touching anything
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:  # persistent, and not allowed inside a transaction
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        if not current:
            upgrade(engine, display, SCHEMA_REVISION)
        return engine, state
    if "campaigns" not in state.tables:
        raise CampaignError(f"{display} is not a gbs campaign database (no campaigns table)")
    if current:
        return engine, state
    refuse_unusable(state, display, SCHEMA_REVISION)
    if file is None:
        raise CampaignError(
            f"campaign database {display} has schema {state.revision}, older than the "
            f"{SCHEMA_REVISION} this gbs reads; upgrade it once (data is kept) with "
            f"`python -m design.store upgrade --db URL`, or resume a campaign in it"
        )
    engine.dispose()
    copy = _upgraded_copy(file, display)
    logger.info("read %s (schema %s) through an upgraded in-memory copy", display, state.revision)
    return copy, state


def open_database(url: str, *, read_only: bool = False) -> OpenedDatabase:
    """Open the campaign database at ``url`` (see the module docstring).

    Raises:
        ConfigError: the URL is not usable.
        CampaignError: the database cannot be opened, is not a campaign database, or has a
            schema newer than this code.
    """
    file = sqlite_file(url)
    display = str(file) if file is not None else safe_url(url)
    try:
        engine = _make_engine(url, file, read_only)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise ConfigError(
            f"--db {url!r} is not a usable SQLAlchemy URL ({exc}); "
            "examples: sqlite:///campaigns.db, postgresql+psycopg://user@127.0.0.1:5432/db"
        ) from exc
    try:
        engine, state = _prepare(engine, display, file, read_only)
    except (SQLAlchemyError, sqlite3.Error) as exc:
        engine.dispose()
        if "file is not a database" in str(exc):
            raise CampaignError(
                f"{display} is not a gbs campaign database (not a database file at all)"
            ) from exc
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        raise CampaignError(f"cannot open the campaign database {display}: {reason}") from exc
    except BaseException:
        engine.dispose()
        raise
    return OpenedDatabase(engine, display, state)
