"""Read-only opening: status, export and report never create, migrate or write anything."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from design.campaign.config import CampaignConfig
from design.errors import CampaignError
from design.reporting.snapshot import snapshot
from design.store import ledger
from design.store.database import Store
from design.store.migrate import SCHEMA_REVISION, VERSION_TABLE
from tests.design.store.test_migrations import legacy_db


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _foreign(path: Path) -> Path:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE experiments (id INTEGER PRIMARY KEY, name TEXT)")
    return path


def test_a_missing_file_is_not_created(tmp_path):
    path = tmp_path / "sub" / "c.db"
    with pytest.raises(CampaignError, match=f"no campaign database at {path}"):
        Store(f"sqlite:///{path}", read_only=True)
    assert not path.parent.exists()


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(CampaignError, match="is a directory"):
        Store(f"sqlite:///{tmp_path}", read_only=True)


@pytest.mark.parametrize("read_only", [True, False])
def test_a_text_file_is_one_clear_error(tmp_path, read_only):
    path = tmp_path / "notes.txt"
    path.write_text("hello, not a database\n" * 50)
    with pytest.raises(CampaignError) as info:
        Store(f"sqlite:///{path}", read_only=read_only)
    assert str(info.value) == f"{path} is not a gbs campaign database (not a database file at all)"
    assert _files(tmp_path) == {"notes.txt": b"hello, not a database\n" * 50}


def test_a_foreign_database_is_refused_by_both_modes_and_left_alone(tmp_path):
    path = _foreign(tmp_path / "mlflow.db")
    before = _files(tmp_path)
    with pytest.raises(CampaignError) as info:
        Store(f"sqlite:///{path}", read_only=True)
    assert str(info.value) == f"{path} is not a gbs campaign database (no campaigns table)"
    with pytest.raises(CampaignError, match="no campaigns table; it holds experiments"):
        Store(f"sqlite:///{path}")
    assert _files(tmp_path) == before


def test_an_empty_file_is_not_a_campaign_database_when_reading(tmp_path):
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(CampaignError, match="no campaigns table"):
        Store(f"sqlite:///{path}", read_only=True)
    assert path.read_bytes() == b""


def test_reading_a_current_database_and_writes_are_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    writer = Store(url)
    cfg = CampaignConfig(name="c1", cycler_url="http://h", budget=2)
    ledger.create_campaign(writer, "c1", cfg.to_json())
    writer.close()
    before = (tmp_path / "c.db").read_bytes()
    reader = Store(url, read_only=True)
    assert reader.found.revision == SCHEMA_REVISION and snapshot(reader, "c1").budget == 2
    with pytest.raises(Exception, match="readonly database"):
        ledger.create_campaign(reader, "c2", cfg.to_json())
    reader.close()
    assert (tmp_path / "c.db").read_bytes() == before


def test_a_legacy_file_is_read_through_an_upgraded_copy(tmp_path):
    path = legacy_db(tmp_path / "legacy.db")
    before = path.read_bytes()
    reader = Store(f"sqlite:///{path}", read_only=True)
    assert reader.found.revision == "0001"
    snap = snapshot(reader, "legacy")
    assert snap.experiments_done == 1 and reader.iterations(1)[0].strategy is None
    reader.close()
    assert _files(tmp_path) == {"legacy.db": before}
    with sqlite3.connect(path) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert VERSION_TABLE not in names


def _cli(args: list[str], capsys) -> tuple[int, str]:
    from design.cli.app import main

    code = main(args)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "command",
    [
        ["campaign", "status", "c1"],
        ["campaign", "export", "c1", "--csv", "out.csv"],
        ["campaign", "report", "c1", "--out", "out.html"],
    ],
)
def test_read_only_commands_create_nothing(tmp_path, capsys, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "campaigns" / "c.db"
    code, err = _cli([*command, "--db", f"sqlite:///{missing}"], capsys)
    assert code == 1 and err.startswith(f"error: no campaign database at {missing}: start")
    assert err.count("\n") == 1
    foreign = _foreign(tmp_path / "other.db")
    before = _files(tmp_path)
    code, err = _cli([*command, "--db", f"sqlite:///{foreign}"], capsys)
    assert (
        code == 1
        and err == f"error: {foreign} is not a gbs campaign database (no campaigns table)\n"
    )
    assert _files(tmp_path) == before and not missing.parent.exists()


@pytest.mark.parametrize(
    "command",
    [
        ["campaign", "status", "c1"],
        ["campaign", "export", "c1", "--csv", "out.csv"],
        ["campaign", "report", "c1", "--out", "out.html"],
        ["campaign", "resume", "c1", "--no-progress"],
        [
            "campaign",
            "run",
            "--cycler-url",
            "http://127.0.0.1:9",
            "--campaign",
            "c1",
            "--budget",
            "1",
            "--no-tracking",
            "--no-progress",
        ],
        ["demo", "--experiments", "1", "--no-progress"],
    ],
)
def test_every_command_gives_one_line_for_a_text_file_db(tmp_path, capsys, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n")
    code, err = _cli([*command, "--db", f"sqlite:///{text}"], capsys)
    assert (
        code == 1
        and err == f"error: {text} is not a gbs campaign database (not a database file at all)\n"
    )
    assert _files(tmp_path) == {"notes.txt": b"not a database\n"}


def test_resuming_in_a_missing_database_creates_nothing(tmp_path):
    from design.campaign.session import resume_campaign

    path = tmp_path / "sub" / "c.db"
    with pytest.raises(CampaignError, match=f"no campaign database at {path}"):
        resume_campaign("c1", db_url=f"sqlite:///{path}")
    assert not path.parent.exists()
