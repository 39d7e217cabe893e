"""Impedance file readers: BioLogic, Gamry, ZPlot/ZView, Autolab, CH Instruments, VersaStudio,
PowerSuite, PARSTAT and delimited text.

Every reader returns the one :class:`~physics.eis.spectrum.Spectrum` type: frequencies in Hz and the
complex impedance Z = Z' + iZ'' in ohm (not normalized by area) with the sign convention of this
project, **capacitive arcs have Z'' < 0**. Readers keep the file's point order.

:func:`read_spectra` returns one spectrum per sweep (sweeps are never merged; rules in
:mod:`physics.eis.readers.sweeps`); :func:`read_spectrum` returns the only sweep of a file, or the
one chosen with ``sweep=N`` (1-based), and refuses a file with several sweeps otherwise.
Rows with f = 0 Hz (DC points) are dropped with a note in ``metadata["notes"]``; placeholder
electrode areas (EC-Lab's 0.001 cm2, the Gamry and VersaStudio default of 1 cm2) count as
unknown. Keyword arguments ``area_cm2`` and ``temperature_c`` override the file.

Formats (detected by content; the extension only decides when the content is not
recognized, so that a broken ``.mpt`` gets the EC-Lab reader's message):

==========  ==============================================================================
``mpt``     BioLogic EC-Lab ASCII (``EC-Lab ASCII FILE``); Z'' = -(``-Im(Z)/Ohm``)
``mpr``     BioLogic EC-Lab binary (``BIO-LOGIC MODULAR FILE``), through galvani
``dta``     Gamry Framework (``EXPLAIN``): ``ZCURVE`` tables, ``Zimag`` signed
``z``       Scribner ZPlot/ZView (``ZPLOT2 ASCII``, ``"ZPlotW Data File..."``) and the
            Autolab Nova export in that format (``"Z60W Data File..."``); ``Z''(b)`` signed
``chi``     CH Instruments (``Instrument Model: CHI...``, ``A.C. Impedance``); ``Z"`` signed
``par``     VersaStudio (``<Application>`` ... ``<SegmentN>``); ``Z Imag`` signed
``csv``     delimited text (comma, semicolon, tab, spaces), with or without a header:
            also PowerSuite and PARSTAT exports
==========  ==============================================================================

Accepted delimited-text headers (case, spaces and quotes ignored; a unit suffix ``/Hz``,
``(Hz)``, ``[Hz]``, ``_hz`` resp. ``/Ohm``, ``(Ohm)``, ``[Ohm]``, ``_ohm``, also ``Ohms`` or
``Ω``, is optional):
    * frequency: ``frequency_hz``, ``frequency``, ``freq``, ``f`` (e.g. ``freq/Hz``).
    * real part: ``z_real_ohm``, ``z_real``, ``zreal``, ``z_re``, ``zre``, ``re(z)``, ``rez``,
      ``re_z``, ``z'``, ``real``, ``re`` (e.g. ``Re(Z)/Ohm``).
    * signed imaginary part: ``z_imag_ohm``, ``z_imag``, ``zimag``, ``z_im``, ``zim``,
      ``zimg``, ``im(z)``, ``imz``, ``im_z``, ``z''``, ``imag``, ``imaginary``, ``im``.
    * negated parts: any real or imaginary name with a leading ``-``, ``minus_`` or ``neg_``
      (e.g. ``-Im(Z)/Ohm``, ``-z_imag_ohm``, ``-Z''``, ``-Z'``).
    * polar form: ``|Z|``/``zmod``/``modulus`` and ``phase``/``Phase(Z)/deg``/``-phase``
      (degrees; radians with a ``rad`` unit).
    * time (optional, s): ``time``, ``time/s``, ``Elapsed Time (s)``.
    Lines starting with ``#`` are comments; ``# area_cm2: 0.785`` or ``# temperature_c = 25``
    set the area/temperature. Without a header, columns 1-3 are f, Z', Z''.

Every malformed, truncated, empty, binary or non-impedance file raises
:class:`~physics.errors.FileFormatError` naming the file and what is wrong; a file of another
technique says so ("not an impedance export: Gamry CV experiment ...").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from physics.eis.readers.biologic import parse_mpt
from physics.eis.readers.biologic_mpr import parse_mpr
from physics.eis.readers.chinstruments import is_chinstruments, parse_chinstruments
from physics.eis.readers.common import (
    _DTA_MAGIC,
    _EXTENSIONS,
    _MPR_MAGIC,
    _MPT_MAGIC,
    CSV_FREQUENCY_NAMES,
    CSV_IMAG_NAMES,
    CSV_REAL_NAMES,
    SUPPORTED_FORMATS,
    _read_bytes,
)
from physics.eis.readers.csv_spectrum import parse_csv_spectrum
from physics.eis.readers.gamry import parse_gamry_dta
from physics.eis.readers.sweeps import RawImpedance, select_sweep, to_spectra
from physics.eis.readers.versastudio import is_versastudio, parse_versastudio
from physics.eis.readers.zplot import is_zplot, parse_zplot
from physics.eis.spectrum import Spectrum
from physics.errors import FileFormatError

__all__ = [
    "CSV_FREQUENCY_NAMES",
    "CSV_IMAG_NAMES",
    "CSV_REAL_NAMES",
    "SUPPORTED_FORMATS",
    "detect_format",
    "read_spectra",
    "read_spectrum",
]


def detect_format(path: str | Path) -> str:
    """The format key of a file (one of :data:`SUPPORTED_FORMATS`), from its content.

    The ``.mpr`` magic bytes, the first line (``EC-Lab ASCII FILE``, ``EXPLAIN``, ZPlot/ZView
    headers), a VersaStudio ``<Application>`` block or a CH Instruments header decide; a file
    none of these recognize goes by its extension, else is read as delimited text.

    Raises:
        FileFormatError: missing or empty file.
    """
    path = Path(path)
    data = _read_bytes(path)
    if data.startswith(_MPR_MAGIC):
        return "mpr"
    head = data[:4096].removeprefix(b"\xef\xbb\xbf").decode("latin-1")
    lines = head.splitlines()
    first = lines[0].strip() if lines else ""
    if first == _MPT_MAGIC:
        return "mpt"
    if first == _DTA_MAGIC:
        return "dta"
    if is_zplot(first):
        return "z"
    if is_versastudio(head):
        return "par"
    if is_chinstruments(lines):
        return "chi"
    return _EXTENSIONS.get(path.suffix.lower(), "csv")


#: The parser of each format: the file's rows, before sweeps are split (``sweeps.py``).
_PARSERS: dict[str, Callable[[Path], RawImpedance]] = {
    "mpt": parse_mpt,
    "mpr": parse_mpr,
    "dta": parse_gamry_dta,
    "z": parse_zplot,
    "chi": parse_chinstruments,
    "par": parse_versastudio,
    "csv": parse_csv_spectrum,
}


def _format_key(path: Path, fmt: str | None) -> str:
    if fmt is None:
        return detect_format(path)
    key = fmt.lower().lstrip(".")
    key = {"autolab": "z", "zplot": "z", "zview": "z", "powersuite": "csv", "parstat": "csv"}.get(
        key, key
    )
    if key not in _PARSERS:
        raise FileFormatError(
            f"{path}: unknown format {fmt!r}; must be one of {list(SUPPORTED_FORMATS)}"
        )
    return key


def read_spectra(
    path: str | Path,
    *,
    area_cm2: float | None = None,
    temperature_c: float | None = None,
    fmt: str | None = None,
) -> list[Spectrum]:
    """Read every sweep of an impedance file, one spectrum each, in file order.

    Args:
        path: the file.
        area_cm2: electrode area in cm2, overrides the file's.
        temperature_c: measurement temperature in C, overrides the file's.
        fmt: force a format (one of :data:`SUPPORTED_FORMATS`, or ``autolab``, ``zplot``,
            ``powersuite``, ``parstat``).

    Returns:
        The sweeps; each spectrum's ``metadata`` has ``sweep`` (1-based), ``n_sweeps``,
        ``start_time_s``, ``file_start``, ``aborted`` and ``notes``.

    Raises:
        FileFormatError: unknown ``fmt``, missing file, a file its reader rejects.
    """
    path = Path(path)
    key = _format_key(path, fmt)
    return to_spectra(path, _PARSERS[key](path), area_cm2=area_cm2, temperature_c=temperature_c)


def read_spectrum(
    path: str | Path,
    *,
    area_cm2: float | None = None,
    temperature_c: float | None = None,
    fmt: str | None = None,
    sweep: int | None = None,
) -> Spectrum:
    """Read one impedance spectrum from any supported file.

    Args:
        path: the file.
        area_cm2: electrode area in cm2, overrides the file's.
        temperature_c: measurement temperature in C, overrides the file's.
        fmt: force a format (see :func:`read_spectra`).
        sweep: which sweep (1-based) of a file with several; required then.

    Returns:
        The spectrum, Z'' < 0 for capacitive arcs.

    Raises:
        FileFormatError: as :func:`read_spectra`; a file with several sweeps and no
            ``sweep``, or no such sweep.
    """
    path = Path(path)
    spectra = read_spectra(path, area_cm2=area_cm2, temperature_c=temperature_c, fmt=fmt)
    return select_sweep(path, spectra, sweep)
