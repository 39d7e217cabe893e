"""BioLogic EC-Lab binary ``.mpr`` files, through galvani, with a fallback for unknown columns.

galvani (0.5.0, the newest release on PyPI) refuses a whole file when one column ID is not in
its table (EC-Lab 11.50+ writes e.g. ID 471 = ``<Ece>/V``, which galvani 0.5.0 reads as 215,
or 880 read as 112). Such a column is usually not one we need: the fallback here lays the
record out from the IDs galvani knows, gives the unknown column(s) the bytes left over in
each record, reads the impedance columns and notes the unsupported column IDs. When the
unknown columns' bytes cannot be placed unambiguously the file is refused with that reason.

Layout facts (as in galvani): the data module starts with the point count (u4) and the column
count (u1); column IDs follow as u2 (as u1 in version-0 modules whose byte 5 is non-zero);
records start at byte 100 or 1007 (version 0), 405 (version 2) or 406 (version 3). The
settings module's first byte is the technique code.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from physics.eis.readers.common import _MPR_MAGIC, _fail, _read_bytes
from physics.eis.readers.sweeps import RawImpedance

__all__ = ["ECLAB_TECHNIQUES", "parse_mpr"]

#: EC-Lab technique codes (first byte of the settings module) of common techniques.
ECLAB_TECHNIQUES: dict[int, str] = {
    0x04: "GCPL",
    0x06: "CV",
    0x0B: "OCV",
    0x16: "MP",
    0x18: "CA",
    0x19: "CP",
    0x1C: "WAIT",
    0x1D: "PEIS",
    0x1E: "GEIS",
    0x30: "CV",
    0x32: "ZIR",
    0x33: "CVA",
    0x6C: "LSV",
    0x75: "coV",
    0x76: "coC",
    0x77: "GCPL",
    0x7F: "MB (Modulo Bat)",
    0x88: "BCD",
}
_FREQ, _RE, _MINUS_IM, _TIME, _CYCLE = 32, 37, 38, 4, 24
_NEEDED = {_FREQ: "freq/Hz", _RE: "Re(Z)/Ohm", _MINUS_IM: "-Im(Z)/Ohm"}


def _modules(path: Path, data: bytes) -> dict[str, dict[str, Any]]:
    from galvani import BioLogic

    try:
        stream = io.BytesIO(data)
        stream.read(len(BioLogic.MPR_MAGIC))
        modules = list(BioLogic.read_VMP_modules(stream))
    except Exception as exc:  # galvani raises ValueError, OSError, AssertionError, ...
        raise _fail(
            path, f"corrupted or unsupported .mpr file ({type(exc).__name__}: {_one_line(exc)})"
        ) from exc
    out = {m["shortname"].decode("latin-1").strip(): m for m in modules}
    if "VMP data" not in out or "VMP Set" not in out:
        raise _fail(path, "corrupted .mpr file: no 'VMP data' or 'VMP Set' module")
    return out


def _column_ids(module: dict[str, Any]) -> tuple[np.ndarray, int, bool]:
    """(column IDs, offset of the records, IDs stored as single bytes)."""
    data, version = module["data"], module["version"]
    n_columns = data[4]
    if version == 0 and data[5]:
        return np.frombuffer(data, "u1", n_columns, 5).astype(int), 100, True
    if version == 0:
        return np.frombuffer(data, "<u2", n_columns, 6).astype(int), 1007, False
    if version in (2, 3):
        return np.frombuffer(data, "<u2", n_columns, 5).astype(int), 403 + version, False
    raise ValueError(f"unknown data module version {version}")


def parse_mpr(path: Path) -> RawImpedance:
    """Parse an EC-Lab ``.mpr`` into its impedance rows (sweeps not yet split).

    Columns ``freq/Hz``, ``Re(Z)/Ohm``, ``-Im(Z)/Ohm`` (Z'' = -that), ``time/s``, ``cycle
    number``; the loop module's start indices count sweeps. galvani does not expose the
    electrode area: the spectra have none unless the user gives one.

    Raises:
        FileFormatError: not an ``.mpr``, corrupted, not an impedance technique (named), or
            unknown columns whose bytes cannot be placed.
    """
    data_bytes = _read_bytes(path)
    if not data_bytes.startswith(_MPR_MAGIC):
        raise _fail(path, "not a BioLogic .mpr file (missing 'BIO-LOGIC MODULAR FILE' magic)")
    try:
        from galvani import BioLogic
    except ImportError as exc:  # pragma: no cover - galvani is a dependency
        raise _fail(path, "reading .mpr needs the 'galvani' package") from exc
    modules = _modules(path, data_bytes)
    code = modules["VMP Set"]["data"][0] if modules["VMP Set"]["data"] else -1
    technique = ECLAB_TECHNIQUES.get(code, f"technique code 0x{code:02X}")
    try:
        ids, _, _ = _column_ids(modules["VMP data"])
    except (ValueError, IndexError) as exc:
        raise _fail(path, f"corrupted or unsupported .mpr file ({exc})") from exc
    missing = [name for cid, name in _NEEDED.items() if cid not in ids]
    if missing:
        has_freq = _FREQ in ids
        raise _fail(
            path,
            f"not an impedance export: EC-Lab {technique} file "
            + ("without Re(Z)/-Im(Z) columns" if has_freq else "(no freq/Hz column)"),
        )
    notes: list[str] = []
    try:
        mpr = BioLogic.MPRfile(io.BytesIO(data_bytes))
        columns: dict[str, np.ndarray] = {n: np.asarray(mpr.data[n]) for n in mpr.data.dtype.names}
        loop_index = mpr.loop_index
        start = getattr(mpr, "timestamp", None) or getattr(mpr, "startdate", None)
    except NotImplementedError as exc:  # galvani: "Column ID N after column X is unknown"
        columns, unknown = _fallback_columns(path, modules["VMP data"], BioLogic)
        notes.append(
            f"unsupported column ID(s) {unknown} (unknown to galvani "
            f"{_galvani_version()}) skipped; the impedance columns were read ({_one_line(exc)})"
        )
        loop_index = _loop_index(modules.get("VMP loop"))
        start = None
    except ValueError as exc:
        if "timestamp" not in str(exc) and "Date mismatch" not in str(exc):
            raise _fail(
                path, f"corrupted or unsupported .mpr file (ValueError: {_one_line(exc)})"
            ) from exc
        # galvani reads the data, then fails on the LOG module's date: read the data directly
        columns, _ = _fallback_columns(path, modules["VMP data"], BioLogic)
        notes.append(f"start date not read (galvani: {_one_line(exc)})")
        loop_index = _loop_index(modules.get("VMP loop"))
        start = None
    except Exception as exc:  # galvani raises OSError, AssertionError, ...
        raise _fail(
            path, f"corrupted or unsupported .mpr file ({type(exc).__name__}: {_one_line(exc)})"
        ) from exc
    n = columns["freq/Hz"].size
    sweep_id = None
    sweep_name = ""
    if loop_index is not None and len(loop_index) > 2:
        sweep_id = np.searchsorted(np.asarray(loop_index)[1:], np.arange(n), side="right")
        sweep_name = "loop index"
    elif "cycle number" in columns:
        sweep_id, sweep_name = columns["cycle number"], "cycle number"
    return RawImpedance(
        frequency_hz=np.asarray(columns["freq/Hz"], dtype=float),
        z_real_ohm=np.asarray(columns["Re(Z)/Ohm"], dtype=float),
        z_imag_ohm=-np.asarray(columns["-Im(Z)/Ohm"], dtype=float),
        instrument="BioLogic EC-Lab",
        fmt="mpr",
        technique=technique,
        time_s=np.asarray(columns["time/s"], dtype=float) if "time/s" in columns else None,
        sweep_id=sweep_id,
        sweep_id_name=sweep_name,
        file_start=None if start is None else str(start),
        metadata={"columns": list(columns)},
        notes=notes,
    )


def _one_line(exc: BaseException) -> str:
    """galvani's messages span lines; ours are one line."""
    return " ".join(str(exc).split())


