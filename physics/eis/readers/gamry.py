"""Gamry Framework ``.DTA`` files (the ``ZCURVE`` tables of EIS experiments)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from physics.eis.readers.common import _DTA_MAGIC, _fail, _read_text, _to_float
from physics.eis.readers.sweeps import RawImpedance

__all__ = ["GAMRY_DEFAULT_AREA_CM2", "parse_gamry_dta"]

#: The AREA the Gamry Framework's EIS scripts start with; a file cannot tell it from a real
#: 1 cm2, so it counts as unknown unless the user confirms it (``--area-cm2 1``).
GAMRY_DEFAULT_AREA_CM2 = 1.0
_NEEDED = ("Freq", "Zreal", "Zimag")


def _gamry_tables(lines: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Split a DTA file into header keys and tables [{name, line, count, body}] in file order.

    Table rows are indented (a tab, or spaces in hand-edited files); header lines are
    ``KEY<TAB>TYPE<TAB>VALUE...``.
    """
    header: dict[str, Any] = {}
    tables: list[dict[str, Any]] = []
    i = 1
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line[0] in "\t ":
            i += 1
            continue
        fields = line.rstrip("\r\n").split("\t")
        key = fields[0].strip()
        kind = fields[1].strip() if len(fields) > 1 else ""
        if kind == "TABLE":
            count = None
            if len(fields) > 2 and fields[2].strip().isdigit():
                count = int(fields[2])
            body: list[tuple[int, str]] = []
            j = i + 1
            while j < len(lines) and lines[j][:1] in ("\t", " ") and lines[j].strip():
                body.append((j + 1, lines[j]))
                j += 1
            tables.append({"name": key, "line": i + 1, "count": count, "body": body})
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
            if kind == "LABEL" and len(fields) > 3:
                header.setdefault("_labels", {})[key] = value
        i += 1
    return header, tables


def _zcurve_rows(path: Path, table: dict[str, Any]) -> tuple[np.ndarray, list[str], list[str]]:
    """Rows (n, 4) of Freq, Zreal, Zimag, Time (NaN without a Time column) of one ZCURVE."""
    body = table["body"]
    if len(body) < 2:
        raise _fail(
            path,
            f"{table['name']} table (line {table['line']}) lacks its column-name and units "
            "rows (truncated file?)",
        )
    columns = [c.strip() for c in body[0][1].strip("\r\n\t ").split("\t")]
    units = [c.strip() for c in body[1][1].strip("\r\n\t ").split("\t")]
    if not all(n in columns for n in _NEEDED):
        raise _fail(path, f"{table['name']} table needs columns {list(_NEEDED)}, found {columns}")
    idx = [columns.index(n) for n in _NEEDED]
    t_idx = columns.index("Time") if "Time" in columns else None
    rows: list[list[float]] = []
    for lineno, line in body[2:]:
        fields = line.strip("\r\n\t ").split("\t")
        if len(fields) != len(columns):  # hand-edited rows separate some fields by spaces
            fields = line.split()
        if len(fields) != len(columns):
            raise _fail(
                path,
                f"line {lineno} has {len(fields)} fields, expected {len(columns)} "
                "(truncated or corrupted file?)",
            )
        try:
            values = [_to_float(fields[k]) for k in idx]
            values.append(_to_float(fields[t_idx]) if t_idx is not None else np.nan)
        except ValueError as exc:
            raise _fail(path, f"line {lineno}: non-numeric value ({exc})") from exc
        rows.append(values)
    if not rows:
        raise _fail(path, f"{table['name']} table has no data rows (truncated file?)")
    return np.asarray(rows, dtype=float), columns, units


def parse_gamry_dta(path: Path) -> RawImpedance:
    """Parse a Gamry ``.DTA`` file into its impedance rows, one sweep per ``ZCURVE`` table.

    The file (latin-1 or UTF-8) starts with ``EXPLAIN``, then ``KEY<TAB>TYPE<TAB>VALUE...``
    header lines (``TAG``, ``TITLE``, ``DATE``, ``TIME``, ``AREA`` in cm2, ``FREQINIT``,
    ``FREQFINAL``, ``VAC``...) and tables: ``NAME<TAB>TABLE[<TAB>count]`` then indented
    column-name, units and data rows. Z' = ``Zreal``, Z'' = ``Zimag`` (signed, capacitive < 0).
    ``EXPERIMENTABORTED  TOGGLE  T`` marks an aborted run: its points are read, the abort is
    reported. ``AREA`` of exactly 1 cm2 is the Framework's default and counts as unknown.

    Raises:
        FileFormatError: not a Gamry file, no ZCURVE table (names the experiment), missing
            Freq/Zreal/Zimag, fewer rows than announced in a run not aborted, bad rows.
    """
    text = _read_text(path, "Gamry DTA")
    lines = text.splitlines()
    if not lines or lines[0].strip() != _DTA_MAGIC:
        first = lines[0][:40] if lines else ""
        raise _fail(path, f"not a Gamry DTA file (first line {first!r}, expected {_DTA_MAGIC!r})")
    header, tables = _gamry_tables(lines)
    tag = str(header.get("TAG", "?"))
    title = str(header.get("TITLE", ""))
    zcurves = [t for t in tables if t["name"].upper().startswith("ZCURVE")]
    if not zcurves:
        names = [t["name"] for t in tables] or "none"
        raise _fail(
            path,
            f"not an impedance export: Gamry {tag} experiment"
            + (f" '{title}'" if title else "")
            + f" (no ZCURVE table; tables: {names})",
        )
    aborted = None
    if str(header.get("EXPERIMENTABORTED", "")).upper().startswith("T"):
        aborted = "Gamry EXPERIMENTABORTED"
    parts = []
    columns: list[str] = []
    units: list[str] = []
    for k, table in enumerate(zcurves):
        rows, columns, units = _zcurve_rows(path, table)
        if table["count"] is not None and rows.shape[0] != table["count"]:
            if aborted is None:
                raise _fail(
                    path,
                    f"{table['name']} announces {table['count']} points, file holds "
                    f"{rows.shape[0]} (truncated file?)",
                )
        parts.append(np.column_stack([rows, np.full(rows.shape[0], k)]))
    data = np.vstack(parts)
    if aborted is not None:
        final = header.get("FREQFINAL")
        planned = f" of the planned {final:g} Hz" if isinstance(final, float) else ""
        aborted += f" after {data.shape[0]} points, last at {data[-1, 0]:.4g} Hz{planned}"
    file_area = header.get("AREA")
    area = float(file_area) if isinstance(file_area, float) and file_area > 0 else None
    placeholder = None
    if area is not None and area == GAMRY_DEFAULT_AREA_CM2:
        placeholder = (
            "the Gamry Framework's default AREA (1 cm2), which a file cannot tell from a set value"
        )
    date, time = header.get("DATE"), header.get("TIME")
    times = data[:, 3] if not np.isnan(data[:, 3]).any() else None
    header.pop("_labels", None)
    return RawImpedance(
        frequency_hz=data[:, 0],
        z_real_ohm=data[:, 1],
        z_imag_ohm=data[:, 2],
        instrument="Gamry",
        fmt="dta",
        technique=tag,
        time_s=times,
        sweep_id=data[:, 4] if len(zcurves) > 1 else None,
        sweep_id_name="ZCURVE table",
        file_area_cm2=area,
        area_placeholder=placeholder,
        aborted=aborted,
        file_start=" ".join(str(x) for x in (date, time) if x) or None,
        metadata={
            "header": header,
            "columns": columns,
            "units": dict(zip(columns, units, strict=False)),
            "tables": [t["name"] for t in tables],
        },
    )
