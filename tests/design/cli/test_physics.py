"""The physics commands of the CLI, run as a user runs them (a subprocess of the console script)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from physics.schema import MEASUREMENT_COLUMNS

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "experiments" / "samples" / "example-result-x0.15-1050C.json"
INSTRUMENT_FILES = ROOT.parent / "shared" / "instrument-files"


def gbs(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from design.cli.app import entrypoint; entrypoint()", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
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


def test_fit_eis_on_a_real_gamry_file(tmp_path):
    dta = INSTRUMENT_FILES / "exampleDataGamry.DTA"
    if not dta.exists():
        pytest.skip(f"instrument files not found at {INSTRUMENT_FILES}")
    plot = tmp_path / "fit.png"
    proc = gbs("fit-eis", str(dta), "--thickness-cm", "0.1", "--json", "--plot", str(plot))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    # one arc and a low-frequency tail: the default circuit models the tail too
    assert out["circuit"] == "R0-p(R1,CPE1)-CPE2", out["circuit_reason"]
    assert out["chi2"] < 0.01
    assert out["params"]["R0"] > 0 and out["stderr"]["R0"] >= 0
    assert out["sigma_ms_cm"] is not None and out["sigma_ms_cm"] > 0  # area 1 cm2 from the header
    assert "mu" in out["kk"]
    assert plot.stat().st_size > 5000


def test_fit_eis_bad_circuit_and_bad_file(tmp_path):
    dta = INSTRUMENT_FILES / "exampleDataGamry.DTA"
    if not dta.exists():
        pytest.skip(f"instrument files not found at {INSTRUMENT_FILES}")
    proc = gbs("fit-eis", str(dta), "--circuit", "R0-p(R1,XYZ1)")
    assert proc.returncode == 1 and "XYZ" in proc.stderr and "Traceback" not in proc.stderr
    junk = tmp_path / "junk.mpt"
    junk.write_bytes(b"\x00\x01garbage")
    proc = gbs("fit-eis", str(junk))
    assert proc.returncode == 1 and "junk.mpt" in proc.stderr and "Traceback" not in proc.stderr
