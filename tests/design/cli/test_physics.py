"""The physics commands of the CLI, run as a user runs them (a subprocess of the console script)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from design.cli.app import main
from physics.schema import MEASUREMENT_COLUMNS
from tests.physics.measurements.result_cases import result_cases

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "experiments" / "samples" / "example-result-x0.15-1050C.json"
INSTRUMENT_FILES = ROOT.parent / "shared" / "instrument-files"


def gbs(*args: str) -> subprocess.CompletedProcess:
    # a wide terminal, so that rich does not wrap the lines the tests read
    return subprocess.run(
        [sys.executable, "-c", "from design.cli.app import entrypoint; entrypoint()", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_analyze_json_is_one_row_keyed_by_the_columns(tmp_path):
    proc = gbs("analyze", str(EXAMPLE), "--json", "--plot-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    row = json.loads(proc.stdout)
    assert list(row) == list(MEASUREMENT_COLUMNS)
    assert row["source"] == "j-000042"
    assert len(list(tmp_path.glob("*.png"))) >= 5


def test_analyze_table_output():
    proc = gbs("analyze", str(EXAMPLE))
    assert proc.returncode == 0, proc.stderr
    assert "sigma_total_ms_cm" in proc.stdout and "ccd_censored" in proc.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "not valid JSON"), ('{"job_id": "j-1"}', "sample"), ("", "not valid JSON")],
)
def test_analyze_bad_files_one_line_error(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    proc = gbs("analyze", str(path))
    assert proc.returncode == 1
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_analyze_missing_file():
    proc = gbs("analyze", "/nonexistent/result.json")
    assert proc.returncode == 1 and "no such file" in proc.stderr and "Traceback" not in proc.stderr


def _instrument_file(name: str) -> Path:
    path = INSTRUMENT_FILES / name
    if not path.exists():
        pytest.skip(f"instrument files not found at {INSTRUMENT_FILES}")
    return path


def test_fit_eis_on_a_real_gamry_file(tmp_path):
    dta = _instrument_file("exampleDataGamry.DTA")
    plot = tmp_path / "fit.png"
    proc = gbs("fit-eis", str(dta), "--thickness-cm", "0.1", "--json", "--plot", str(plot))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["instrument"] == "Gamry" and len(out["sweeps"]) == 1
    (sweep,) = out["sweeps"]
    # one arc and a low-frequency tail: the default circuit models the tail too
    assert sweep["circuit"] == "R0-p(R1,CPE1)-CPE2", sweep["circuit_reason"]
    assert sweep["chi2"] < 0.01
    assert sweep["params"]["R1"] > 0 and sweep["stderr"]["R1"] >= 0
    # the arc starts at the origin: R0 is not determined, so no sigma from it
    assert "R0" in sweep["unresolved"] and "R1" not in sweep["unresolved"]
    assert sweep["sigma_ms_cm"] is None and "R0" in sweep["sigma_note"]
    # AREA 1 cm2 in the header is the Framework's default: unknown, and said so
    assert sweep["area_cm2"] is None
    assert any("Gamry Framework's default AREA" in n for n in out["notes"])
    assert "mu" in sweep["kk"]
    assert plot.stat().st_size > 5000


def test_fit_eis_multi_sweep_table_sweep_option_and_json():
    mpt = _instrument_file("yadg/peis.issue_149.mpt")
    proc = gbs("fit-eis", str(mpt), "--thickness-cm", "0.1", "--area-cm2", "0.5")
    assert proc.returncode == 0, proc.stderr
    assert "4 sweeps, fitted one by one (never merged)" in proc.stdout
    rows = [ln for ln in proc.stdout.splitlines() if ln.startswith("│")]
    assert [ln.split("│")[1].strip() for ln in rows] == ["1", "2", "3", "4"]
    assert "80.34 s" in rows[0]  # the first sweep's start on the file's clock
    out = json.loads(gbs("fit-eis", str(mpt), "--json", "--thickness-cm", "0.1").stdout)
    assert [s["sweep"] for s in out["sweeps"]] == [1, 2, 3, 4]
    starts = [s["start_time_s"] for s in out["sweeps"]]
    assert starts == sorted(starts)
    r0 = [s["params"]["R0"] for s in out["sweeps"]]
    assert len({round(r, 3) for r in r0}) == 4  # each sweep its own fit, none merged
    assert all(s["sigma_ms_cm"] is None and "area" in s["sigma_note"] for s in out["sweeps"])
    one = json.loads(gbs("fit-eis", str(mpt), "--json", "--sweep", "3").stdout)
    assert [s["sweep"] for s in one["sweeps"]] == [3]
    assert one["sweeps"][0]["params"]["R0"] == pytest.approx(r0[2], rel=1e-6)
    proc = gbs("fit-eis", str(mpt), "--sweep", "9")
    assert proc.returncode == 1 and "no sweep 9: the file holds sweeps 1-4" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_fit_eis_placeholder_area_and_a_real_area_from_the_file():
    mpt = _instrument_file("exampleDataBioLogic.mpt")
    proc = gbs("fit-eis", str(mpt), "--thickness-cm", "0.1", "--circuit", "R0-p(R1,CPE1)")
    assert proc.returncode == 0, proc.stderr
    assert "EC-Lab's default (0.001 cm2)" in proc.stdout and "treated as unknown" in proc.stdout
    assert "mS/cm" not in proc.stdout.split("sigma", 1)[-1]
    assert "the electrode area is unknown" in proc.stdout
    real = _instrument_file("yadg/peis.issue_225.no_ece.mpt")
    proc = gbs("fit-eis", str(real), "--thickness-cm", "0.1")
    assert proc.returncode == 0, proc.stderr
    assert "A = 1.131 cm2 from the file" in proc.stdout


def test_fit_eis_refuses_a_non_impedance_file_in_one_line():
    cv = _instrument_file("gamry-parser/cv_data.dta")
    proc = gbs("fit-eis", str(cv))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "not an impedance export: Gamry CV" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_fit_eis_bad_circuit_and_bad_file(tmp_path):
    dta = _instrument_file("exampleDataGamry.DTA")
    proc = gbs("fit-eis", str(dta), "--circuit", "R0-p(R1,XYZ1)")
    assert proc.returncode == 1 and "XYZ" in proc.stderr and "Traceback" not in proc.stderr
    junk = tmp_path / "junk.mpt"
    junk.write_bytes(b"\x00\x01garbage")
    proc = gbs("fit-eis", str(junk))
    assert proc.returncode == 1 and "junk.mpt" in proc.stderr and "Traceback" not in proc.stderr


# -- the result corpus (tests/physics/measurements/result_cases.py) through gbs analyze ---------

RESULT_CASES = result_cases()
RESULT_ERRORS = [c for c in RESULT_CASES if c.expect]
RESULT_GOOD = [c for c in RESULT_CASES if not c.expect]


@pytest.mark.parametrize("case", RESULT_ERRORS, ids=[c.id for c in RESULT_ERRORS])
def test_analyze_refuses_each_mistake_in_one_line(case, tmp_path, capsys):
    path = tmp_path / "result.json"
    path.write_text(json.dumps(case.result()))
    code = main(["analyze", str(path)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith(f"error: {path}: job j-000042")
    missing = [p for p in case.expect if p not in err]
    assert not missing, f"{missing} not in: {err}"


@pytest.mark.parametrize("case", RESULT_GOOD, ids=[c.id for c in RESULT_GOOD])
def test_analyze_reads_each_correctable_result_with_its_note(case, tmp_path, capsys):
    path = tmp_path / "result.json"
    path.write_text(json.dumps(case.result()))
    code = main(["analyze", str(path), "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    row = json.loads(out.out)
    for column, expected in (case.row or {}).items():
        if expected is None:
            assert row[column] is None, column
        else:
            assert row[column] == pytest.approx(expected, rel=0.01), column
    assert case.note in out.err  # a correction or an empty column is never silent


@pytest.mark.parametrize(
    "case_id",
    ["thickness-in-mm", "frequencies-reversed-against-impedance", "empty-measurements",
     "impedance-1e300"],
)  # fmt: skip
def test_analyze_console_script_one_line(case_id, tmp_path):
    case = next(c for c in RESULT_CASES if c.id == case_id)
    path = tmp_path / "result.json"
    path.write_text(json.dumps(case.result()))
    proc = gbs("analyze", str(path))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and str(path) in proc.stderr
