"""``gbs campaign status|export|report``: read-only on the database, output paths checked first."""

from __future__ import annotations

import sqlite3

import pytest

from design.campaign.config import CampaignConfig
from design.cli.app import main
from design.store import ledger
from design.store.database import Store
from experiments import paper_table_path
from physics.table import read_table


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'campaigns.db'}"
    store = Store(url)
    config = CampaignConfig(name="c1", cycler_url="http://127.0.0.1:1", budget=4)
    ledger.create_campaign(store, "c1", config.to_json(), read_table(paper_table_path()))
    store.close()
    return url


def _error(capsys, code: int, needle: str) -> str:
    err = capsys.readouterr().err
    assert code == 1, err
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err
    return err


def test_export_refuses_a_folder_an_existing_file_and_a_file_as_folder(db, tmp_path, capsys):
    _error(
        capsys,
        main(["campaign", "export", "c1", "--db", db, "--csv", str(tmp_path)]),
        "is a folder",
    )
    taken = tmp_path / "taken.csv"
    taken.write_text("my data\n")
    _error(capsys, main(["campaign", "export", "c1", "--db", db, "--csv", str(taken)]), "--force")
    assert taken.read_text() == "my data\n"  # nothing overwritten
    (tmp_path / "f").write_text("")
    bad = tmp_path / "f" / "x.csv"
    _error(
        capsys, main(["campaign", "export", "c1", "--db", db, "--csv", str(bad)]), "not a folder"
    )
    assert main(["campaign", "export", "c1", "--db", db, "--csv", str(taken), "--force"]) == 0
    assert taken.read_text().startswith("sample_id,")


def test_report_refuses_a_folder_and_a_wrong_ending_before_any_work(db, tmp_path, capsys):
    _error(
        capsys,
        main(["campaign", "report", "c1", "--db", db, "--out", str(tmp_path)]),
        "is a folder",
    )
    out = str(tmp_path / "r.txt")
    _error(capsys, main(["campaign", "report", "c1", "--db", db, "--out", out]), ".html")
    out = str(tmp_path / "r.html")
    _error(
        capsys, main(["campaign", "report", "nope", "--db", db, "--out", out]), "no campaign named"
    )


def test_status_never_creates_a_database_or_its_folder(tmp_path, capsys):
    missing = tmp_path / "nowhere" / "campaigns.db"
    _error(
        capsys,
        main(["campaign", "status", "c1", "--db", f"sqlite:///{missing}"]),
        "no campaign database",
    )
    assert not missing.parent.exists()


def test_status_on_files_that_are_not_campaign_databases(tmp_path, capsys):
    text = tmp_path / "table.csv"
    text.write_text("a,b\n1,2\n")
    _error(
        capsys, main(["campaign", "status", "c1", "--db", f"sqlite:///{text}"]), "not a database"
    )
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE mine (x)")
    _error(
        capsys,
        main(["campaign", "status", "c1", "--db", f"sqlite:///{other}"]),
        "is not a gbs campaign database",
    )
    with sqlite3.connect(other) as conn:  # no tables were added to someone else's file
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["mine"]


def test_status_of_a_campaign(db, capsys):
    assert main(["campaign", "status", "c1", "--db", db]) == 0
    assert "Campaign c1" in capsys.readouterr().out
