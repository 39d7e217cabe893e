"""Sweep splitting (physics.eis.readers.sweeps), unresolved parameters and per-sweep fits
(physics.eis.sweep_fit), on files made in tmp_path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from physics.eis.circuits import Circuit
from physics.eis.fitting import fit_spectrum
from physics.eis.readers import read_spectra, read_spectrum
from physics.eis.readers.sweeps import RawImpedance, to_spectra
from physics.eis.spectrum import Spectrum
from physics.eis.sweep_fit import fit_sweeps
from physics.errors import FileFormatError

F = np.logspace(5, -1, 25)
ONE_ARC = "R0-p(R1,CPE1)"


def _z(r0: float, r1: float = 1000.0, seed: int = 0) -> np.ndarray:
    z = Circuit(ONE_ARC).impedance(F, np.array([[r0, r1, 1e-7, 0.9]]))[0]
    return z * (1 + 0.002 * np.random.default_rng(seed).normal(size=F.size))


def _mpt(path: Path, rows: list[tuple[float, complex, int, float]], area: str = "0.785 cm²"):
    body = "".join(f"{f:.10e}\t{z.real:.10e}\t{-z.imag:.10e}\t{t}\t{c}\t\n" for f, z, c, t in rows)
    path.write_bytes(
        (
            "EC-Lab ASCII FILE\nNb header lines : 6\n\nPotentio Electrochemical Impedance "
            f"Spectroscopy\nElectrode surface area : {area}\n"
            "freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm\ttime/s\tcycle number\t\n" + body
        ).encode("latin-1")
    )


def test_cycle_number_splits_sweeps_and_keeps_their_times(tmp_path):
    rows = [(f, z, 1, 10.0 + k) for k, (f, z) in enumerate(zip(F, _z(100), strict=True))]
    rows += [(f, z, 2, 500.0 + k) for k, (f, z) in enumerate(zip(F, _z(150), strict=True))]
    p = tmp_path / "two.mpt"
    _mpt(p, rows)
    spectra = read_spectra(p)
    assert [s.n_points for s in spectra] == [25, 25]
    assert [s.metadata["start_time_s"] for s in spectra] == [10.0, 500.0]
    assert [s.metadata["sweep_id"] for s in spectra] == [1, 2]
    with pytest.raises(FileFormatError, match=r"two\.mpt: holds 2 sweeps \(1-2\).*--sweep N"):
        read_spectrum(p)
    assert read_spectrum(p, sweep=2).z_ohm[0] == pytest.approx(_z(150)[0])
    with pytest.raises(FileFormatError, match="no sweep 3: the file holds sweeps 1-2"):
        read_spectrum(p, sweep=3)


def test_frequency_restart_splits_without_a_counter_and_small_steps_do_not():
    f = np.concatenate([F, F])
    z = np.concatenate([_z(100), _z(120)])
    raw = RawImpedance(f, z.real, z.imag, instrument="test", fmt="csv")
    assert [s.n_points for s in to_spectra(Path("x.csv"), raw)] == [25, 25]
    # a frequency repeated a little higher (a re-measured point) is not a new sweep
    f2 = F.copy()
    f2[10] = f2[9] * 1.01
    raw = RawImpedance(f2, _z(100).real, _z(100).imag, instrument="test", fmt="csv")
    assert len(to_spectra(Path("x.csv"), raw)) == 1


def test_dc_rows_dropped_short_sweeps_left_out_single_frequency_refused():
    f = np.concatenate([[0.0, 0.0], F, [0.0], F[:2]])
    z = np.concatenate([[0, 0], _z(100), [0], _z(100)[:2]])
    sweep_id = np.array([1, 1] + [1] * 25 + [2, 2, 2])
    raw = RawImpedance(f, z.real, z.imag, instrument="t", fmt="mpt", sweep_id=sweep_id)
    spectra = to_spectra(Path("g.mpt"), raw)
    assert len(spectra) == 1 and spectra[0].n_points == 25
    notes = spectra[0].metadata["notes"]
    assert "dropped 3 row(s) with f = 0 Hz (DC points, not impedance)" in notes
    assert "left out sweep(s) too short to be a spectrum: 2 (2 points)" in notes
    one = RawImpedance(np.full(4, 1e4), np.ones(4), -np.ones(4), instrument="t", fmt="mpt")
    with pytest.raises(FileFormatError, match="one frequency is not a spectrum"):
        to_spectra(Path("zir.mpt"), one)


def test_placeholder_areas_are_unknown(tmp_path):
    rows = [(f, z, 1, 0.0) for f, z in zip(F, _z(100), strict=True)]
    p = tmp_path / "a.mpt"
    _mpt(p, rows, area="0.001 cm²")
    s = read_spectrum(p)
    assert s.area_cm2 is None and s.metadata["file_area_cm2"] == 0.001
    assert "EC-Lab's default (0.001 cm2)" in s.metadata["notes"][0]
    _mpt(p, rows, area="0.785 cm²")
    assert read_spectrum(p).area_cm2 == pytest.approx(0.785)


def test_unresolved_parameter_is_marked_and_blocks_sigma():
    # an arc starting at the origin: R0 = 0 is not determined by the data
    fit = fit_spectrum(frequency_hz=F, z_ohm=_z(1e-12), circuit=ONE_ARC)
    assert "R0" in fit.unresolved and "relative standard error" in fit.unresolved["R0"]
    assert "R1" not in fit.unresolved
    assert any(n.startswith("unresolved") and "R0" in n for n in fit.notes)
    spectrum = Spectrum(F, _z(1e-12), area_cm2=0.5)
    (row,), _ = fit_sweeps([spectrum], circuit=ONE_ARC, thickness_cm=0.1)
    assert (
        row.sigma_ms_cm is None and "R0" in row.sigma_note and "another circuit" in row.sigma_note
    )


def test_resolved_fit_gives_sigma_and_each_sweep_its_own_resistances():
    spectra = [Spectrum(F, _z(r0, seed=k), area_cm2=0.5) for k, r0 in enumerate((100, 200))]
    rows, notes = fit_sweeps(spectra, circuit=ONE_ARC, thickness_cm=0.1)
    assert notes == []
    assert [round(r.fit.params["R0"], -1) for r in rows] == [100, 200]
    for row in rows:
        assert row.fit.unresolved == {}
        r = row.fit.params["R0"] + row.fit.params["R1"]
        assert row.sigma_ms_cm == pytest.approx(0.1 / (r * 0.5) * 1000)
    rows, _ = fit_sweeps([Spectrum(F, _z(100))], circuit=ONE_ARC, thickness_cm=0.1)
    assert rows[0].sigma_ms_cm is None and "area is unknown" in rows[0].sigma_note
