"""Gamry Framework ``.DTA`` reader (the ``ZCURVE`` table of EIS experiments)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from physics.eis.readers.common import (
    _DTA_MAGIC,
    _build,
    _fail,
    _read_text,
    _to_float,
)
from physics.eis.spectrum import Spectrum

__all__ = ["read_gamry_dta"]


def _gamry_tables(path: Path, lines: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a DTA file into header keys and tables {name: (start_line, count, rows)}."""
    header: dict[str, Any] = {}
    tables: dict[str, Any] = {}
    i = 1
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.startswith("\t"):
            i += 1
            continue
        fields = line.rstrip("\r\n").split("\t")
        key = fields[0].strip()
        kind = fields[1].strip() if len(fields) > 1 else ""
        if kind == "TABLE":
            count = None
            if len(fields) > 2 and fields[2].strip():
                try:
                    count = int(fields[2])
                except ValueError:
                    count = None
            body: list[tuple[int, str]] = []
            j = i + 1
            while j < len(lines) and lines[j].startswith("\t"):
                body.append((j + 1, lines[j]))
                j += 1
            tables[key] = {"line": i + 1, "count": count, "body": body}
            i = j
            continue
        if len(fields) == 2:
            header[key] = kind
        elif len(fields) > 2:
            value = fields[2].strip()
            if kind in ("QUANT", "IQUANT", "POTEN"):
                try:
                    header[key] = _to_float(value)
                except ValueError:
                    header[key] = value
            else:
                header[key] = value
        i += 1
    return header, tables


def read_gamry_dta(
    path: str | Path, *, area_cm2: float | None = None, temperature_c: float | None = None
) -> Spectrum:
    """Read a Gamry Framework ``.DTA`` impedance file (EISPOT/EISGALV) into a Spectrum.

    The file (latin-1; units rows hold bytes such as the degree sign) starts with ``EXPLAIN``,
    then ``KEY<TAB>TYPE<TAB>VALUE...`` header lines (``AREA`` in cm2, ``FREQINIT``,
    ``FREQFINAL``, ``VAC`` in mV rms, ``VDC``...) and tables: ``NAME<TAB>TABLE[<TAB>count]``
    followed by tab-indented column-name, units and data rows. ``OCVCURVE`` is skipped; the
    spectrum is ``ZCURVE``: Z' = ``Zreal``, Z'' = ``Zimag`` (already signed, capacitive < 0).

    Args:
        path: the ``.DTA`` file.
        area_cm2: electrode area in cm2, overrides the header's ``AREA``.
        temperature_c: measurement temperature in C.

    Raises:
        FileFormatError: not a Gamry file, no ZCURVE table (e.g. a CV export), missing
            Freq/Zreal/Zimag columns, fewer rows than announced, a short or non-numeric row.
    """
    path = Path(path)
    text = _read_text(path, "Gamry DTA")
    lines = text.splitlines()
    if not lines or lines[0].strip() != _DTA_MAGIC:
        raise _fail(
            path, f"not a Gamry DTA file (first line {lines[0][:40]!r}, expected {_DTA_MAGIC!r})"
        )
    header, tables = _gamry_tables(path, lines)
    if "ZCURVE" not in tables:
        raise _fail(
            path,
            "no 'ZCURVE TABLE': not an impedance file (tables found: "
            f"{sorted(tables) or 'none'}, TAG={header.get('TAG', '?')})",
        )
    table = tables["ZCURVE"]
    body = table["body"]
    if len(body) < 2:
        raise _fail(
            path,
            f"ZCURVE table (line {table['line']}) lacks its column-name and "
            "units rows (truncated file?)",
        )
    columns = [c.strip() for c in body[0][1].rstrip("\r\n").split("\t")]
    units = [c.strip() for c in body[1][1].rstrip("\r\n").split("\t")]
    needed = ("Freq", "Zreal", "Zimag")
    if not all(n in columns for n in needed):
        raise _fail(path, f"ZCURVE table needs columns {list(needed)}, found {columns}")
    col = {name: i for i, name in enumerate(columns)}
    rows: list[list[float]] = []
    for lineno, line in body[2:]:
        fields = line.rstrip("\r\n").split("\t")
        while len(fields) > len(columns) and not fields[-1].strip():
            fields.pop()
        if len(fields) != len(columns):
            raise _fail(
                path,
                f"line {lineno} has {len(fields)} fields, expected "
                f"{len(columns)} (truncated or corrupted file?)",
            )
        try:
            rows.append([_to_float(fields[col[n]]) for n in needed])
        except ValueError as exc:
            raise _fail(path, f"line {lineno}: non-numeric value ({exc})") from exc
    if table["count"] is not None and len(rows) != table["count"]:
        raise _fail(
            path,
            f"ZCURVE announces {table['count']} points, file holds {len(rows)} (truncated file?)",
        )
    if not rows:
        raise _fail(path, "ZCURVE table has no data rows (truncated file?)")
    data = np.asarray(rows, dtype=float)
    file_area = header.get("AREA")
    file_area_cm2 = (
        float(file_area)
        if isinstance(file_area, float) and np.isfinite(file_area) and file_area > 0
        else None
    )
    metadata: dict[str, Any] = {
        "instrument": "Gamry",
        "format": "dta",
        "technique": header.get("TAG", ""),
        "header": header,
        "columns": columns,
        "units": dict(zip(columns, units, strict=False)),
        "tables": sorted(tables),
    }
    return _build(
        path,
        data[:, 0],
        data[:, 1],
        data[:, 2],
        file_area_cm2=file_area_cm2,
        file_temperature_c=None,
        area_cm2=area_cm2,
        temperature_c=temperature_c,
        metadata=metadata,
    )


# --------------------------------------------------------------------------- CSV
