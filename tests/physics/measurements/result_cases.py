"""Realistic mistakes in cycler results, made from the shipped example result.

Each :class:`ResultCase` mutates the example (x = 0.15, 1050 C; blocking spectra at 25, 40 and
60 C, a DC polarization, a symmetric spectrum and a CCD staircase) as an instrument export or
a person gets it wrong, and says what the analysis must give: a one-line error containing some
phrases, or a correct row (checked against the example's own row) with a note.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "experiments" / "samples" / "example-result-x0.15-1050C.json"

Result = dict[str, Any]


def example() -> Result:
    return json.loads(EXAMPLE.read_text())


def _eis(result: Result, protocol: str = "eis_blocking") -> list[dict[str, Any]]:
    return [m for m in result["measurements"] if m["protocol"] == protocol]


def _one(result: Result, protocol: str) -> dict[str, Any]:
    return _eis(result, protocol)[0]


@dataclass(frozen=True)
class ResultCase:
    """One mutated result and what analysing it must give.

    Attributes:
        id: the test id.
        mutate: changes the example in place.
        expect: phrases of the one-line error; empty: the analysis succeeds.
        row: for a success, column -> expected value (None = must be empty; a float is
            compared with 1 % tolerance).
        note: for a success, a phrase one of the notes must contain.
    """

    id: str
    mutate: Callable[[Result], None]
    expect: tuple[str, ...] = ()
    row: dict[str, float | None] | None = None
    note: str = ""

    def result(self) -> Result:
        out = example()
        self.mutate(out)
        return out


def _set(path: str, value: Any) -> Callable[[Result], None]:
    def mutate(r: Result) -> None:
        *keys, last = path.split(".")
        target = r
        for k in keys:
            target = target[k]
        target[last] = value

    return mutate


def _each_eis(change: Callable[[dict[str, Any]], None], protocol: str | None = None):
    def mutate(r: Result) -> None:
        for m in r["measurements"]:
            if m["protocol"].startswith("eis_") and protocol in (None, m["protocol"]):
                change(m)

    return mutate


def _reverse_all(m: dict[str, Any]) -> None:
    for k in ("frequency_hz", "z_real_ohm", "z_imag_ohm"):
        m[k] = m[k][::-1]


def _shuffle(m: dict[str, Any]) -> None:
    order = np.random.default_rng(3).permutation(len(m["frequency_hz"]))
    for k in ("frequency_hz", "z_real_ohm", "z_imag_ohm"):
        m[k] = [m[k][i] for i in order]


def _two_sweeps(r: Result) -> None:
    m = _one(r, "eis_blocking")
    for k in ("frequency_hz", "z_real_ohm", "z_imag_ohm"):
        m[k] = m[k] + m[k]


def _flip_imag(m: dict[str, Any]) -> None:
    m["z_imag_ohm"] = [-v for v in m["z_imag_ohm"]]


def _half_flipped(r: Result) -> None:
    m = _one(r, "eis_blocking")
    m["z_imag_ohm"] = [abs(v) if i % 3 else -abs(v) for i, v in enumerate(m["z_imag_ohm"])]


def _blocking_temperatures(*temps: float) -> Callable[[Result], None]:
    def mutate(r: Result) -> None:
        for m, t in zip(_eis(r), temps, strict=True):
            m["temperature_c"] = t

    return mutate


def _repeat_25(r: Result) -> None:
    r["measurements"].insert(1, copy.deepcopy(_one(r, "eis_blocking")))


def _only_25(r: Result) -> None:
    r["measurements"] = [m for m in r["measurements"] if m["temperature_c"] == 25.0]


def _array_value(protocol: str, name: str, index: int, value: Any) -> Callable[[Result], None]:
    def mutate(r: Result) -> None:
        _one(r, protocol)[name][index] = value

    return mutate


def _scalar(protocol: str, name: str, value: Any) -> Callable[[Result], None]:
    def mutate(r: Result) -> None:
        _one(r, protocol)[name] = value

    return mutate


def _second_polarization(r: Result) -> None:
    r["measurements"].append(copy.deepcopy(_one(r, "dc_polarization")))


EXAMPLE_ROW = {"sigma_total_ms_cm": 1.538, "activation_energy_ev": 0.3004, "ccd_ma_cm2": 0.6}


def result_cases() -> list[ResultCase]:
    """The corpus (see the module docstring)."""
    return [
        ResultCase("example-as-is", lambda r: None, row=EXAMPLE_ROW),
        # geometry
        ResultCase("thickness-in-mm", _set("sample.thickness_cm", 1.056),
                   ("sample.thickness_cm = 1.056", "mm instead of cm", "divide by 10")),
        ResultCase("thickness-in-um", _set("sample.thickness_cm", 1056.0),
                   ("sample.thickness_cm = 1056", "um instead of cm")),
        ResultCase("thickness-1e300", _set("sample.thickness_cm", 1e300),
                   ("sample.thickness_cm = 1e+300", "outside the plausible")),
        ResultCase("area-in-mm2", _set("sample.area_cm2", 78.5), ("area_cm2 = 78.5", "mm2", "divide by 100")),
        ResultCase("area-placeholder", _set("sample.area_cm2", 0.001), ("area_cm2 = 0.001", "placeholder")),
        ResultCase("density-in-kg-per-m3", _set("sample.bulk_density_g_cm3", 3203.5),
                   ("bulk_density_g_cm3 = 3204", "kg/m3")),
        ResultCase("density-relative", _set("sample.bulk_density_g_cm3", 0.9875),
                   ("bulk_density_g_cm3 = 0.9875", "a relative density?")),
        # spectra
        ResultCase("ascending-frequencies", _each_eis(_reverse_all), row=EXAMPLE_ROW, note="ascending"),
        ResultCase("unordered-frequencies", _each_eis(_shuffle), row=EXAMPLE_ROW, note="out of order: sorted"),
        ResultCase("frequencies-reversed-against-impedance",
                   _each_eis(lambda m: m.__setitem__("frequency_hz", m["frequency_hz"][::-1])),
                   ("eis_blocking (measurement 0)", "|Z| rises with frequency", "reversed")),
        ResultCase("two-sweeps-in-one-measurement", _two_sweeps, ("frequency_hz repeats", "two sweeps")),
        ResultCase("flipped-imaginary-sign", _each_eis(_flip_imag), row=EXAMPLE_ROW, note="sign flipped"),
        ResultCase("imaginary-sign-half-flipped", _half_flipped, ("z_imag_ohm is positive at", "sign convention")),
        ResultCase("negative-real-part", _each_eis(lambda m: m.__setitem__("z_real_ohm", [-v for v in m["z_real_ohm"]])),
                   ("z_real_ohm is negative at",)),
        ResultCase("impedance-1e300", _array_value("eis_blocking", "z_real_ohm", 5, 1e300),
                   ("eis_blocking (measurement 0)", "z_real_ohm[5] = 1e+300")),
        ResultCase("impedance-null", _array_value("eis_blocking", "z_real_ohm", 5, None),
                   ("z_real_ohm[5] is not a finite number",)),
        ResultCase("negative-frequency", _array_value("eis_symmetric", "frequency_hz", 69, -1.0),
                   ("eis_symmetric", "frequency_hz[69] = -1")),
        # temperatures
        ResultCase("three-blocking-spectra-all-labelled-25C", _blocking_temperatures(25.0, 25.0, 25.0),
                   row={"sigma_total_ms_cm": None, "activation_energy_ev": None, "ccd_ma_cm2": 0.6},
                   note="3 spectra labelled 25 C differ"),
        ResultCase("repeated-25C-spectrum", _repeat_25, row=EXAMPLE_ROW, note="2 spectra at 25 C agree"),
        ResultCase("one-blocking-temperature", _only_25,
                   row={"sigma_total_ms_cm": 1.538, "activation_energy_ev": None}, note="no Ea"),
        ResultCase("temperatures-in-kelvin", _blocking_temperatures(298.15, 313.15, 333.15),
                   ("temperature_c = 298.15 looks like kelvin", "25 C")),
        ResultCase("temperature-absurd", _scalar("dc_polarization", "temperature_c", 2500.0),
                   ("dc_polarization", "temperature_c = 2500")),
        # other measurements
        ResultCase("current-1e300", _array_value("dc_polarization", "current_a", 3, 1e300),
                   ("dc_polarization (measurement 3)", "current_a[3] = 1e+300")),
        ResultCase("ccd-voltage-1e300", _array_value("ccd_staircase", "voltage_v", 3, 1e300),
                   ("ccd_staircase (measurement 5)", "voltage_v[3] = 1e+300")),
        ResultCase("ccd-step-zero", _scalar("ccd_staircase", "step_ma_cm2", 0.0), ("step_ma_cm2 = 0",)),
        ResultCase("text-in-an-array", _array_value("dc_polarization", "time_s", 2, "12 s"),
                   ("time_s holds non-numeric values",)),
        ResultCase("second-polarization", _second_polarization, row=EXAMPLE_ROW,
                   note="dc_polarization: 2 measurements; the first one is analysed"),
        # the result as a whole
        ResultCase("empty-measurements", _set("measurements", []), ("'measurements' is empty",)),
        ResultCase("missing-area", lambda r: r["sample"].pop("area_cm2"), ("sample.area_cm2", "expected a number")),
        ResultCase("recipe-x-in-percent", _set("recipe.zbo_fraction", 15.0),
                   ("zbo_fraction = 15", "percent", "implausible")),
        ResultCase("recipe-zero-dwell", _set("recipe.dwell_h", 0.0), ("dwell_h = 0",)),
    ]  # fmt: skip
