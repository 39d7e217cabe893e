"""Alembic migrations of the campaign database: head = records, legacy upgrade, refusals, locks."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from design.errors import CampaignError
from design.store import ledger, migrate
from design.store.database import Base, Store, loads
from design.store.migrate import (
    SCHEMA_REVISION,
    VERSION_TABLE,
    alembic_config,
    known_revisions,
    locked,
    read_state,
    upgrade,
)

ROOT = Path(__file__).resolve().parents[3]
LEGACY_SQL = Path(__file__).parent / "data" / "legacy_schema_1.sql"


def legacy_db(path: Path) -> Path:
    """A database as gbs wrote it before Alembic (gbs_meta.schema_version 1)."""
    with sqlite3.connect(path) as conn:
        conn.executescript(LEGACY_SQL.read_text())
    return path


def _diff(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"compare_type": True, "version_table": VERSION_TABLE}
            )
            return list(compare_metadata(ctx, Base.metadata))
    finally:
        engine.dispose()


def test_head_is_the_newest_script_and_ids_count_up():
    revisions = known_revisions()
    assert revisions[-1] == SCHEMA_REVISION
    assert revisions == [f"{i:04d}" for i in range(1, len(revisions) + 1)]
    for rev in revisions:
        (script,) = migrate.MIGRATIONS_DIR.glob(f"versions/{rev}_*.py")
        assert re.fullmatch(r"\d{4}_[a-z0-9_]+\.py", script.name)


def test_migrations_at_head_create_exactly_the_records(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    store = Store(url)
    assert store.found is not None and store.found.revision is None  # it was empty
    store.close()
    assert _diff(url) == []


def test_a_database_from_before_alembic_is_upgraded_with_its_data(tmp_path):
    path = legacy_db(tmp_path / "legacy.db")
    store = Store(f"sqlite:///{path}")
    assert store.found.revision == "0001" and not store.found.recorded
    rec = store.campaign("legacy")
    assert rec.config["thresholds"] == {"sigma_total_ms_cm": 1.0}
    assert [r.sample_id for r in store.rows(rec.id)] == ["S-1"]
    assert [j.job_id for j in store.jobs(rec.id)] == ["j-000001", None]
    (it,) = store.iterations(rec.id)
    assert it.strategy is None and loads(it.info_json)["strategy"] == "physics-gp"
    # 0003: older jobs made new samples on the one service, with every protocol
    all_protocols = ["eis_blocking", "dc_polarization", "eis_symmetric", "ccd_staircase"]
    for job in store.jobs(rec.id):
        assert (job.kind, job.service, job.protocols) == ("new", "cycler-1", all_protocols)
        assert job.instrument_hours is None
    assert [p.kind for p in store.proposals(rec.id)] == ["new", "new"]
    assert [p.protocols for p in store.proposals(rec.id)] == [None, None]
    ledger.add_proposals(store, rec, 2, [], protocols=None, info={"strategy": "gp"})
    assert store.iterations(rec.id)[-1].strategy == "gp"
    with store.engine.connect() as conn:
        assert read_state(conn).revision == SCHEMA_REVISION and read_state(conn).recorded
        assert conn.execute(text("SELECT value FROM gbs_meta")).scalar() == "3"
    store.close()
    assert _diff(f"sqlite:///{path}") == []


def test_a_newer_schema_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "c.db"
    Store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"UPDATE {VERSION_TABLE} SET version_num = '0099'")
    before = path.read_bytes()
    for read_only in (False, True):
        with pytest.raises(CampaignError, match="schema 0099, newer than this version of gbs"):
            Store(f"sqlite:///{path}", read_only=read_only)
    assert path.read_bytes() == before


def test_an_unknown_pre_alembic_version_is_refused(tmp_path):
    path = legacy_db(tmp_path / "legacy.db")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE gbs_meta SET value = '7'")
    with pytest.raises(CampaignError, match="schema version 7, newer"):
        Store(f"sqlite:///{path}")


def test_a_failed_migration_leaves_the_old_schema(tmp_path, monkeypatch):
    scripts = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, scripts)
    (scripts / "versions" / "0099_broken.py").write_text(
        '"""A migration that fails halfway."""\n'
        "import sqlalchemy as sa\nfrom alembic import op\n\n"
        f'revision = "0099"\ndown_revision = "{SCHEMA_REVISION}"\n'
        "branch_labels = depends_on = None\n\n\n"
        "def upgrade():\n"
        '    op.add_column("campaigns", sa.Column("extra", sa.Text()))\n'
        '    raise RuntimeError("broken migration")\n'
    )
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", scripts)
    path = legacy_db(tmp_path / "legacy.db")
    engine = create_engine(f"sqlite:///{path}")
    with pytest.raises(RuntimeError, match="broken migration"):
        upgrade(engine, "legacy.db", "0099")
    with engine.connect() as conn:
        state = read_state(conn)
        columns = {c["name"] for c in inspect(conn).get_columns("iterations")}
    engine.dispose()
    assert (state.revision, state.recorded) == ("0001", False)  # not even stamped
    assert VERSION_TABLE not in state.tables and "strategy" not in columns


def test_downgrade_to_the_legacy_schema_and_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    Store(url).close()
    engine = create_engine(url)
    with locked(engine) as conn:
        command.downgrade(alembic_config(conn), "0001")
    with engine.connect() as conn:
        assert read_state(conn).revision == "0001"
        assert "strategy" not in {c["name"] for c in inspect(conn).get_columns("iterations")}
        assert conn.execute(text("SELECT value FROM gbs_meta")).scalar() == "1"
    engine.dispose()
    Store(url).close()
    assert _diff(url) == []


_OPEN = "import sys; from design.store.database import Store; Store(sys.argv[1]).close()"


def _open_in_processes(url: str, n: int) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _OPEN, url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(n)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * n, outputs


@pytest.mark.slow
def test_processes_opening_a_new_database_at_once_migrate_it_once(tmp_path):
    url = f"sqlite:///{legacy_db(tmp_path / 'legacy.db')}"
    _open_in_processes(url, 4)
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {VERSION_TABLE}")).scalar() == 1
    engine.dispose()
    assert _diff(url) == []


@pytest.mark.slow
def test_postgres_from_empty_from_legacy_and_concurrently(postgres_url):
    _open_in_processes(postgres_url, 3)
    assert _diff(postgres_url) == []
    store = Store(postgres_url)
    ledger.create_campaign(store, "pg", {"budget": 1})
    store.close()
    engine = create_engine(postgres_url)  # back to the pre-Alembic state, data kept
    with locked(engine) as conn:
        command.downgrade(alembic_config(conn), "0001")
        conn.execute(text(f"DROP TABLE {VERSION_TABLE}"))
    engine.dispose()
    with pytest.raises(CampaignError, match=r"older than the 0003 this gbs reads.*upgrade"):
        Store(postgres_url, read_only=True)
    store = Store(postgres_url)
    assert store.found.revision == "0001" and not store.found.recorded
    assert store.campaign("pg").config == {"budget": 1}
    store.close()
    assert _diff(postgres_url) == []
    reader = Store(postgres_url, read_only=True)
    assert reader.campaign("pg").config == {"budget": 1}
    with pytest.raises(Exception, match="read-only transaction"):
        ledger.create_campaign(reader, "pg2", {})
    reader.close()
