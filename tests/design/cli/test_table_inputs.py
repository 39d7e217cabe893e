"""The table corpus (``tests/physics/table/cases.py``) through the commands that read tables:
``gbs suggest --data``, ``gbs predict --data`` and ``gbs campaign run --initial-data``.

A mistake gives exit status 1 and one ``error:`` line naming the file, the spreadsheet row and
the fix (plus ``note:`` lines of how the file was read, if any), never a traceback; a file
written in another dialect is read and used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from design.cli.app import main
from tests.physics.table.cases import Case, table_cases

CASES = table_cases()
ERRORS = [c for c in CASES if c.expect]
GOOD = [c for c in CASES if not c.expect]
# the mistakes of the issue, also run through predict and campaign run
MAIN = (
    "sigma-one-row-in-S-per-cm",
    "kelvin-one-row-paper",
    "kelvin-1173-to-1573",
    "dwell-zero",
    "t_e-in-percent-as-printed-in-the-paper",
    "recipe-outside-the-plausible-space",
    "header-with-units-sigma",
    "duplicate-sample-ids",
)


def _stderr_lines(err: str) -> tuple[list[str], list[str]]:
    lines = [line for line in err.splitlines() if line.strip()]
    return [ln for ln in lines if ln.startswith("error:")], [
        ln for ln in lines if not ln.startswith(("error:", "note:"))
    ]


def _assert_one_error(code: int, err: str, case: Case) -> None:
    errors, other = _stderr_lines(err)
    assert code == 1, err
    assert len(errors) == 1 and not other, err
    assert "Traceback" not in err
    assert case.file_name in errors[0]
    missing = [p for p in case.expect if p not in errors[0]]
    assert not missing, f"{missing} not in: {errors[0]}"


@pytest.mark.parametrize("case", ERRORS, ids=[c.id for c in ERRORS])
def test_suggest_refuses_each_mistake_in_one_line(case, tmp_path, capsys):
    path = case.write(tmp_path)
    code = main(["suggest", "--data", str(path), "--no-mlflow", "--strategy", "sobol"])
    _assert_one_error(code, capsys.readouterr().err, case)


@pytest.mark.parametrize("case", GOOD, ids=[c.id for c in GOOD])
def test_suggest_reads_each_dialect(case, tmp_path, capsys):
    path = case.write(tmp_path)
    code = main(["suggest", "--data", str(path), "--no-mlflow", "--strategy", "sobol", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert len(json.loads(out.out)) == 4
    for note in case.notes:  # how the file was read is said on stderr
        assert note in out.err


@pytest.mark.parametrize("case_id", MAIN)
def test_predict_and_campaign_refuse_the_main_mistakes(case_id, tmp_path, capsys):
    case = next(c for c in CASES if c.id == case_id)
    path = case.write(tmp_path)
    at = tmp_path / "at.csv"
    at.write_text("zbo_fraction,sinter_temperature_c\n0.2,1000\n")
    code = main(["predict", "--data", str(path), "--at", str(at), "--strategy", "gp"])
    _assert_one_error(code, capsys.readouterr().err, case)
    code = main(
        [
            "campaign", "run", "--cycler-url", "http://127.0.0.1:9", "--campaign", "never",
            "--budget", "1", "--initial-data", str(path), "--db", f"sqlite:///{tmp_path}/c.db",
            "--no-tracking", "--no-progress",
        ]
    )  # fmt: skip
    _assert_one_error(code, capsys.readouterr().err, case)
    assert not (tmp_path / "c.db").exists()  # refused before anything was stored


def test_predict_reads_a_semicolon_decimal_comma_file(tmp_path, capsys):
    case = next(c for c in CASES if c.id == "semicolon-and-decimal-comma")
    path = case.write(tmp_path)
    at = tmp_path / "at.csv"
    at.write_text("zbo_fraction;sinter_temperature_c\n0,2;1000\n")
    code = main(["predict", "--data", str(path), "--at", str(at), "--strategy", "gp", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    (record,) = json.loads(out.out)
    assert record["zbo_fraction"] == 0.2 and record["sinter_temperature_c"] == 1000.0
    assert "decimal commas" in out.err


def test_the_console_script_prints_one_line_without_traceback(tmp_path):
    case = next(c for c in CASES if c.id == "sigma-one-row-in-S-per-cm")
    path = case.write(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", "from design.cli.app import entrypoint; entrypoint()",
         "suggest", "--data", str(path), "--no-mlflow", "--strategy", "sobol"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: wang2022.csv row 7: sigma_total_ms_cm = 0.0012")
