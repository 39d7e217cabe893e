"""Scribner ZPlot/ZView text files (``.z``), also written by Autolab's Nova as ZView export.

Two layouts share the columns ``Freq(Hz) Ampl Bias Time(Sec) Z'(a) Z''(b) GD Err Range``
(Z'' signed, capacitive < 0):

* ``ZPLOT2 ASCII``: an indented ``Key: value`` header ending at ``End Comments``; data after
  it, tab- or comma-separated. Some files put the column-name line inside the header.
* ``"ZPlotW Data File: Version ..."`` / ``"Z60W Data File: Version ..."`` (the Autolab
  export): a few quoted lines, a settings line ``0,3,0,1,300000,0.005``, the number of points,
  the quoted column-name line, then comma-separated rows. A file holding fewer rows than it
  announces (a sweep stopped early) is read with a note.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from physics.eis.readers.common import _fail, _read_text, _to_float
from physics.eis.readers.sweeps import RawImpedance

__all__ = ["is_zplot", "parse_zplot"]

_ZPLOT2 = "ZPLOT2 ASCII"
_ZVIEW = re.compile(r"^\W*Z\w* Data File", re.IGNORECASE)
_COLUMNS = ("Freq(Hz)", "Ampl", "Bias", "Time(Sec)", "Z'(a)", "Z''(b)", "GD", "Err", "Range")
_SPLIT = re.compile(r"\s*[\t,]\s*")


def is_zplot(first_line: str) -> bool:
    """Whether a file's first line is that of a ZPlot/ZView text file."""
    line = first_line.lstrip("\ufeff").strip()
    return line.startswith(_ZPLOT2) or bool(_ZVIEW.match(line))


def _column_index(line: str) -> dict[str, int] | None:
    parts = re.split(r"\t|,|\s{2,}", line.strip(' \t"'))
    names = [re.sub(r"\s+", "", c.strip().strip('"')) for c in parts]
    names = [n for n in names if n]
    if "Freq(Hz)" not in names:
        return None
    return {n: i for i, n in enumerate(names)}


def parse_zplot(path: Path) -> RawImpedance:
    """Parse a ZPlot/ZView ``.z`` file (either layout, see the module docstring).

    Raises:
        FileFormatError: not a ZPlot/ZView file, no data, short or non-numeric rows.
    """
    text = _read_text(path, "ZPlot/ZView", utf8_first=True)
    lines = text.splitlines()
    if not lines or not is_zplot(lines[0]):
        first = lines[0][:40] if lines else ""
        raise _fail(path, f"not a ZPlot/ZView file (first line {first!r})")
    header: dict[str, str] = {}
    notes: list[str] = []
    col = None
    announced = None
    if lines[0].lstrip("\ufeff").strip().startswith(_ZPLOT2):
        instrument = "Scribner ZPlot"
        end = next((k for k, ln in enumerate(lines) if ln.strip().startswith("End Comments")), None)
        for k, line in enumerate(lines[1:], start=1):
            if end is not None and k > end:
                break
            col = col or _column_index(line)
            if ":" in line and end is not None:
                key, _, value = line.partition(":")
                header.setdefault(key.strip(), value.strip())
        if end is None:  # no comment block: data follow the column-name line
            end = next((k for k, ln in enumerate(lines) if _column_index(ln)), None)
            if end is None:
                raise _fail(path, "no 'End Comments' line and no 'Freq(Hz)' column line")
        start = end + 1
    else:
        instrument = "ZView text (" + lines[0].strip().strip('"').split(":")[0] + ")"
        head = next((k for k, ln in enumerate(lines) if _column_index(ln)), None)
        if head is None:
            raise _fail(path, "no column-name line with 'Freq(Hz)'")
        col = _column_index(lines[head])
        if head >= 1 and lines[head - 1].strip().isdigit():
            announced = int(lines[head - 1].strip())
        for line in lines[1:head]:
            if ":" in line:
                key, _, value = line.strip().strip('"').partition(":")
                header.setdefault(key.strip(), value.strip())
        start = head + 1
    col = col or {n: i for i, n in enumerate(_COLUMNS)}
    needed = [col.get("Freq(Hz)"), col.get("Z'(a)"), col.get("Z''(b)")]
    if any(i is None for i in needed):
        raise _fail(path, f"column line lacks Freq(Hz), Z'(a) or Z''(b): {sorted(col)}")
    idx = [int(i) for i in needed if i is not None]
    t_idx = col.get("Time(Sec)")
    rows: list[list[float]] = []
    for k, line in enumerate(lines[start:], start=start + 1):
        if not line.strip():
            continue
        fields = _SPLIT.split(line.strip())
        if len(fields) <= max(idx):
            raise _fail(path, f"line {k} has {len(fields)} fields, expected {len(col)}")
        try:
            values = [_to_float(fields[i]) for i in idx]
            values.append(_to_float(fields[t_idx]) if t_idx is not None else np.nan)
        except ValueError as exc:
            raise _fail(path, f"line {k}: non-numeric value ({exc})") from exc
        rows.append(values)
    if not rows:
        raise _fail(path, "no data rows (truncated file?)")
    data = np.asarray(rows, dtype=float)
    if announced is not None and announced != data.shape[0]:
        notes.append(
            f"the header announces {announced} points, the file holds {data.shape[0]} "
            "(sweep stopped early or file cut)"
        )
    date = header.get("Date") or header.get("Date (mm-dd-yyyy)")
    time = header.get("Time")
    metadata: dict[str, Any] = {"header": header, "columns": sorted(col, key=col.__getitem__)}
    return RawImpedance(
        frequency_hz=data[:, 0],
        z_real_ohm=data[:, 1],
        z_imag_ohm=data[:, 2],
        instrument=instrument,
        fmt="z",
        technique=header.get("Experiment Type", ""),
        time_s=None if np.isnan(data[:, 3]).any() else data[:, 3],
        file_start=" ".join(x for x in (date, time) if x) or None,
        metadata=metadata,
        notes=notes,
    )
