"""Schema migrations of the campaign database (Alembic): how a database reaches this code's schema.

The migration scripts live in ``design/store/migrations/versions/`` and install with the
package; one script per schema change, file ``NNNN_what.py`` with revision id ``NNNN``. Alembic
records a database's revision in the table :data:`VERSION_TABLE` (not ``alembic_version``,
the name MLflow's own Alembic history uses).

What :class:`design.store.database.Store` does on open (:func:`upgrade`):

- at :data:`SCHEMA_REVISION`: nothing (one catalogue query, Alembic is not
  even imported);
- empty, or at an older revision: upgraded to the head in one transaction under a lock (SQLite
  ``BEGIN IMMEDIATE``, PostgreSQL ``pg_advisory_xact_lock``), so two processes opening one
  database at once migrate it once and a failed migration leaves the old schema;
- written before Alembic (a ``campaigns`` table, ``gbs_meta.schema_version`` 1, no revision
  table): that is revision :data:`LEGACY_REVISION`; stamped, then upgraded;
- at a revision this code does not know (a newer gbs migrated it): refused, nothing touched.

A schema change::

    1. change the records in design/store/database.py;
    2. python -m design.store revision -m "add iterations.foo"
       (autogenerates versions/NNNN_add_iterations_foo.py against a scratch SQLite database
       at the current head; read it, fix what autogenerate cannot know, e.g. data moves);
    3. set SCHEMA_REVISION below to NNNN.

``tests/design/store/test_migrations.py`` checks that the head's schema equals the records'
(on SQLite and PostgreSQL) and that a database of every older revision upgrades with its data.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine

from design.errors import CampaignError

__all__ = [
    "LEGACY_REVISION",
    "MIGRATIONS_DIR",
    "SCHEMA_REVISION",
    "VERSION_TABLE",
    "SchemaState",
    "alembic_config",
    "known_revisions",
    "locked",
    "new_revision",
    "read_state",
    "refuse_unusable",
    "run_env",
    "upgrade",
]

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: The schema revision this code reads and writes: the newest script in migrations/versions/.
SCHEMA_REVISION = "0003"
VERSION_TABLE = "gbs_alembic_version"
#: The schema every database written before Alembic has (``gbs_meta.schema_version`` 1).
LEGACY_REVISION = "0001"
_PG_LOCK_KEY = 0x67627370_6D696731  # one advisory lock for every gbs schema migration


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands.

    Attributes:
        revision: its schema revision (``None``: no campaign tables at all).
        recorded: whether Alembic's version table holds it (``False`` before Alembic).
        tables: the names of every table in the database (default schema).
    """

    revision: str | None
    recorded: bool
    tables: frozenset[str]

    @property
    def foreign(self) -> bool:
        """Tables, but none of a campaign database."""
        return self.revision is None and bool(self.tables - {VERSION_TABLE})


def read_state(conn: Connection) -> SchemaState:
    """The schema revision of the database behind ``conn`` (reads only)."""
    tables = frozenset(inspect(conn).get_table_names())
    if VERSION_TABLE in tables:
        revs = list(conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())
        if len(revs) > 1:
            raise CampaignError(
                f"the campaign database records several schema revisions ({', '.join(revs)}); "
                "it was changed by other means: restore it from a backup"
            )
        if revs:
            return SchemaState(revs[0], True, tables)
    if "campaigns" not in tables:
        return SchemaState(None, False, tables)
    legacy = None
    if "gbs_meta" in tables:
        legacy = conn.execute(
            text("SELECT value FROM gbs_meta WHERE key = 'schema_version'")
        ).scalar()
    if legacy in (None, "1"):
        return SchemaState(LEGACY_REVISION, False, tables)
    return SchemaState(f"schema version {legacy}", False, tables)


def known_revisions() -> list[str]:
    """Every revision id of the installed migration scripts, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def alembic_config(connection: Connection | None = None) -> Any:
    """An Alembic ``Config`` for the installed scripts, bound to ``connection`` when given."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.set_main_option("truncate_slug_length", "40")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@contextmanager
