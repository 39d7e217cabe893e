"""Impedance file readers: BioLogic ``.mpt``/``.mpr``, Gamry ``.DTA`` and plain CSV.

Every reader returns the one :class:`~physics.spectrum.Spectrum` type: frequencies in Hz and the
complex impedance Z = Z' + iZ'' in ohm (not normalized by area) with the sign convention of this
project, **capacitive arcs have Z'' < 0**. Readers keep the file's point order. Whatever the
file's header records (electrode area, instrument, technique, AC amplitude...) lands in
``Spectrum.area_cm2``/``temperature_c``/``metadata``; keyword arguments ``area_cm2`` and
``temperature_c`` override the file (the file's own value is then kept in ``metadata``).

Sign conventions of the formats:
    * BioLogic EC-Lab writes ``-Im(Z)/Ohm``: Z'' = -(that column).
    * Gamry writes ``Zimag`` signed: Z'' = Zimag.
    * CSV: a signed imaginary column (``z_imag_ohm``, ``Im(Z)/Ohm``, ``Zimag``...) is used as is,
      a negated one (``-Im(Z)/Ohm``, ``-z_imag_ohm``, ``-Z''``...) is negated back.

Accepted CSV headers (case, spaces and quotes ignored; a unit suffix ``/Hz``, ``(Hz)``,
``[Hz]``, ``_hz`` resp. ``/Ohm``, ``(Ohm)``, ``[Ohm]``, ``_ohm``, also ``Ohms`` or ``Ω``, is
optional):
    * frequency: ``frequency_hz``, ``frequency``, ``freq``, ``f`` (e.g. ``freq/Hz``).
    * real part: ``z_real_ohm``, ``z_real``, ``zreal``, ``z_re``, ``zre``, ``re(z)``, ``rez``,
      ``re_z``, ``z'``, ``real`` (e.g. ``Re(Z)/Ohm``).
    * signed imaginary part: ``z_imag_ohm``, ``z_imag``, ``zimag``, ``z_im``, ``zim``, ``im(z)``,
      ``imz``, ``im_z``, ``z''``, ``imag``.
    * negated imaginary part: any imaginary name with a leading ``-``, ``minus_`` or ``neg_``
      (e.g. ``-Im(Z)/Ohm``, ``-z_imag_ohm``, ``-Z''``).
    Delimiter ``,``, ``;`` or tab. Lines starting with ``#`` are comments; a comment
    ``# area_cm2: 0.785`` or ``# temperature_c = 25`` sets the area/temperature.

Every malformed, truncated, empty, binary or non-impedance file raises
:class:`~physics.errors.FileFormatError` naming the file and what is wrong.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import numpy as np

from physics.errors import AnalysisError, FileFormatError
from physics.spectrum import Spectrum

__all__ = [
    "CSV_FREQUENCY_NAMES",
    "CSV_IMAG_NAMES",
    "CSV_REAL_NAMES",
    "SUPPORTED_FORMATS",
    "read_csv_spectrum",
    "read_gamry_dta",
    "read_mpr",
    "read_mpt",
    "read_spectrum",
]

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
            "(see physics.readers docstring)",
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


# --------------------------------------------------------------------------- dispatch
def _sniff(path: Path) -> str:
    data = _read_bytes(path)
    if data.startswith(_MPR_MAGIC):
        return "mpr"
    first = data[:64].lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].strip()
    if first == _MPT_MAGIC.encode():
        return "mpt"
    if first == _DTA_MAGIC.encode():
        return "dta"
    return "csv"


_READERS = {"mpt": read_mpt, "mpr": read_mpr, "dta": read_gamry_dta, "csv": read_csv_spectrum}


def read_spectrum(
    path: str | Path,
    *,
    area_cm2: float | None = None,
    temperature_c: float | None = None,
    fmt: str | None = None,
) -> Spectrum:
    """Read an impedance spectrum from any supported file.

    The format is ``fmt`` when given (one of :data:`SUPPORTED_FORMATS`), else the extension
    (``.mpt``, ``.mpr``, ``.dta``/``.DTA``, ``.csv``/``.tsv``), else the content (EC-Lab and
    Gamry magic first lines, the ``.mpr`` magic bytes; anything else is tried as CSV).

    Args:
        path: the file.
        area_cm2: electrode area in cm2, overrides the file's.
        temperature_c: measurement temperature in C, overrides the file's.
        fmt: force a format.

    Returns:
        The spectrum, Z'' < 0 for capacitive arcs.

    Raises:
        FileFormatError: unknown ``fmt``, missing file, or a file its reader rejects.
    """
    path = Path(path)
    if fmt is not None:
        key = fmt.lower().lstrip(".")
        if key not in _READERS:
            raise FileFormatError(
                f"{path}: unknown format {fmt!r}; must be one of {list(SUPPORTED_FORMATS)}"
            )
    else:
        key = _EXTENSIONS.get(path.suffix.lower()) or _sniff(path)
    return _READERS[key](path, area_cm2=area_cm2, temperature_c=temperature_c)
