"""Impedance elements of equivalent circuits, registered by a decorator.

Each element is a vectorized function of its parameters (a list of arrays of shape (..., 1))
and the angular frequency omega (n_freq,) in rad/s, returning Z (..., n_freq) in ohm and the
derivative of Z with respect to each parameter. The ``element`` decorator records the
parameter count, units and default bounds, and refuses duplicate names (the idea of
impedance.py's ``@element(num_params=2, units=["Ohm", "sec"])``). Elements:

- R: Z = R                                  (Ohm)
- C: Z = 1 / (j omega C)                    (F)
- L: Z = j omega L                          (H)
- CPE: Z = 1 / (Q (j omega)^alpha)          (Q in Ohm^-1 s^a, alpha in (0, 1])
- W: Z = sigma (1 - j) / sqrt(omega)        (semi-infinite Warburg, sigma in Ohm s^-0.5)
- Wo: Z = Z0 coth(sqrt(j omega tau)) / sqrt(j omega tau)   (finite space, open/reflective)
- Ws: Z = Z0 tanh(sqrt(j omega tau)) / sqrt(j omega tau)   (finite length, short/transmissive)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from physics.errors import CircuitError

__all__ = [
    "CPE",
    "ELEMENTS",
    "EXPONENT",
    "POSITIVE",
    "C",
    "ElementFunc",
    "ElementSpec",
    "L",
    "R",
    "W",
    "Wo",
    "Ws",
    "element",
]

#: Parameter bounds used when an element gives none: any positive value.
POSITIVE: tuple[float, float] = (0.0, np.inf)
#: Bounds of a dispersion exponent such as the CPE alpha.
EXPONENT: tuple[float, float] = (0.0, 1.0)

# An element function takes (params list of arrays (..., 1), omega (n_freq,)) and returns
# (Z (..., n_freq) complex, [dZ/dp_k (..., n_freq) for each parameter k]).
ElementFunc = Callable[[list[np.ndarray], np.ndarray], tuple[np.ndarray, list[np.ndarray]]]


@dataclass(frozen=True)
class ElementSpec:
    """A registered circuit element type.

    Attributes:
        name: type prefix used in circuit strings (``"CPE"``).
        num_params: number of parameters.
        units: unit of each parameter.
        bounds: default (lower, upper) bound of each parameter; lower 0 means "positive".
        func: vectorized impedance and derivatives, see ``ElementFunc``.
        description: one-line formula.
    """

    name: str
    num_params: int
    units: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]
    func: ElementFunc
    description: str


#: Registry of element types by name prefix.
ELEMENTS: dict[str, ElementSpec] = {}


def element(
    num_params: int,
    units: Sequence[str],
    bounds: Sequence[tuple[float, float]] | None = None,
) -> Callable[[ElementFunc], ElementFunc]:
    """Register an element type under the name of the decorated function.

    Args:
        num_params: number of parameters of the element.
        units: one unit string per parameter.
        bounds: default (lower, upper) bounds per parameter; all positive when omitted.

    Raises:
        CircuitError: the name is taken, or units/bounds do not match ``num_params``.
    """

    def decorator(func: ElementFunc) -> ElementFunc:
        name = func.__name__
        if name in ELEMENTS:
            raise CircuitError(f"circuit element {name!r} is already registered")
        if not re.fullmatch(r"[A-Z][A-Za-z]*", name) or name == "p":
            raise CircuitError(f"element name {name!r} must be letters starting upper-case")
        if len(units) != num_params:
            raise CircuitError(
                f"element {name!r}: {len(units)} units given for {num_params} parameters"
            )
        bnds = tuple(bounds) if bounds is not None else (POSITIVE,) * num_params
        if len(bnds) != num_params:
            raise CircuitError(
                f"element {name!r}: {len(bnds)} bounds given for {num_params} parameters"
            )
        doc = (func.__doc__ or "").strip().splitlines()
        ELEMENTS[name] = ElementSpec(
            name, num_params, tuple(units), bnds, func, doc[0] if doc else name
        )
        return func

    return decorator


def _jomega(omega: np.ndarray) -> np.ndarray:
    return 1j * omega


@element(num_params=1, units=["Ohm"])
def R(p: list[np.ndarray], omega: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Resistor: Z = R."""
    z = p[0] + 0j * omega
    return z, [np.ones_like(z)]


@element(num_params=1, units=["F"])
def C(p: list[np.ndarray], omega: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Capacitor: Z = 1 / (j omega C)."""
    z = 1.0 / (_jomega(omega) * p[0])
    return z, [-z / p[0]]


@element(num_params=1, units=["H"])
def L(p: list[np.ndarray], omega: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Inductor: Z = j omega L."""
    z = _jomega(omega) * p[0]
    return z, [np.broadcast_to(_jomega(omega), z.shape)]


@element(num_params=2, units=["Ohm^-1 s^a", ""], bounds=[POSITIVE, EXPONENT])
def CPE(p: list[np.ndarray], omega: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Constant-phase element: Z = 1 / (Q (j omega)^alpha), Q = CPE_0, alpha = CPE_1."""
    q, a = p
    log_w = np.log(omega)
    # (j omega)^-a = omega^-a exp(-j a pi/2): a real power times a phase per parameter set
    phase = np.cos(0.5 * np.pi * a) - 1j * np.sin(0.5 * np.pi * a)
    z = (np.exp(-a * log_w) / q) * phase
    return z, [-z / q, -z * (log_w + 0.5j * np.pi)]  # dZ/dalpha = -Z ln(j omega)


@element(num_params=1, units=["Ohm s^-0.5"])
def W(p: list[np.ndarray], omega: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Semi-infinite Warburg: Z = sigma (1 - j) / sqrt(omega) = sigma sqrt(2 / (j omega))."""
    base = (1 - 1j) / np.sqrt(omega)
    z = p[0] * base
    return z, [np.broadcast_to(base, z.shape)]


def _finite_warburg(p: list[np.ndarray], omega: np.ndarray, short: bool) -> tuple:
    z0, tau = p
    x = np.sqrt(_jomega(omega) * tau)
    t = np.tanh(x)
    if short:  # Ws: g = tanh(x) / x, dg/dx = (sech^2 x * x - tanh x) / x^2
        g = t / x
        dg = ((1 - t * t) * x - t) / (x * x)
    else:  # Wo: g = coth(x) / x, dg/dx = (-csch^2 x * x - coth x) / x^2
        ct = 1.0 / t
        g = ct / x
        dg = (-(ct * ct - 1) * x - ct) / (x * x)
    z = z0 * g
    return z, [g + 0j * z, z0 * dg * x / (2 * tau)]


@element(num_params=2, units=["Ohm", "sec"])
def Wo(p: list[np.ndarray], omega: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Finite-space (open, reflective) Warburg: Z = Z0 coth(sqrt(j omega tau)) / sqrt(j omega tau)."""
    return _finite_warburg(p, omega, short=False)


@element(num_params=2, units=["Ohm", "sec"])
def Ws(p: list[np.ndarray], omega: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Finite-length (short, transmissive) Warburg: Z = Z0 tanh(sqrt(j omega tau)) / sqrt(j omega tau)."""
    return _finite_warburg(p, omega, short=True)
