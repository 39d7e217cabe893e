"""Shared parts of the impedance file readers: constants, decoding, checks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from physics.eis.spectrum import Spectrum
from physics.errors import AnalysisError, FileFormatError

__all__ = ["CSV_FREQUENCY_NAMES", "CSV_IMAG_NAMES", "CSV_REAL_NAMES", "SUPPORTED_FORMATS"]

#: Values accepted for ``fmt`` in :func:`read_spectrum`.
SUPPORTED_FORMATS: tuple[str, ...] = ("mpt", "mpr", "dta", "csv")

_EXTENSIONS = {".mpt": "mpt", ".mpr": "mpr", ".dta": "dta", ".csv": "csv", ".tsv": "csv"}

_MPT_MAGIC = "EC-Lab ASCII FILE"
_MPR_MAGIC = b"BIO-LOGIC MODULAR FILE"
_DTA_MAGIC = "EXPLAIN"

#: CSV base names (after dropping units) of the three columns; see the module docstring.
CSV_FREQUENCY_NAMES: frozenset[str] = frozenset({"frequency", "freq", "f"})
CSV_REAL_NAMES: frozenset[str] = frozenset(
    {"z_real", "zreal", "z_re", "zre", "re(z)", "rez", "re_z", "z'", "real"}
)
CSV_IMAG_NAMES: frozenset[str] = frozenset(
    {"z_imag", "zimag", "z_im", "zim", "im(z)", "imz", "im_z", "z''", "imag"}
)
_NEG_PREFIXES = ("-", "minus_", "neg_")
_HZ_SUFFIX = re.compile(r"(/hz|\(hz\)|\[hz\]|_hz)$")
_OHM_SUFFIX = re.compile(r"(/ohms?|\(ohms?\)|\[ohms?\]|_ohms?)$")


# --------------------------------------------------------------------------- helpers
def _fail(path: Path, message: str) -> FileFormatError:
    return FileFormatError(f"{path}: {message}")


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise _fail(path, "no such file")
    if not path.is_file():
        raise _fail(path, "is not a regular file")
    data = path.read_bytes()
    if not data.strip():
        raise _fail(path, "file is empty")
    return data


def _read_text(path: Path, what: str, *, utf8_first: bool = False) -> str:
    """Read a text export as latin-1 (every byte decodes; instruments write latin-1 units).

    With ``utf8_first`` (CSV written by scripts) UTF-8 is tried first; a UTF-8 BOM always
    selects UTF-8.
    """
    data = _read_bytes(path)
    if b"\x00" in data[:4096]:
        raise _fail(path, f"binary content (NUL bytes), not a {what} text export")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if utf8_first:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1")


def _to_float(text: str) -> float:
    """Parse a number written with a decimal point or a decimal comma (EC-Lab locales)."""
    s = text.strip()
    if "," in s and "." not in s:
        s = s.replace(",", ".")
    return float(s)


def _build(
    path: Path,
    frequency_hz: np.ndarray,
    z_real_ohm: np.ndarray,
    z_imag_ohm: np.ndarray,
    *,
    file_area_cm2: float | None,
    file_temperature_c: float | None,
    area_cm2: float | None,
    temperature_c: float | None,
    metadata: dict[str, Any],
) -> Spectrum:
    """Assemble a Spectrum, applying overrides; file content problems become FileFormatError."""
    for name, value in (("area_cm2", area_cm2), ("temperature_c", temperature_c)):
        if value is not None and not np.isfinite(value):
            raise FileFormatError(f"{path}: {name}={value!r} must be a finite number")
    if area_cm2 is not None and area_cm2 <= 0:
        raise FileFormatError(f"{path}: area_cm2={area_cm2!r} must be positive")
    meta = dict(metadata)
    if area_cm2 is not None and file_area_cm2 is not None:
        meta["file_area_cm2"] = file_area_cm2
    if temperature_c is not None and file_temperature_c is not None:
        meta["file_temperature_c"] = file_temperature_c
    area = area_cm2 if area_cm2 is not None else file_area_cm2
    temp = temperature_c if temperature_c is not None else file_temperature_c
    try:
        return Spectrum.from_arrays(
            frequency_hz,
            z_real_ohm,
            z_imag_ohm,
            area_cm2=area,
            temperature_c=temp,
            source=str(path),
            metadata=meta,
        )
    except AnalysisError as exc:
        raise _fail(path, f"not a usable impedance spectrum: {exc}") from exc


# --------------------------------------------------------------------------- BioLogic .mpt
def _parse_area_cm2(text: str) -> float | None:
    """``0.001 cm²`` / ``0.785 cm2`` / ``10 mm²`` -> cm2; None if unparseable."""
    m = re.match(r"\s*([-+0-9.,eE]+)\s*(\S*)", text)
    if not m:
        return None
    try:
        value = _to_float(m.group(1))
    except ValueError:
        return None
    unit = m.group(2).replace("²", "2").lower()
    if unit.startswith("mm"):
        value /= 100.0
    elif unit.startswith("m2"):
        value *= 1e4
    return value if np.isfinite(value) and value > 0 else None