def locked(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction that holds the migration lock; committed on success.

    SQLite: ``BEGIN IMMEDIATE`` (the database's write lock, taken before anything is read,
    and DDL inside the transaction, so a failed migration leaves nothing behind). Foreign keys
    are off meanwhile, as SQLite's own procedure for rebuilding a table asks (a rebuilt parent
    table is dropped and renamed in place), and ``PRAGMA foreign_key_check`` must find nothing
    before the commit. PostgreSQL: a transaction-scoped advisory lock (DDL is transactional
    there anyway).

    Raises:
        CampaignError: on SQLite, the migrated data break a foreign key (rolled back).
    """
    with engine.connect() as conn:
        if engine.dialect.name != "sqlite":
            with conn.begin():
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
                yield conn
            return
        # The driver's own transaction handling would commit before DDL: take it over.
        conn.execution_options(isolation_level="AUTOCOMMIT")
        keys_on = bool(conn.exec_driver_sql("PRAGMA foreign_keys").scalar())
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise CampaignError(
                        f"the schema migration would break {len(broken)} foreign key(s) (first: "
                        f"{tuple(broken[0])}); nothing was changed: restore the database from a "
                        "backup or report this"
                    )
            except BaseException:
                if conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
                    conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")
        finally:
            if keys_on:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")


def refuse_unusable(state: SchemaState, display: str, head: str) -> None:
    """Refuse a database of another application or of a newer gbs (before anything is written).

    Raises:
        CampaignError: with the reason and what to do.
    """
    if state.foreign:
        others = sorted(state.tables - {VERSION_TABLE})
        shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
        raise CampaignError(
            f"{display} is not a gbs campaign database (no campaigns table; it holds {shown}): "
            "point --db at a new file or an empty database"
        )
    if state.revision is not None and state.revision not in known_revisions():
        raise CampaignError(
            f"campaign database {display} has schema {state.revision}, newer than this version "
            f"of gbs (which knows up to revision {head}): upgrade gbs-design to open it"
        )


def upgrade(engine: Engine, display: str, head: str) -> SchemaState:
    """Bring the database to revision ``head`` (see the module docstring); return where it was.

    Args:
        engine: the campaign database.
        display: how messages name the database (password hidden).
        head: the revision to reach (:data:`SCHEMA_REVISION`; older ones in tests).

    Raises:
        CampaignError: a database of another application, or a schema newer than this code.
    """
    from alembic import command

    with locked(engine) as conn:
        before = read_state(conn)
        if before.recorded and before.revision == head:
            return before  # another process migrated it while this one waited for the lock
        refuse_unusable(before, display, head)
        cfg = alembic_config(conn)
        if before.revision is not None and not before.recorded:
            command.stamp(cfg, before.revision)
        command.upgrade(cfg, head)
    logger.info(
        "upgraded the schema of %s from %s to %s", display, before.revision or "(empty)", head
    )
    return before


def run_env() -> None:
    """Body of ``migrations/env.py``: run the migrations Alembic asks for.

    From :func:`upgrade` (and ``python -m design.store``) the connection comes in
    ``config.attributes``; from the ``alembic`` command line the URL is ``-x db=URL``, else
    ``GBS_CAMPAIGN_DB``, else the default SQLite file.
    """
    from alembic import context

    from design.store.database import Base, resolve_db_url

    options: dict[str, Any] = {
        "target_metadata": Base.metadata,
        "version_table": VERSION_TABLE,
        "compare_type": True,
    }
    conn = context.config.attributes.get("connection")
    if conn is not None:
        context.configure(connection=conn, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("db") or resolve_db_url()
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url)
    try:
        with locked(engine) as conn:
            context.configure(connection=conn, **options)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


def new_revision(message: str, *, autogenerate: bool = True) -> Path:
    """Write the next migration script (``NNNN_message.py``) and return its path.

    With ``autogenerate`` its operations are Alembic's comparison of the records in
    :mod:`design.store.database` with a scratch SQLite database at the current head.
    """
    from alembic import command

    revisions = known_revisions()
    rev_id = f"{int(revisions[-1]) + 1:04d}" if revisions else LEGACY_REVISION
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'scratch.db'}")
        try:
            if revisions:
                upgrade(engine, "scratch database", revisions[-1])
            with locked(engine) as conn:
                script = command.revision(
                    alembic_config(conn), message, autogenerate=autogenerate, rev_id=rev_id
                )
        finally:
            engine.dispose()
    path = getattr(script, "path", None)
    if path is None:
        raise CampaignError(f"alembic wrote no revision for {message!r}")
    return Path(path)
