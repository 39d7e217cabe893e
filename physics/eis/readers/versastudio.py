"""Princeton Applied Research / AMETEK VersaStudio ``.par`` files.

The file is a sequence of XML-like blocks: ``<Application>`` (``Name=VersaStudio``),
``<ActionN>`` (settings, e.g. ``Working Electrode Area (cm2)=1``) and ``<SegmentN>`` blocks of
data: ``Definition=Segment #, Point #, E(V), I(A), Elapsed Time(s), ..., Frequency(Hz), ...,
Z Real, Z Imag, ...`` followed by comma-separated rows. Segments holding ``Frequency(Hz)``,
``Z Real`` and ``Z Imag`` are impedance sweeps (one sweep each); Z'' is signed (capacitive
< 0). The area of 1 cm2 is VersaStudio's default and counts as unknown.

PowerSuite and PARSTAT text exports are delimited tables with a header row: they are read by
:mod:`physics.eis.readers.csv_spectrum`.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from physics.eis.readers.common import _fail, _read_text, _to_float
from physics.eis.readers.sweeps import RawImpedance

__all__ = ["is_versastudio", "parse_versastudio"]

#: VersaStudio's default working-electrode area.
VERSASTUDIO_DEFAULT_AREA_CM2 = 1.0
_SEGMENT = re.compile(r"^<Segment(\d+)>\s*$")
_NEEDED = ("Frequency(Hz)", "Z Real", "Z Imag")


def is_versastudio(text_head: str) -> bool:
    """Whether the start of a file is that of a VersaStudio ``.par`` file."""
    return "<Application>" in text_head[:2000] and "VersaStudio" in text_head[:2000]


def parse_versastudio(path: Path) -> RawImpedance:
    """Parse a VersaStudio ``.par`` file: its impedance segments, one sweep each.

    Raises:
        FileFormatError: no segment with Frequency(Hz), Z Real and Z Imag; bad rows.
    """
    text = _read_text(path, "VersaStudio", utf8_first=True)
    lines = text.splitlines()
    settings: dict[str, str] = {}
    parts: list[np.ndarray] = []
    seen: list[str] = []
    techniques: list[str] = []
    k = 0
    while k < len(lines):
        m = _SEGMENT.match(lines[k].strip())
        if not m:
            if "=" in lines[k] and not lines[k].startswith("<"):
                key, _, value = lines[k].partition("=")
                settings.setdefault(key.strip(), value.strip())
                if key.strip() == "Name" and re.search(r"EIS|Impedance", value, re.I):
                    techniques.append(value.strip())
            k += 1
            continue
        number = m.group(1)
        end = next(
            (j for j in range(k + 1, len(lines)) if lines[j].strip() == f"</Segment{number}>"),
            None,
        )
        if end is None:
            raise _fail(path, f"<Segment{number}> (line {k + 1}) is never closed (truncated?)")
        block = lines[k + 1 : end]
        definition = next((ln for ln in block if ln.startswith("Definition=")), "")
        names = [c.strip() for c in definition.partition("=")[2].split(",")]
        seen.append(f"Segment{number}")
        if all(n in names for n in _NEEDED):
            idx = [names.index(n) for n in (*_NEEDED, "Elapsed Time(s)") if n in names]
            rows = []
            for j, line in enumerate(block, start=k + 2):
                if "=" in line or not line.strip():
                    continue
                fields = line.split(",")
                if len(fields) < max(idx) + 1:
                    raise _fail(path, f"line {j} has {len(fields)} fields, expected {len(names)}")
                try:
                    rows.append([_to_float(fields[i]) for i in idx])
                except ValueError as exc:
                    raise _fail(path, f"line {j}: non-numeric value ({exc})") from exc
            if rows:
                arr = np.asarray(rows, dtype=float)
                if arr.shape[1] == 3:
                    arr = np.column_stack([arr, np.full(len(arr), np.nan)])
                parts.append(np.column_stack([arr, np.full(len(arr), int(number))]))
        k = end + 1
    if not parts:
        raise _fail(
            path,
            "not an impedance export: VersaStudio file with no segment holding "
            f"Frequency(Hz), Z Real and Z Imag (segments: {seen or 'none'})",
        )
    data = np.vstack(parts)
    area = None
    area_text = settings.get("Working Electrode Area (cm2)")
    if area_text:
        try:
            area = _to_float(area_text)
        except ValueError:
            area = None
    if area is not None and area <= 0:
        area = None
    return RawImpedance(
        frequency_hz=data[:, 0],
        z_real_ohm=data[:, 1],
        z_imag_ohm=data[:, 2],
        instrument="VersaStudio" + (f" {settings['Version']}" if "Version" in settings else ""),
        fmt="par",
        technique=", ".join(dict.fromkeys(techniques)),
        time_s=None if np.isnan(data[:, 3]).any() else data[:, 3],
        sweep_id=data[:, 4] if len(parts) > 1 else None,
        sweep_id_name="segment",
        file_area_cm2=area,
        area_placeholder=(
            "VersaStudio's default working-electrode area (1 cm2), which a file cannot tell "
            "from a set value"
            if area == VERSASTUDIO_DEFAULT_AREA_CM2
            else None
        ),
        metadata={"settings": settings},
    )
