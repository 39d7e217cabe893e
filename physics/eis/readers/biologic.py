"""BioLogic EC-Lab readers: ASCII ``.mpt`` exports and binary ``.mpr`` files (via galvani)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import numpy as np

from physics.eis.readers.common import (
    _MPR_MAGIC,
    _MPT_MAGIC,
    _build,
    _fail,
    _parse_area_cm2,
    _read_bytes,
    _read_text,
    _to_float,
)
from physics.eis.spectrum import Spectrum

__all__ = ["read_mpr", "read_mpt"]


def read_mpt(
    path: str | Path, *, area_cm2: float | None = None, temperature_c: float | None = None
) -> Spectrum:
    """Read a BioLogic EC-Lab ASCII export (``.mpt``, PEIS/GEIS) into a Spectrum.

    The file is latin-1: ``EC-Lab ASCII FILE``, ``Nb header lines : N``, header lines, then on
    line N the tab-separated column names and the data (trailing tabs allowed). Z'' is
    ``-(-Im(Z)/Ohm)``; a signed ``Im(Z)/Ohm`` column is used as is. The area comes from
    ``Electrode surface area : 0.001 cm²``.

    Args:
        path: the ``.mpt`` file.
        area_cm2: electrode area in cm2, overrides the header's.
        temperature_c: measurement temperature in C (EC-Lab does not record it).

    Returns:
        The spectrum; ``metadata`` holds ``instrument``, ``technique``, ``header`` (key: value
        strings), ``columns`` and ``cycle_number`` when present.

    Raises:
        FileFormatError: not an EC-Lab ASCII file, header/data truncated, no impedance columns,
            a non-numeric or short data line.
    """
    path = Path(path)
    text = _read_text(path, "BioLogic EC-Lab")
    lines = text.splitlines()
    if not lines or lines[0].strip() != _MPT_MAGIC:
        raise _fail(
            path,
            f"not a BioLogic EC-Lab ASCII file (first line {lines[0][:40]!r}, "
            f"expected {_MPT_MAGIC!r})",
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
    columns = [c.strip() for c in lines[n_header - 1].rstrip("\t\r\n ").split("\t")]
    if (
        "freq/Hz" not in columns
        or "Re(Z)/Ohm" not in columns
        or not ("-Im(Z)/Ohm" in columns or "Im(Z)/Ohm" in columns)
    ):
        raise _fail(
            path,
            "not an impedance export: needs columns freq/Hz, Re(Z)/Ohm and "
            f"-Im(Z)/Ohm, found {columns[:8]}{'...' if len(columns) > 8 else ''}",
        )
    rows: list[list[float]] = []
    for k, line in enumerate(lines[n_header:], start=n_header + 1):
        if not line.strip():
            continue
        fields = line.rstrip("\t\r\n ").split("\t")
        if len(fields) != len(columns):
            raise _fail(
                path,
                f"line {k} has {len(fields)} fields, expected {len(columns)} "
                "(truncated or corrupted file?)",
            )
        try:
            rows.append([_to_float(x) for x in fields])
        except ValueError as exc:
            raise _fail(path, f"line {k}: non-numeric value ({exc})") from exc
    if not rows:
        raise _fail(path, "no data lines after the header (truncated file?)")
    data = np.asarray(rows, dtype=float)
    col = {name: i for i, name in enumerate(columns)}
    if "-Im(Z)/Ohm" in col:
        z_imag = -data[:, col["-Im(Z)/Ohm"]]
    else:
        z_imag = data[:, col["Im(Z)/Ohm"]]
    metadata: dict[str, Any] = {
        "instrument": "BioLogic EC-Lab",
        "format": "mpt",
        "technique": lines[3].strip() if n_header > 4 else "",
        "header": header,
        "columns": columns,
    }
    if "cycle number" in col:
        metadata["cycle_number"] = data[:, col["cycle number"]].astype(int)
    area_text = header.get("Electrode surface area")
    return _build(
        path,
        data[:, col["freq/Hz"]],
        data[:, col["Re(Z)/Ohm"]],
        z_imag,
        file_area_cm2=_parse_area_cm2(area_text) if area_text else None,
        file_temperature_c=None,
        area_cm2=area_cm2,
        temperature_c=temperature_c,
        metadata=metadata,
    )


# --------------------------------------------------------------------------- BioLogic .mpr
def read_mpr(
    path: str | Path, *, area_cm2: float | None = None, temperature_c: float | None = None
) -> Spectrum:
    """Read a BioLogic binary ``.mpr`` impedance file through ``galvani.BioLogic.MPRfile``.

    Columns ``freq/Hz``, ``Re(Z)/Ohm``, ``-Im(Z)/Ohm`` (Z'' = -that). The binary format does not
    expose the electrode area through galvani: pass ``area_cm2``.

    Args:
        path: the ``.mpr`` file.
        area_cm2: electrode area in cm2.
        temperature_c: measurement temperature in C.

    Raises:
        FileFormatError: galvani cannot parse the file, or it holds no impedance columns.
    """
    path = Path(path)
    data_bytes = _read_bytes(path)
    if not data_bytes.startswith(_MPR_MAGIC):
        raise _fail(path, "not a BioLogic .mpr file (missing 'BIO-LOGIC MODULAR FILE' magic)")
    try:
        from galvani import BioLogic
    except ImportError as exc:  # pragma: no cover - galvani is a dependency
        raise _fail(path, "reading .mpr needs the 'galvani' package") from exc
    try:
        mpr = BioLogic.MPRfile(io.BytesIO(data_bytes))
    except Exception as exc:  # galvani raises ValueError, OSError, AssertionError, ...
        raise _fail(
            path, f"corrupted or unsupported .mpr file ({type(exc).__name__}: {exc})"
        ) from exc
    names = mpr.data.dtype.names or ()
    needed = ("freq/Hz", "Re(Z)/Ohm", "-Im(Z)/Ohm")
    if not all(n in names for n in needed):
        raise _fail(
            path, f"not an impedance file: needs columns {list(needed)}, found {list(names)}"
        )
    metadata: dict[str, Any] = {
        "instrument": "BioLogic EC-Lab",
        "format": "mpr",
        "columns": list(names),
        "start_date": str(getattr(mpr, "startdate", "")),
    }
    if "cycle number" in names:
        metadata["cycle_number"] = np.asarray(mpr.data["cycle number"]).astype(int)
    return _build(
        path,
        np.asarray(mpr.data["freq/Hz"], dtype=float),
        np.asarray(mpr.data["Re(Z)/Ohm"], dtype=float),
        -np.asarray(mpr.data["-Im(Z)/Ohm"], dtype=float),
        file_area_cm2=None,
        file_temperature_c=None,
        area_cm2=area_cm2,
        temperature_c=temperature_c,
        metadata=metadata,
    )


# --------------------------------------------------------------------------- Gamry .DTA
