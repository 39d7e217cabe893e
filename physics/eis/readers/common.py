"""Shared parts of the impedance file readers: constants, decoding, checks."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from physics.errors import FileFormatError

__all__ = [
    "CSV_FREQUENCY_NAMES",
    "CSV_IMAG_NAMES",
    "CSV_MODULUS_NAMES",
    "CSV_PHASE_NAMES",
    "CSV_REAL_NAMES",
    "CSV_TIME_NAMES",
    "SUPPORTED_FORMATS",
]

#: Values accepted for ``fmt`` in :func:`read_spectrum`: BioLogic ASCII and binary, Gamry,
#: ZPlot/ZView ``.z`` (also Autolab's ZView-format text), CH Instruments, VersaStudio ``.par``
#: and delimited text (CSV, TSV, PowerSuite, PARSTAT, headerless f/Z'/Z'').
SUPPORTED_FORMATS: tuple[str, ...] = ("mpt", "mpr", "dta", "z", "chi", "par", "csv")

#: Extensions that name a format; the content is checked first (:func:`detect_format`).
_EXTENSIONS = {
    ".mpt": "mpt",
    ".mpr": "mpr",
    ".dta": "dta",
    ".z": "z",
    ".par": "par",
    ".csv": "csv",
    ".tsv": "csv",
}

_MPT_MAGIC = "EC-Lab ASCII FILE"
_MPR_MAGIC = b"BIO-LOGIC MODULAR FILE"
_DTA_MAGIC = "EXPLAIN"

#: CSV base names (after dropping units) of the three columns; see the module docstring.
CSV_FREQUENCY_NAMES: frozenset[str] = frozenset({"frequency", "freq", "f"})
CSV_REAL_NAMES: frozenset[str] = frozenset(
    {"z_real", "zreal", "z_re", "zre", "re(z)", "rez", "re_z", "z'", "z'(a)", "real", "re"}
)
CSV_IMAG_NAMES: frozenset[str] = frozenset(
    {
        "z_imag",
        "zimag",
        "z_im",
        "zim",
        "zimg",
        "im(z)",
        "imz",
        "im_z",
        "z''",
        "z''(b)",
        "imag",
        "imaginary",
        "im",
    }
)
#: Polar form: modulus |Z| (ohm) and phase (degrees; radians when the unit says rad).
CSV_MODULUS_NAMES: frozenset[str] = frozenset(
    {"|z|", "zmod", "z_mod", "mod(z)", "modulus", "magnitude", "abs(z)", "z_abs"}
)
CSV_PHASE_NAMES: frozenset[str] = frozenset(
    {"phase", "phase(z)", "zphz", "z_phase", "zphase", "phi", "theta", "phase_angle"}
)
CSV_TIME_NAMES: frozenset[str] = frozenset({"time", "elapsedtime", "elapsed_time", "time(sec)"})
_NEG_PREFIXES = ("-", "minus_", "neg_")
_HZ_SUFFIX = re.compile(r"(/hz|\(hz\)|\[hz\]|_hz)$")
_OHM_SUFFIX = re.compile(r"(/ohms?|\(ohms?\)|\[ohms?\]|_ohms?)$")
_DEG_SUFFIX = re.compile(r"(/deg|\(deg\)|\[deg\]|_deg|/°|\(°\)|\[°\]|°)$")
_RAD_SUFFIX = re.compile(r"(/rad|\(rad\)|\[rad\]|_rad)$")
_S_SUFFIX = re.compile(r"(/s|\(s\)|\[s\]|_s|/sec|\(sec\)|\[sec\])$")


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
