"""Impedance file readers: BioLogic ``.mpt``/``.mpr``, Gamry ``.DTA`` and plain CSV.

Every reader returns the one :class:`~physics.eis.spectrum.Spectrum` type: frequencies in Hz and the
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

from pathlib import Path

from physics.eis.readers.biologic import read_mpr, read_mpt
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
from physics.eis.readers.csv_spectrum import read_csv_spectrum
from physics.eis.readers.gamry import read_gamry_dta
from physics.eis.spectrum import Spectrum
from physics.errors import FileFormatError

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
