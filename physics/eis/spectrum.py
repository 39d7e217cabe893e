"""One impedance spectrum type shared by readers, fitting and analysis."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from physics.errors import AnalysisError

__all__ = ["Spectrum"]


@dataclass(frozen=True)
class Spectrum:
    """A measured impedance spectrum.

    Attributes:
        frequency_hz: shape (n,), frequencies in Hz (any order; readers keep the file's order).
        z_ohm: shape (n,), complex impedance Z' + iZ'' in ohm, not normalized by area.
            Capacitive arcs have negative imaginary parts.
        area_cm2: electrode area in cm2 when known.
        temperature_c: measurement temperature in C when known.
        source: where the data came from (file path, job id...).
        metadata: anything else the source recorded (instrument, technique, header keys).
    """

    frequency_hz: np.ndarray
    z_ohm: np.ndarray
    area_cm2: float | None = None
    temperature_c: float | None = None
    source: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        f = np.asarray(self.frequency_hz, dtype=float)
        z = np.asarray(self.z_ohm, dtype=complex)
        where = f" in {self.source}" if self.source else ""
        if f.ndim != 1 or z.ndim != 1 or f.shape != z.shape:
            raise AnalysisError(
                f"spectrum{where}: frequency_hz and z_ohm must be 1-D arrays of one length, "
                f"got shapes {f.shape} and {z.shape}"
            )
        if f.size < 3:
            raise AnalysisError(f"spectrum{where}: needs at least 3 points, got {f.size}")
        if not (np.all(np.isfinite(f)) and np.all(np.isfinite(z))):
            raise AnalysisError(f"spectrum{where}: contains NaN or infinite values")
        if np.any(f <= 0):
            raise AnalysisError(f"spectrum{where}: frequencies must be positive")
        object.__setattr__(self, "frequency_hz", f)
        object.__setattr__(self, "z_ohm", z)

    @property
    def n_points(self) -> int:
        return int(self.frequency_hz.size)

    @classmethod
    def from_arrays(
        cls,
        frequency_hz: Any,
        z_real_ohm: Any,
        z_imag_ohm: Any,
        **kwargs: Any,
    ) -> Spectrum:
        """Build from separate real and imaginary arrays (signed Z'', capacitive < 0)."""
        re = np.asarray(z_real_ohm, dtype=float)
        im = np.asarray(z_imag_ohm, dtype=float)
        if re.shape != im.shape:
            src = kwargs.get("source", "")
            raise AnalysisError(
                f"spectrum {src}: z_real_ohm and z_imag_ohm differ in length "
                f"({re.size} vs {im.size})"
            )
        return cls(frequency_hz=frequency_hz, z_ohm=re + 1j * im, **kwargs)
