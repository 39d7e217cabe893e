"""From the rows a file holds to spectra: drop DC points, split sweeps, judge the electrode area.

Every reader parses its file into a :class:`RawImpedance` (the rows as the file holds them, the
file's own sweep counter when it has one, what its header says) and :func:`to_spectra` turns
that into one :class:`~physics.eis.spectrum.Spectrum` per sweep:

1. Rows with f = 0 Hz are DC points (EC-Lab GEIS holds, PARSTAT's DC record before the sweep):
   they are dropped and the drop is noted. A negative or non-finite frequency is an error.
2. Sweeps are never merged. A new sweep starts where the file's sweep counter changes
   (EC-Lab ``cycle number``/``z cycle``, the ``.mpr`` loop index, a further Gamry ``ZCURVE``
   table, a VersaStudio segment) and where the frequency jumps back against the sweep
   direction by more than half the file's frequency span and more than 0.3 decade (a new
   sweep starting high again). A sweep with fewer than 3 points is left out with a note.
3. A file whose rows all sit at one frequency is not a spectrum (EC-Lab ZIR): refused.
4. The electrode area: a user value wins; a file value that is a known placeholder (EC-Lab's
   0.001 cm2, Gamry's and VersaStudio's default of 1 cm2, which the file cannot tell from a
   real 1 cm2) is treated as unknown and noted; any other positive file value is used and
   named (``metadata["area_source"] == "file"``).

Each spectrum's ``metadata`` holds ``sweep`` (1-based), ``n_sweeps``, ``start_time_s`` (time
of the sweep's first point on the file's clock, None when the file has no times),
``file_start`` (the file's own start text, not parsed: date formats depend on the locale),
``aborted`` (the reason, or None), ``notes`` (file-level and sweep notes), ``instrument``,
``format``, ``technique``, ``area_source`` and whatever the reader recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from physics.eis.spectrum import Spectrum
from physics.errors import AnalysisError, FileFormatError

__all__ = ["MIN_SWEEP_POINTS", "RawImpedance", "select_sweep", "to_spectra"]

#: Fewest points a sweep needs to count as a spectrum.
MIN_SWEEP_POINTS = 3
#: A jump back against the sweep direction starts a new sweep when it exceeds this share of
#: the file's log-frequency span and :data:`_MIN_RESTART_DECADES`.
_RESTART_SHARE = 0.5
_MIN_RESTART_DECADES = 0.3


@dataclass
class RawImpedance:
    """The impedance rows of one file, before sweeps are split.

    Attributes:
        frequency_hz, z_real_ohm, z_imag_ohm: shape (n,), the file's rows in file order; Z''
            signed (capacitive < 0), ohm, not normalized by area.
        instrument: e.g. ``"BioLogic EC-Lab"``.
        fmt: the reader's format key (``"mpt"``, ``"dta"``...).
        technique: what the file says was run, e.g. ``"PEIS"`` or the header's long name.
        time_s: shape (n,), the file's time column in s, or None.
        sweep_id: shape (n,), the file's own sweep counter per row (any numbers; a change
            starts a new sweep), or None.
        sweep_id_name: the column it came from, for messages.
        file_area_cm2: the electrode area the file states, cm2, or None.
        area_placeholder: why ``file_area_cm2`` is a placeholder (None: a real value).
        aborted: why the run counts as aborted (None: it finished).
        file_start: the file's start date/time as written, or None.
        metadata: anything else (header keys, columns...).
        notes: file-level remarks (ignored header fields, unsupported columns...).
    """

    frequency_hz: np.ndarray
    z_real_ohm: np.ndarray
    z_imag_ohm: np.ndarray
    instrument: str
    fmt: str
    technique: str = ""
    time_s: np.ndarray | None = None
    sweep_id: np.ndarray | None = None
    sweep_id_name: str = ""
    file_area_cm2: float | None = None
    area_placeholder: str | None = None
    aborted: str | None = None
    file_start: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _fail(path: Path, message: str) -> FileFormatError:
    return FileFormatError(f"{path}: {message}")


def _sweep_bounds(f: np.ndarray, sweep_id: np.ndarray | None) -> list[tuple[int, int]]:
    """Row ranges [start, stop) of the sweeps in f (n,) (all f > 0)."""
    n = f.size
    cut = np.zeros(n, dtype=bool)
    cut[0] = True
    if sweep_id is not None:
        cut[1:] |= sweep_id[1:] != sweep_id[:-1]
    logf = np.log10(f)
    span = float(np.ptp(logf)) if n else 0.0
    steps = np.diff(logf)
    moving = steps[steps != 0]
    if moving.size:
        direction = 1.0 if np.median(moving) > 0 else -1.0
        back = -direction * steps  # > 0: a step against the sweep direction
        limit = max(_RESTART_SHARE * span, _MIN_RESTART_DECADES)
        cut[1:] |= back > limit
    starts = np.flatnonzero(cut).tolist()
    return list(zip(starts, [*starts[1:], n], strict=True))


def _area(
    raw: RawImpedance, area_cm2: float | None, notes: list[str]
) -> tuple[float | None, str | None]:
    """(area to use in cm2, where it came from: "user" | "file" | None)."""
    if area_cm2 is not None:
        if raw.file_area_cm2 is not None and not np.isclose(raw.file_area_cm2, area_cm2):
            notes.append(
                f"electrode area {area_cm2:g} cm2 as given (the file states "
                f"{raw.file_area_cm2:g} cm2)"
            )
        return area_cm2, "user"
    if raw.file_area_cm2 is None:
        return None, None
    if raw.area_placeholder is not None:
        notes.append(
            f"the file's electrode area {raw.file_area_cm2:g} cm2 is {raw.area_placeholder}; "
            "treated as unknown (give the real area with --area-cm2 / area_cm2=)"
        )
        return None, None
    return raw.file_area_cm2, "file"


def to_spectra(
    path: Path,
    raw: RawImpedance,
    *,
    area_cm2: float | None = None,
    temperature_c: float | None = None,
) -> list[Spectrum]:
    """Turn a file's rows into its spectra, one per sweep (rules: module docstring).

    Args:
        path: the file, for messages and ``Spectrum.source``.
        raw: what the reader parsed.
        area_cm2: electrode area in cm2 given by the user (overrides the file's).
        temperature_c: measurement temperature in C given by the user.

    Returns:
        The sweeps in file order, each with at least :data:`MIN_SWEEP_POINTS` points.

    Raises:
        FileFormatError: bad overrides, non-finite values, negative frequencies, no row with
            f > 0, a single frequency, or no sweep long enough to be a spectrum.
    """
    if temperature_c is None:  # a file that records its temperature (a CSV comment)
        temperature_c = raw.metadata.get("file_temperature_c")
    for name, value in (("area_cm2", area_cm2), ("temperature_c", temperature_c)):
        if value is not None and not np.isfinite(value):
            raise _fail(path, f"{name}={value!r} must be a finite number")
    if area_cm2 is not None and area_cm2 <= 0:
        raise _fail(path, f"area_cm2={area_cm2!r} must be positive")
    f = np.asarray(raw.frequency_hz, dtype=float)
    re = np.asarray(raw.z_real_ohm, dtype=float)
    im = np.asarray(raw.z_imag_ohm, dtype=float)
    if not (f.shape == re.shape == im.shape) or f.ndim != 1:
        raise _fail(path, "frequency and impedance columns differ in length")
    bad = ~(np.isfinite(f) & np.isfinite(re) & np.isfinite(im))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise _fail(path, f"data row {k + 1} holds a NaN or infinite value ({bad.sum()} such rows)")
    if np.any(f < 0):
        k = int(np.flatnonzero(f < 0)[0])
        raise _fail(path, f"data row {k + 1}: negative frequency {f[k]:g} Hz")
    notes = list(raw.notes)
    keep = f > 0
    if not keep.any():
        raise _fail(path, f"not an impedance export: every one of its {f.size} rows has f = 0 Hz")
    if not keep.all():
        notes.append(
            f"dropped {int((~keep).sum())} row(s) with f = 0 Hz (DC points, not impedance)"
        )
    time_s = None if raw.time_s is None else np.asarray(raw.time_s, dtype=float)[keep]
    sweep_id = None if raw.sweep_id is None else np.asarray(raw.sweep_id)[keep]
    f, re, im = f[keep], re[keep], im[keep]
    what = f"{raw.instrument} {raw.technique}".strip()
    if np.unique(f).size == 1:
        raise _fail(
            path,
            f"one frequency is not a spectrum ({what}: {f.size} row(s) at {f[0]:.6g} Hz)",
        )
    area, area_source = _area(raw, area_cm2, notes)
    if raw.aborted:
        notes.append(f"the run was aborted ({raw.aborted})")
    bounds = _sweep_bounds(f, sweep_id)
    good = [(k, a, b) for k, (a, b) in enumerate(bounds, start=1) if b - a >= MIN_SWEEP_POINTS]
    short = [(k, b - a) for k, (a, b) in enumerate(bounds, start=1) if b - a < MIN_SWEEP_POINTS]
    if not good:
        raise _fail(
            path,
            f"no sweep has {MIN_SWEEP_POINTS} or more points ({len(bounds)} sweep(s) of "
            f"{max(b - a for a, b in bounds)} point(s) at most): not a spectrum",
        )
    if short:
        listed = ", ".join(f"{k} ({n} point{'s' if n > 1 else ''})" for k, n in short[:5])
        notes.append(f"left out sweep(s) too short to be a spectrum: {listed}")
    out = []
    for k, a, b in good:
        meta = dict(raw.metadata)
        meta.update(
            instrument=raw.instrument,
            format=raw.fmt,
            technique=raw.technique,
            sweep=k,
            n_sweeps=len(bounds),
            sweep_rows=(a, b),
            start_time_s=None if time_s is None else float(time_s[a]),
            file_start=raw.file_start,
            aborted=raw.aborted,
            area_source=area_source,
            notes=list(notes),
        )
        if raw.file_area_cm2 is not None:
            meta["file_area_cm2"] = raw.file_area_cm2
        if sweep_id is not None:
            meta["sweep_id"] = sweep_id[a].item()
            meta["sweep_id_name"] = raw.sweep_id_name
        try:
            out.append(
                Spectrum.from_arrays(
                    f[a:b],
                    re[a:b],
                    im[a:b],
                    area_cm2=area,
                    temperature_c=temperature_c,
                    source=str(path),
                    metadata=meta,
                )
            )
        except AnalysisError as exc:  # pragma: no cover - the checks above come first
            raise _fail(path, f"not a usable impedance spectrum: {exc}") from exc
    return out


def select_sweep(path: Path, spectra: list[Spectrum], sweep: int | None) -> Spectrum:
    """One spectrum of a file: the only one, or sweep number ``sweep`` (1-based).

    Raises:
        FileFormatError: several sweeps and ``sweep`` not given, or no such sweep.
    """
    numbers = [int(s.metadata.get("sweep", k)) for k, s in enumerate(spectra, start=1)]
    if sweep is None:
        if len(spectra) == 1:
            return spectra[0]
        raise _fail(
            path,
            f"holds {len(spectra)} sweeps ({_ranges(numbers)}), which are never merged; "
            "choose one with sweep=N (gbs fit-eis --sweep N) or read all with read_spectra()",
        )
    if isinstance(sweep, bool) or not isinstance(sweep, int | np.integer):
        raise _fail(path, f"sweep must be a whole number, got {sweep!r}")
    if sweep in numbers:
        return spectra[numbers.index(sweep)]
    n_total = int(spectra[0].metadata.get("n_sweeps", len(spectra)))
    if 1 <= sweep <= n_total:
        raise _fail(path, f"sweep {sweep} has too few points to be a spectrum")
    raise _fail(path, f"no sweep {sweep}: the file holds sweeps {_ranges(numbers)}")


def _ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 5] -> '1-3, 5'."""
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(f"{start}-{prev}" if prev > start else f"{start}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)