def _galvani_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("galvani")
    except PackageNotFoundError:  # pragma: no cover
        return "?"


def _loop_index(module: dict[str, Any] | None) -> np.ndarray | None:
    if module is None or module["version"] != 0:
        return None
    return np.trim_zeros(np.frombuffer(module["data"], "<u4", offset=4), "b")


def _fallback_columns(path: Path, module: dict[str, Any], galvani_biologic: Any) -> tuple:
    """Read the needed columns when galvani does not know every column ID.

    Returns ({name: array}, [unknown IDs]).
    """
    dtypes = galvani_biologic.VMPdata_colID_dtype_map
    flags = galvani_biologic.VMPdata_colID_flag_map
    ids, offset, single_bytes = _column_ids(module)
    data = module["data"]
    n_points = int(np.frombuffer(data, "<u4", 1, 0)[0])
    # galvani keys version-0 two-byte IDs by their low byte (e.g. 471 -> 215)
    keys = [cid if single_bytes or module["version"] else cid % 256 for cid in ids]
    layout: list[tuple[int, int, str | None]] = []  # (column ID, bytes, dtype) per column
    has_flags = False
    unknown: list[int] = []
    for cid, key in zip(ids.tolist(), keys, strict=True):
        if key in flags:
            if not has_flags:
                layout.append((cid, 1, "u1"))
                has_flags = True
        elif key in dtypes:
            dt = np.dtype(dtypes[key][1])
            layout.append((cid, dt.itemsize, dt.str))
        else:
            layout.append((cid, 0, None))
            unknown.append(cid)
    records = len(data) - offset
    if n_points <= 0 or records % n_points:
        raise _fail(path, f"corrupted .mpr file: {records} data bytes for {n_points} points")
    spare = records // n_points - sum(b for _, b, _ in layout)
    positions = [k for k, (_, _, dt) in enumerate(layout) if dt is None]
    if (positions and spare <= 0) or (not positions and spare != 0):
        raise _fail(
            path,
            f"unsupported .mpr layout: records of {records // n_points} bytes, the known "
            f"columns take {records // n_points - spare} (unknown column IDs {unknown})",
        )
    wanted = {_FREQ: "freq/Hz", _RE: "Re(Z)/Ohm", _MINUS_IM: "-Im(Z)/Ohm"}
    wanted.update({_TIME: "time/s", _CYCLE: "cycle number"})
    out: dict[str, np.ndarray] = {}
    known_before = 0  # bytes of known columns before the current one
    stride = records // n_points
    for k, (cid, nbytes, dt) in enumerate(layout):
        if dt is None:
            continue
        n_unknown_before = sum(p < k for p in positions)
        if n_unknown_before == 0:
            off: int | None = known_before
        elif n_unknown_before == len(positions):
            off = known_before + spare
        else:  # between two unknown columns: where it starts is ambiguous
            off = None
        if cid in wanted and off is not None:
            view = np.ndarray((n_points,), np.dtype(dt), data, offset + off, (stride,))
            out[wanted[cid]] = view.astype(float)
        known_before += nbytes
    missing = [name for name in _NEEDED.values() if name not in out]
    if missing:
        raise _fail(
            path,
            f"unsupported column IDs {unknown}: cannot place them, so {missing} cannot be "
            "located; export the file as .mpt from EC-Lab",
        )
    return out, unknown
