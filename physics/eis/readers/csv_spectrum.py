"""Delimited text spectra: CSV/TSV with or without a header, PowerSuite and PARSTAT exports.

Accepted headers: see :mod:`physics.eis.readers`. Besides those:

* no header (every field of the first line a number): columns 1-3 are f, Z', Z'' (signed), as
  impedance.py's ``readCSV`` reads them; noted.
* polar form: a modulus (``|Z|``, ``Zmod``...) and a phase (``phase``, ``Phase(Z)/deg``,
  ``-phase``...; degrees unless the unit says rad) when there is no real/imaginary pair.
* a negated real part (``-Z'``, ``-Re(Z)``) is negated back like a negated imaginary part.
* delimiters: tab, ``;``, ``,`` or runs of spaces; a decimal comma is accepted when the
  delimiter is not a comma.
* a time column (``time``, ``time/s``, ``Elapsed Time (s)``) gives the sweeps' start times.

PowerSuite (``Frequency, Zre, Zimg``, tab-separated) and PARSTAT (``Potential (V)``, ...,
``Frequency (Hz)``, ``Zre (ohms)``, ``Zim (ohms)``, with f = 0 rows of the DC record before
the sweep) are recognized by their header and named in the metadata.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import numpy as np

from physics.eis.readers.common import (
    _DEG_SUFFIX,
    _HZ_SUFFIX,
    _NEG_PREFIXES,
    _OHM_SUFFIX,
    _RAD_SUFFIX,
    _S_SUFFIX,
    CSV_FREQUENCY_NAMES,
    CSV_IMAG_NAMES,
    CSV_MODULUS_NAMES,
    CSV_PHASE_NAMES,
    CSV_REAL_NAMES,
    CSV_TIME_NAMES,
    _fail,
    _read_text,
    _to_float,
)
from physics.eis.readers.sweeps import RawImpedance

__all__ = ["parse_csv_spectrum"]

_ROLES = ("frequency", "real", "imag", "modulus", "phase", "time")


def _csv_role(name: str) -> tuple[str, float] | None:
    """Map a header to (role, sign) or None; phase sign -1 also marks radians as 'rad'."""
    key = name.strip().strip('"').strip().lower().replace(" ", "")
    key = key.replace("ω", "ohm")
    sign = 1.0
    for prefix in _NEG_PREFIXES:
        if key.startswith(prefix):
            sign, key = -1.0, key[len(prefix) :]
            break
    if sign > 0 and _HZ_SUFFIX.sub("", key) in CSV_FREQUENCY_NAMES:
        return "frequency", 1.0
    if sign > 0 and _S_SUFFIX.sub("", key) in CSV_TIME_NAMES:
        return "time", 1.0
    base = _OHM_SUFFIX.sub("", key)
    if base in CSV_REAL_NAMES:
        return "real", sign
    if base in CSV_IMAG_NAMES:
        return "imag", sign
    if sign > 0 and base in CSV_MODULUS_NAMES:
        return "modulus", 1.0
    if _RAD_SUFFIX.search(key) and _RAD_SUFFIX.sub("", key) in CSV_PHASE_NAMES:
        return "phase_rad", sign
    if _DEG_SUFFIX.sub("", key) in CSV_PHASE_NAMES:
        return "phase", sign
    return None


def _is_number(text: str) -> bool:
    try:
        _to_float(text)
    except ValueError:
        return False
    return True


def _split_lines(lines: list[str], head: str) -> tuple[list[list[str]], str]:
    """Split every line on the delimiter found in ``head``: tab, ';', ',' or spaces."""
    delimiter = max(("\t", ";", ","), key=head.count)
    if head.count(delimiter) == 0:
        if len(head.split()) < 2:
            raise ValueError(f"line {head[:60]!r} has no ',', ';', tab or space delimiter")
        return [ln.split() for ln in lines], "space"
    rows = list(csv.reader(lines, delimiter=delimiter, skipinitialspace=True))
    return rows, delimiter


def _label(columns: list[str]) -> str:
    plain = [c.strip().lower() for c in columns]
    if plain[:3] == ["frequency", "zre", "zimg"]:
        return "PowerSuite"
    if plain[:4] == ["potential (v)", "current (a)", "elapsed time (s)", "frequency (hz)"]:
        return "PARSTAT"
    return "delimited text"


def parse_csv_spectrum(path: Path) -> RawImpedance:
    """Parse a delimited text spectrum (layouts: module docstring).

    Raises:
        FileFormatError: empty/binary file, no frequency or no impedance columns, a short or
            non-numeric row.
    """
    text = _read_text(path, "CSV", utf8_first=True)
    comments: dict[str, str] = {}
    content: list[tuple[int, str]] = []
    for k, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            m = re.match(r"#\s*([A-Za-z_][A-Za-z0-9_]*)\s*[:=]\s*(.+)", stripped)
            if m:
                comments[m.group(1).lower()] = m.group(2).strip()
            continue
        content.append((k, line))
    if not content:
        raise _fail(path, "no header row and no data (only comments or blank lines)")
    try:
        parsed, delimiter = _split_lines([ln for _, ln in content], content[0][1])
    except ValueError as exc:
        raise _fail(path, str(exc)) from exc
    notes: list[str] = []
    first = [c.strip() for c in parsed[0]]
    while first and not first[-1]:
        first.pop()
    if first and all(_is_number(c) for c in first):
        if len(first) < 3:
            raise _fail(path, f"no header and only {len(first)} column(s): need f, Z', Z''")
        columns = ["frequency", "real", "imag"] + [f"column {k}" for k in range(4, len(first) + 1)]
        roles = {"frequency": (0, 1.0), "real": (1, 1.0), "imag": (2, 1.0)}
        body = list(zip(parsed, content, strict=True))
        notes.append("no header row: columns 1-3 read as frequency (Hz), Z' and Z'' (ohm)")
    else:
        columns = first
        roles = {}
        for i, name in enumerate(columns):
            role = _csv_role(name)
            if role is None:
                continue
            kind, sign = role
            # a signed column wins over a negated one
            if kind not in roles or (sign > 0 and roles[kind][1] < 0):
                roles[kind] = (i, sign)
        body = list(zip(parsed[1:], content[1:], strict=True))
    if "phase_rad" in roles and "phase" not in roles:
        roles["phase"] = roles.pop("phase_rad")
        radians = True
    else:
        radians = False
    cartesian = "real" in roles and "imag" in roles
    polar = "modulus" in roles and "phase" in roles
    if "frequency" not in roles or not (cartesian or polar):
        missing = "frequency" if "frequency" not in roles else "Z'/Z'' (or |Z|/phase)"
        raise _fail(
            path,
            f"not an impedance export: no {missing} column among {columns}; accepted e.g. "
            "frequency_hz|freq/Hz, z_real_ohm|Re(Z)/Ohm, z_imag_ohm|-Im(Z)/Ohm, |Z| + phase "
            "(see physics.eis.readers docstring)",
        )
    wanted = ["frequency", *(("real", "imag") if cartesian else ("modulus", "phase"))]
    if "time" in roles:
        wanted.append("time")
    data = np.empty((len(body), len(wanted)))
    for r, (fields, (lineno, _)) in enumerate(body):
        for c, kind in enumerate(wanted):
            idx, sign = roles[kind]
            if idx >= len(fields):
                raise _fail(
                    path,
                    f"line {lineno} has {len(fields)} fields, column "
                    f"{columns[idx]!r} is field {idx + 1} (truncated file?)",
                )
            value = fields[idx].strip()
            if delimiter == "," and "," in value:  # pragma: no cover - csv splits on it
                raise _fail(path, f"line {lineno}: ambiguous decimal comma in {value!r}")
            try:
                data[r, c] = sign * _to_float(value)
            except ValueError as exc:
                raise _fail(
                    path,
                    f"line {lineno}, column {columns[idx]!r}: non-numeric value {fields[idx]!r}",
                ) from exc
    if data.shape[0] == 0:
        raise _fail(path, "header only, no data rows")
    if cartesian:
        z_real, z_imag = data[:, 1], data[:, 2]
    else:
        phase = data[:, 2] if radians else np.radians(data[:, 2])
        z_real, z_imag = data[:, 1] * np.cos(phase), data[:, 1] * np.sin(phase)
        notes.append(
            f"polar columns: Z = |Z| exp(i phase), phase in {'rad' if radians else 'degrees'}"
        )
    file_area = file_temp = None
    try:
        if "area_cm2" in comments:
            file_area = float(comments["area_cm2"])
        if "temperature_c" in comments:
            file_temp = float(comments["temperature_c"])
    except ValueError as exc:
        raise _fail(path, f"non-numeric area_cm2/temperature_c comment ({exc})") from exc
    if file_area is not None and not (np.isfinite(file_area) and file_area > 0):
        raise _fail(path, f"area_cm2 comment must be a positive number, got {file_area}")
    metadata: dict[str, Any] = {
        "columns": columns,
        "delimiter": delimiter,
        "imag_column_negated": cartesian and roles["imag"][1] < 0,
        "real_column_negated": cartesian and roles["real"][1] < 0,
        "comments": comments,
    }
    if file_temp is not None:
        metadata["file_temperature_c"] = file_temp
    return RawImpedance(
        frequency_hz=data[:, 0],
        z_real_ohm=z_real,
        z_imag_ohm=z_imag,
        instrument=_label(columns),
        fmt="csv",
        time_s=data[:, wanted.index("time")] if "time" in roles else None,
        file_area_cm2=file_area,
        metadata=metadata,
        notes=notes,
    )
