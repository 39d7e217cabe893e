"""Plain CSV impedance spectra (accepted headers: see :mod:`physics.eis.readers`)."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import numpy as np

from physics.eis.readers.common import (
    _HZ_SUFFIX,
    _NEG_PREFIXES,
    _OHM_SUFFIX,
    CSV_FREQUENCY_NAMES,
    CSV_IMAG_NAMES,
    CSV_REAL_NAMES,
    _build,
    _fail,
    _read_text,
    _to_float,
)
from physics.eis.spectrum import Spectrum

__all__ = ["read_csv_spectrum"]


def _csv_role(name: str) -> tuple[str, float] | None:
    """Map a CSV header to ("frequency"|"real"|"imag", sign) or None."""
    key = name.strip().strip('"').strip().lower().replace(" ", "")
    key = key.replace("ω", "ohm")
    sign = 1.0
    for prefix in _NEG_PREFIXES:
        if key.startswith(prefix):
            sign, key = -1.0, key[len(prefix) :]
            break
    base_hz = _HZ_SUFFIX.sub("", key)
    if sign > 0 and base_hz in CSV_FREQUENCY_NAMES:
        return "frequency", 1.0
    base = _OHM_SUFFIX.sub("", key)
    if sign > 0 and base in CSV_REAL_NAMES:
        return "real", 1.0
    if base in CSV_IMAG_NAMES:
        return "imag", sign
    return None


def read_csv_spectrum(
    path: str | Path, *, area_cm2: float | None = None, temperature_c: float | None = None
) -> Spectrum:
    """Read a delimited text spectrum with a header row (accepted headers: module docstring).

    Args:
        path: the CSV file (UTF-8, else latin-1; ``,``, ``;`` or tab delimited; ``#`` comment
            lines).
        area_cm2: electrode area in cm2, overrides a ``# area_cm2: ...`` comment.
        temperature_c: temperature in C, overrides a ``# temperature_c: ...`` comment.

    Raises:
        FileFormatError: empty/binary file, no header, no frequency/real/imaginary column, a
            short or non-numeric row.
    """
    path = Path(path)
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
    head = content[0][1]
    delimiter = max(("\t", ";", ","), key=head.count)
    if head.count(delimiter) == 0:
        raise _fail(path, f"header {head[:60]!r} has no ',', ';' or tab delimiter")
    parsed = list(
        csv.reader([line for _, line in content], delimiter=delimiter, skipinitialspace=True)
    )
    columns = [c.strip() for c in parsed[0]]
    while columns and not columns[-1]:
        columns.pop()
    roles: dict[str, tuple[int, float]] = {}
    for i, name in enumerate(columns):
        role = _csv_role(name)
        if role is None:
            continue
        kind, sign = role
        # a signed imaginary column wins over a negated one
        if kind not in roles or (kind == "imag" and sign > 0 and roles[kind][1] < 0):
            roles[kind] = (i, sign)
    missing = [k for k in ("frequency", "real", "imag") if k not in roles]
    if missing:
        raise _fail(
            path,
            f"no {'/'.join(missing)} column among {columns}; accepted e.g. "
            "frequency_hz|freq/Hz, z_real_ohm|Re(Z)/Ohm, z_imag_ohm|-Im(Z)/Ohm "
            "(see physics.eis.readers docstring)",
        )
    data = np.empty((len(parsed) - 1, 3))
    for r, (fields, (lineno, _)) in enumerate(zip(parsed[1:], content[1:], strict=True)):
        for c, kind in enumerate(("frequency", "real", "imag")):
            idx, sign = roles[kind]
            if idx >= len(fields):
                raise _fail(
                    path,
                    f"line {lineno} has {len(fields)} fields, column "
                    f"{columns[idx]!r} is field {idx + 1} (truncated file?)",
                )
            try:
                data[r, c] = sign * _to_float(fields[idx])
            except ValueError as exc:
                raise _fail(
                    path,
                    f"line {lineno}, column {columns[idx]!r}: non-numeric value {fields[idx]!r}",
                ) from exc
    if data.shape[0] == 0:
        raise _fail(path, "header only, no data rows")
    file_area = file_temp = None
    try:
        if "area_cm2" in comments:
            file_area = float(comments["area_cm2"])
        if "temperature_c" in comments:
            file_temp = float(comments["temperature_c"])
    except ValueError as exc:
        raise _fail(path, f"non-numeric area_cm2/temperature_c comment ({exc})") from exc
    metadata: dict[str, Any] = {
        "format": "csv",
        "columns": columns,
        "imag_column_negated": roles["imag"][1] < 0,
        "comments": comments,
    }
    return _build(
        path,
        data[:, 0],
        data[:, 1],
        data[:, 2],
        file_area_cm2=file_area,
        file_temperature_c=file_temp,
        area_cm2=area_cm2,
        temperature_c=temperature_c,
        metadata=metadata,
    )
