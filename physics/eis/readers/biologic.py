"""BioLogic EC-Lab ASCII exports (``.mpt``); the binary ``.mpr`` is in :mod:`biologic_mpr`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from physics.eis.readers.common import (
    _MPT_MAGIC,
    _fail,
    _parse_area_cm2,
    _read_text,
    _to_float,
)
from physics.eis.readers.sweeps import RawImpedance

__all__ = ["ECLAB_PLACEHOLDER_AREA_CM2", "parse_mpt"]

#: EC-Lab's default electrode surface area, kept by the software until the user sets one.
ECLAB_PLACEHOLDER_AREA_CM2 = 0.001
#: EC-Lab columns that count sweeps, in order of preference.
_SWEEP_COLUMNS = ("z cycle", "cycle number")


def parse_mpt(path: Path) -> RawImpedance:
    """Parse an EC-Lab ASCII export into its impedance rows (sweeps not yet split).

    The file is latin-1: ``EC-Lab ASCII FILE``, ``Nb header lines : N``, header lines (the
    technique's name on line 4, ``Electrode surface area : 0.001 cm²``, ``Acquisition started
    on : ...``), then on line N the tab-separated column names and the data (trailing tabs
    allowed, decimal commas in some locales). Z'' = -(``-Im(Z)/Ohm``); a signed ``Im(Z)/Ohm``
    is used as is. EC-Lab 11.x exports with Ece columns name more columns in the header than
    the rows hold (63 vs 61 in 11.61): every row must then have the same count, the needed
    columns must lie inside it, and the names without data are noted and ignored.

    Raises:
        FileFormatError: not an EC-Lab ASCII file, truncated header, not an impedance export
            (names the technique), rows of unequal length, a non-numeric value.
    """
    text = _read_text(path, "BioLogic EC-Lab")
    lines = text.splitlines()
    if not lines or lines[0].strip() != _MPT_MAGIC:
        first = lines[0][:40] if lines else ""
        raise _fail(
            path,
            f"not a BioLogic EC-Lab ASCII file (first line {first!r}, expected {_MPT_MAGIC!r})",
        )
    m = re.match(r"\s*Nb header lines\s*:\s*(\d+)", lines[1]) if len(lines) > 1 else None
    if m is None:
        raise _fail(path, "missing 'Nb header lines : N' on line 2")
    n_header = int(m.group(1))
    if n_header < 3:
        raise _fail(path, f"'Nb header lines : {n_header}' is too small")
    if len(lines) < n_header:
        raise _fail(path, f"truncated: header announces {n_header} lines, file has {len(lines)}")
    header: dict[str, str] = {}
    for line in lines[2 : n_header - 1]:
        if ":" in line:
            key, _, value = line.partition(":")
            if key.strip():
                header.setdefault(key.strip(), value.strip())
    technique = lines[3].strip() if n_header > 4 else ""
    columns = [c.strip() for c in lines[n_header - 1].rstrip("\t\r\n ").split("\t")]
    what = f"EC-Lab {technique or 'export'}"
    if "freq/Hz" not in columns:
        raise _fail(
            path,
            f"not an impedance export: {what} without a freq/Hz column "
            f"(columns {columns[:6]}{'...' if len(columns) > 6 else ''})",
        )
    if "Re(Z)/Ohm" not in columns or not ("-Im(Z)/Ohm" in columns or "Im(Z)/Ohm" in columns):
        raise _fail(
            path,
            f"not an impedance export: {what} without Re(Z)/Ohm and -Im(Z)/Ohm columns "
            f"(columns {columns[:6]}{'...' if len(columns) > 6 else ''})",
        )
    data, width = _rows(path, lines, n_header, len(columns))
    col = {name: i for i, name in reversed(list(enumerate(columns[:width])))}
    notes: list[str] = []
    if width < len(columns):
        extra = columns[width:]
        needed = [n for n in ("freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm", "Im(Z)/Ohm") if n in columns]
        outside = [n for n in needed if columns.index(n) >= width]
        if outside:
            raise _fail(
                path,
                f"the header names {len(columns)} columns but rows hold {width}; column(s) "
                f"{outside} have no data (truncated or corrupted file?)",
            )
        notes.append(
            f"header names {len(columns)} columns, rows hold {width}: the last "
            f"{len(extra)} name(s) {extra} have no data and were ignored (EC-Lab 11.x export)"
        )
    z_imag = -data[:, col["-Im(Z)/Ohm"]] if "-Im(Z)/Ohm" in col else data[:, col["Im(Z)/Ohm"]]
    sweep_name = next((c for c in _SWEEP_COLUMNS if c in col), "")
    area_text = header.get("Electrode surface area")
    file_area = _parse_area_cm2(area_text) if area_text else None
    placeholder = None
    if file_area is not None and np.isclose(file_area, ECLAB_PLACEHOLDER_AREA_CM2, rtol=1e-6):
        placeholder = "EC-Lab's default (0.001 cm2), left when no area was entered"
    metadata: dict[str, Any] = {"header": header, "columns": columns[:width]}
    if "cycle number" in col:
        metadata["cycle_number"] = data[:, col["cycle number"]].astype(int)
    version = re.search(r"EC-Lab for windows v([\d.]+)", text[:20000])
    if version:
        metadata["software_version"] = version.group(1)
    return RawImpedance(
        frequency_hz=data[:, col["freq/Hz"]],
        z_real_ohm=data[:, col["Re(Z)/Ohm"]],
        z_imag_ohm=z_imag,
        instrument="BioLogic EC-Lab",
        fmt="mpt",
        technique=technique,
        time_s=data[:, col["time/s"]] if "time/s" in col else None,
        sweep_id=data[:, col[sweep_name]] if sweep_name else None,
        sweep_id_name=sweep_name,
        file_area_cm2=file_area,
        area_placeholder=placeholder,
        file_start=header.get("Acquisition started on"),
        metadata=metadata,
        notes=notes,
    )


def _rows(path: Path, lines: list[str], n_header: int, n_names: int) -> tuple[np.ndarray, int]:
    """The data block (rows, width) after the header; every row must have the same width."""
    rows: list[list[float]] = []
    width = None
    for k, line in enumerate(lines[n_header:], start=n_header + 1):
        if not line.strip():
            continue
        fields = line.rstrip("\t\r\n ").split("\t")
        if width is None:
            width = len(fields)
            if width > n_names:
                raise _fail(
                    path, f"line {k} has {width} fields, the header names only {n_names} columns"
                )
        if len(fields) != width:
            expected = width if width < n_names else n_names
            raise _fail(
                path,
                f"line {k} has {len(fields)} fields, expected {expected} "
                "(truncated or corrupted file?)",
            )
        try:
            rows.append([_to_float(x) for x in fields])
        except ValueError as exc:
            raise _fail(path, f"line {k}: non-numeric value ({exc})") from exc
    if not rows or width is None:
        raise _fail(path, "no data lines after the header (truncated file?)")
    return np.asarray(rows, dtype=float), width
