"""CH Instruments text exports (``A.C. Impedance``).

The file starts with a date line (``Feb. 20, 2020   15:55:08``), the technique's name
(``A.C. Impedance`` for impedance), ``Key: value`` and ``Key = value`` lines (``Instrument
Model:  CHI660E``, ``High Frequency (Hz) = 2e+6``...), then the column line ``Freq/Hz, Z'/ohm,
Z"/ohm, Z/ohm, Phase/deg``, a blank line and comma-separated rows. Z'' is signed (capacitive
< 0). Other techniques (``Cyclic Voltammetry``...) are refused by name.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from physics.eis.readers.common import _fail, _read_text, _to_float
from physics.eis.readers.sweeps import RawImpedance

__all__ = ["is_chinstruments", "parse_chinstruments"]

_IMPEDANCE_TECHNIQUES = ("A.C. Impedance", "AC Impedance", "Impedance - Time", "Impedance")


def is_chinstruments(lines: list[str]) -> bool:
    """Whether the first lines are those of a CH Instruments export."""
    head = [ln.strip() for ln in lines[:30]]
    if any(re.match(r"Instrument Model:\s*CHI", ln) for ln in head):
        return True
    return len(head) > 2 and head[1] in _IMPEDANCE_TECHNIQUES and head[2].startswith("File:")


def parse_chinstruments(path: Path) -> RawImpedance:
    """Parse a CH Instruments A.C. Impedance export.

    Raises:
        FileFormatError: another technique, no ``Freq/Hz`` column line, bad rows.
    """
    text = _read_text(path, "CH Instruments")
    lines = text.splitlines()
    if not is_chinstruments(lines):
        raise _fail(path, "not a CH Instruments export (no 'Instrument Model: CHI...' line)")
    technique = lines[1].strip() if len(lines) > 1 else ""
    head = next((k for k, ln in enumerate(lines) if ln.strip().startswith("Freq/Hz")), None)
    if head is None:
        raise _fail(
            path,
            f"not an impedance export: CH Instruments {technique or 'file'} (no Freq/Hz column)",
        )
    header: dict[str, str] = {}
    for line in lines[2:head]:
        m = re.match(r"\s*([^:=]+?)\s*[:=]\s*(.*)$", line)
        if m:
            header.setdefault(m.group(1), m.group(2).strip())
    names = [c.strip() for c in lines[head].split(",")]
    try:
        idx = [names.index("Freq/Hz"), names.index("Z'/ohm"), names.index('Z"/ohm')]
    except ValueError:
        raise _fail(path, f"column line lacks Freq/Hz, Z'/ohm or Z\"/ohm: {names}") from None
    rows: list[list[float]] = []
    for k, line in enumerate(lines[head + 1 :], start=head + 2):
        if not line.strip():
            continue
        fields = [x.strip() for x in line.split(",")]
        if len(fields) != len(names):
            raise _fail(
                path, f"line {k} has {len(fields)} fields, expected {len(names)} (truncated?)"
            )
        try:
            rows.append([_to_float(fields[i]) for i in idx])
        except ValueError as exc:
            raise _fail(path, f"line {k}: non-numeric value ({exc})") from exc
    if not rows:
        raise _fail(path, "no data rows after the column line (truncated file?)")
    data = np.asarray(rows, dtype=float)
    return RawImpedance(
        frequency_hz=data[:, 0],
        z_real_ohm=data[:, 1],
        z_imag_ohm=data[:, 2],
        instrument="CH Instruments"
        + (f" {header['Instrument Model']}" if "Instrument Model" in header else ""),
        fmt="chi",
        technique=technique,
        file_start=lines[0].strip() or None,
        metadata={"header": header, "columns": names},
    )
