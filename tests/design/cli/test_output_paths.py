"""Output paths: a folder, an existing file, a wrong ending or an unwritable place is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from design.cli.app import main
from design.cli.paths import output_dir, output_file
from design.errors import OutputPathError

ROOT = Path(__file__).resolve().parents[3]
EIS = ROOT.parent / "shared" / "instrument-files" / "exampleDataBioLogic.mpt"


def test_output_file_rules(tmp_path):
    (tmp_path / "taken.csv").write_text("keep me")
    (tmp_path / "a-file").write_text("")
    with pytest.raises(OutputPathError, match="is a folder; give a file name"):
        output_file(tmp_path, "--csv", suffixes=(".csv",))
    with pytest.raises(OutputPathError, match=r"exists already.*--force"):
        output_file(tmp_path / "taken.csv", "--csv", suffixes=(".csv",))
    assert output_file(tmp_path / "taken.csv", "--csv", overwrite=True).read_text() == "keep me"
    with pytest.raises(OutputPathError, match=r"ending in \.png"):
        output_file(tmp_path / "x.csv", "--plot", suffixes=(".png",))
    with pytest.raises(OutputPathError, match="a-file is a file, not a folder"):
        output_file(tmp_path / "a-file" / "x.csv", "--csv")
    new = output_file(tmp_path / "new" / "deeper" / "x.csv", "--csv", suffixes=(".csv",))
    assert new.parent.is_dir() and not new.exists()
    assert list(new.parent.iterdir()) == []  # the write check leaves nothing behind


def test_output_dir_rules(tmp_path):
    (tmp_path / "a-file").write_text("")
    with pytest.raises(OutputPathError, match="is a file, not a folder"):
        output_dir(tmp_path / "a-file", "--plot-dir")
    assert output_dir(tmp_path / "plots", "--plot-dir").is_dir()


def test_unwritable_place(tmp_path):
    with pytest.raises(OutputPathError, match="cannot write in"):
        output_file(Path("/proc/gbs-test/x.csv"), "--csv")


def _one_line(capsys, code: int, needle: str) -> None:
    err = capsys.readouterr().err
    assert code == 1, err
    assert err.count("\n") == 1 and needle in err and "Traceback" not in err


def test_suggest_plot_dir_that_is_a_file(tmp_path, capsys):
    (tmp_path / "plots").write_text("")
    table = ROOT / "experiments" / "data" / "wang2022.csv"
    code = main(
        ["suggest", "--data", str(table), "--plot-dir", str(tmp_path / "plots"), "--no-mlflow"]
    )
    _one_line(capsys, code, "--plot-dir")


@pytest.mark.skipif(not EIS.is_file(), reason="needs ../shared/instrument-files")
def test_fit_eis_plot_paths(tmp_path, capsys):
    _one_line(capsys, main(["fit-eis", str(EIS), "--plot", str(tmp_path / "x.csv")]), ".png")
    _one_line(capsys, main(["fit-eis", str(EIS), "--plot", str(tmp_path)]), "is a folder")
    assert main(["fit-eis", str(EIS), "--plot", str(tmp_path / "fit.png")]) == 0
    assert (tmp_path / "fit.png").stat().st_size > 1000
    assert not (tmp_path.with_suffix(".png")).exists()  # matplotlib never adds its own ending
