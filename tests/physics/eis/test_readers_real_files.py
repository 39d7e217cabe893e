"""Every file of the shared instrument-files README: points, sweeps, refusals, and values equal to
impedance.py's readers wherever both read the file."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from physics.eis.readers import detect_format, read_spectra, read_spectrum
from physics.errors import FileFormatError


def _repo_root() -> Path:
    here = Path(__file__).resolve()
    return next(p for p in here.parents if (p / "pyproject.toml").is_file())


FILES = _repo_root() / ".." / "shared" / "instrument-files"
pytestmark = pytest.mark.skipif(
    not (FILES / "README.md").is_file(),
    reason=f"instrument files not found in {FILES} (shared/ must sit beside the repository)",
)

# file: (format, points per sweep, area in cm2 or None, a note that must be there or "")
READ = {
    "exampleDataBioLogic.mpt": ("mpt", [43], None, "EC-Lab's default (0.001 cm2)"),
    "exampleDataGamry.DTA": ("dta", [72], None, "Gamry Framework's default AREA"),
    "impedance.py/exampleDataZPlot.z": ("z", [21], None, ""),
    "impedance.py/exampleDataZPlot_noComments.z": ("z", [31], None, "announces 79 points"),
    "impedance.py/Circuit1_EIS_1.z": ("z", [48], None, ""),
    "impedance.py/exampleDataAutolab.txt": ("z", [41], None, ""),
    "impedance.py/exampleDataCHInstruments.txt": ("chi", [73], None, ""),
    "impedance.py/exampleDataVersaStudio.par": ("par", [61], None, "VersaStudio's default"),
    "impedance.py/exampleDataPowersuite.txt": ("csv", [30], None, ""),
    "impedance.py/exampleDataParstat.txt": ("csv", [31], None, "dropped 781 row(s) with f = 0"),
    "impedance.py/exampleData.csv": ("csv", [66], None, "no header row"),
    "impedance.py/exampleDataGamryABORT.DTA": ("dta", [72], None, "aborted (Gamry EXPERIMENTAB"),
    "gamry-parser/eispot_data.dta": ("dta", [10], None, ""),
    "gamry-parser/eispot_data_curveaborted.dta": ("dta", [5], None, "aborted"),
    "yadg/peis.issue_149.mpt": ("mpt", [21] * 4, None, ""),
    "yadg/peis.issue_149.mpr": ("mpr", [21] * 4, None, ""),
    "yadg/geis.issue_149.mpt": ("mpt", [21] * 4, None, ""),
    "yadg/geis.mpt": ("mpt", [41] * 60 + [39], 1.13, "dropped 29 row(s) with f = 0 Hz"),
    "yadg/peis.issue_225.with_ece.mpt": ("mpt", [32], 1.131, "header names 63 columns"),
    "yadg/peis.issue_225.with_ece.mpr": ("mpr", [32], None, "unsupported column ID(s) [471"),
    "yadg/peis.issue_225.no_ece.mpt": ("mpt", [32], 1.131, ""),
    "pyimpspec/data-header-variant-3.csv": ("csv", [29], None, ""),
    "pyimpspec/data-header-variant-4.csv": ("csv", [29], None, "polar columns"),
    "pyimpspec/data-space.csv": ("csv", [29], None, ""),
    "pyimpspec/case-negative-real-imaginary.csv": ("csv", [29], None, ""),
    "pyimpspec/case-multiple-spectra.mpt": ("mpt", [29] * 3, None, ""),
    "pyimpspec/data.z": ("z", [29], None, ""),
    "pyimpspec/data-comma-decimal-separator.csv": ("csv", [29], None, ""),
}

REFUSED = {
    "impedance.py/exampleDataBioLogic_MissingFreq.mpt": "not an impedance export: EC-Lab Potentio",
    "gamry-parser/chronoa_data.dta": "not an impedance export: Gamry CHRONOA",
    "gamry-parser/cv_data.dta": "not an impedance export: Gamry CV",
    "gamry-parser/ocp_data.dta": "not an impedance export: Gamry CORPOT",
    "yadg/mb.issue_223.mpr": r"not an impedance export: EC-Lab MB \(Modulo Bat\)",
    "yadg/cv.mpt": "not an impedance export: EC-Lab Cyclic Voltammetry",
    "yadg/ocv.mpr": "not an impedance export: EC-Lab OCV",
    "yadg/zir.mpt": "one frequency is not a spectrum",
}


def test_every_file_of_the_folder_is_covered():
    on_disk = {
        str(p.relative_to(FILES)) for p in FILES.rglob("*") if p.is_file() and p.suffix != ".md"
    }
    assert on_disk == set(READ) | set(REFUSED)


@pytest.mark.parametrize("name", sorted(READ))
def test_read(name):
    fmt, points, area, note = READ[name]
    path = FILES / name
    assert detect_format(path) == fmt
    spectra = read_spectra(path)
    assert [s.n_points for s in spectra] == points
    assert [s.metadata["sweep"] for s in spectra] == list(range(1, len(points) + 1))
    for s in spectra:
        assert s.area_cm2 == (None if area is None else pytest.approx(area))
        assert np.all(s.frequency_hz > 0)
        if note:
            assert any(note in n for n in s.metadata["notes"]), s.metadata["notes"]
    if len(spectra) > 1:
        with pytest.raises(FileFormatError, match=rf"holds {len(points)} sweeps.*--sweep N"):
            read_spectrum(path)
        assert read_spectrum(path, sweep=2).metadata["sweep"] == 2
    else:
        assert read_spectrum(path).n_points == points[0]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_with_the_reason(name):
    with pytest.raises(FileFormatError, match=REFUSED[name]) as info:
        read_spectra(FILES / name)
    assert "corrupt" not in str(info.value)
    assert "\n" not in str(info.value)


def test_sweeps_are_never_merged_and_carry_their_start_time():
    spectra = read_spectra(FILES / "yadg/peis.issue_149.mpt")
    starts = [s.metadata["start_time_s"] for s in spectra]
    assert starts == sorted(starts) and starts[0] == pytest.approx(80.341474)
    assert [s.metadata["sweep_id"] for s in spectra] == [1, 2, 3, 4]  # EC-Lab cycle number
    mpr = read_spectra(FILES / "yadg/peis.issue_149.mpr")
    for a, b in zip(spectra, mpr, strict=True):  # .mpr (float32) and .mpt (text) agree
        np.testing.assert_allclose(a.z_ohm, b.z_ohm, rtol=1e-6)
        np.testing.assert_allclose(a.metadata["start_time_s"], b.metadata["start_time_s"])
    # a synthetic file without a sweep counter: sweeps found where the frequency starts high again
    restart = read_spectra(FILES / "pyimpspec/case-multiple-spectra.mpt")
    assert [s.frequency_hz[0] for s in restart] == [1e4, 1e4, 1e4]


def test_area_from_the_file_is_used_and_a_user_area_wins():
    s = read_spectrum(FILES / "yadg/peis.issue_225.no_ece.mpt")  # 113.100 mm²
    assert s.area_cm2 == pytest.approx(1.131) and s.metadata["area_source"] == "file"
    s = read_spectrum(FILES / "exampleDataBioLogic.mpt", area_cm2=0.785)
    assert s.area_cm2 == 0.785 and s.metadata["area_source"] == "user"


def test_ece_export_and_mpr_agree_with_the_plain_export():
    with_ece = read_spectrum(FILES / "yadg/peis.issue_225.with_ece.mpt")
    mpr = read_spectrum(FILES / "yadg/peis.issue_225.with_ece.mpr")
    np.testing.assert_allclose(mpr.frequency_hz, with_ece.frequency_hz, rtol=1e-6)
    np.testing.assert_allclose(mpr.z_ohm, with_ece.z_ohm, rtol=1e-6)


def test_csv_variants_of_one_spectrum_agree():
    ref = read_spectrum(FILES / "pyimpspec/data-header-variant-3.csv")
    assert ref.z_ohm[0] == pytest.approx(109.00918219439028 - 26.55567987651522j)
    for name in (
        "data-space.csv",
        "case-negative-real-imaginary.csv",
        "data-comma-decimal-separator.csv",
        "data-header-variant-4.csv",
        "data.z",
    ):
        s = read_spectrum(FILES / "pyimpspec" / name)
        np.testing.assert_allclose(s.frequency_hz, ref.frequency_hz, rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(s.z_ohm, ref.z_ohm, rtol=1e-5, err_msg=name)


# --------------------------------------------------------------------------- impedance.py
IMPEDANCE_READERS = {
    "impedance.py/exampleDataZPlot.z": "readZPlot",
    "impedance.py/exampleDataZPlot_noComments.z": "readZPlot",
    "impedance.py/Circuit1_EIS_1.z": "readZPlot",
    "pyimpspec/data.z": "readZPlot",
    "impedance.py/exampleDataAutolab.txt": "readAutolab",
    "impedance.py/exampleDataCHInstruments.txt": "readCHInstruments",
    "impedance.py/exampleDataVersaStudio.par": "readVersaStudio",
    "impedance.py/exampleDataPowersuite.txt": "readPowerSuite",
    "impedance.py/exampleDataParstat.txt": "readParstat",
    "impedance.py/exampleData.csv": "readCSV",
    "impedance.py/exampleDataGamryABORT.DTA": "readGamry",
    "exampleDataGamry.DTA": "readGamry",
    "gamry-parser/eispot_data.dta": "readGamry",
    "gamry-parser/eispot_data_curveaborted.dta": "readGamry",
    "exampleDataBioLogic.mpt": "readBioLogic",
    "yadg/peis.issue_149.mpt": "readBioLogic",
    "yadg/geis.issue_149.mpt": "readBioLogic",
    "yadg/geis.mpt": "readBioLogic",
    "yadg/peis.issue_225.with_ece.mpt": "readBioLogic",
    "yadg/peis.issue_225.no_ece.mpt": "readBioLogic",
    "pyimpspec/case-multiple-spectra.mpt": "readBioLogic",
}


@pytest.mark.parametrize("name", sorted(IMPEDANCE_READERS))
def test_values_equal_impedance_py(name):
    preprocessing = pytest.importorskip("impedance.preprocessing")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f_ref, z_ref = getattr(preprocessing, IMPEDANCE_READERS[name])(str(FILES / name))
    keep = f_ref != 0  # impedance.py keeps the f = 0 rows of GEIS files; we drop them
    spectra = read_spectra(FILES / name)
    f = np.concatenate([s.frequency_hz for s in spectra])
    z = np.concatenate([s.z_ohm for s in spectra])
    np.testing.assert_array_equal(f, f_ref[keep])
    np.testing.assert_array_equal(z, z_ref[keep])


def test_mpr_direct_layout_equals_galvani_on_a_file_galvani_reads():
    galvani = pytest.importorskip("galvani.BioLogic")
    from physics.eis.readers import biologic_mpr

    path = FILES / "yadg/peis.issue_149.mpr"
    modules = biologic_mpr._modules(path, path.read_bytes())
    columns, unknown = biologic_mpr._fallback_columns(path, modules["VMP data"], galvani)
    reference = galvani.MPRfile(str(path))
    assert unknown == []
    assert sorted(columns) == ["-Im(Z)/Ohm", "Re(Z)/Ohm", "cycle number", "freq/Hz", "time/s"]
    for name, values in columns.items():
        np.testing.assert_array_equal(values, np.asarray(reference.data[name], dtype=float))
    np.testing.assert_array_equal(
        biologic_mpr._loop_index(modules["VMP loop"]), reference.loop_index
    )
