"""Equivalent circuits for impedance spectra: a string parser and a tree of callables.

Circuits are written the way impedance.py writes them: elements joined in series with ``-``,
parallel branches as ``p(a,b,...)``, nesting allowed, e.g. ``R0-p(R1,CPE1)-p(R2,CPE2)-CPE3``.
An element name is its type (``R``, ``C``, ``L``, ``CPE``, ``W``, ``Wo``, ``Ws``; see
:mod:`physics.eis.elements`) followed by a number. The string is parsed into a tree of vectorized
callables (no ``eval``), which evaluates many frequencies and many parameter sets at once,
together with the analytic derivatives of Z with respect to every parameter (used by the
fitting in :mod:`physics.eis.fitting`).

Parameter names follow impedance.py: a one-parameter element is named by itself (``R0``, ``L0``),
the parameters of a multi-parameter element get an index (``CPE1_0`` = Q, ``CPE1_1`` = alpha).
Parameters are ordered as their elements appear in the string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from physics.eis.elements import ELEMENTS, ElementSpec, element
from physics.errors import CircuitError

__all__ = ["ELEMENTS", "Circuit", "ElementSpec", "element"]


@dataclass
class _Leaf:
    kind: str  # element type, e.g. "CPE"
    label: str  # instance name, e.g. "CPE1"
    start: int  # index of its first parameter
    spec: ElementSpec

    def __str__(self) -> str:
        return self.label

    def evaluate(self, params: np.ndarray, omega: np.ndarray) -> tuple[np.ndarray, list]:
        cols = [
            params[..., self.start + k : self.start + k + 1] for k in range(self.spec.num_params)
        ]
        z, dz = self.spec.func(cols, omega)
        return z, [(self.start + k, d) for k, d in enumerate(dz)]


@dataclass
class _Series:
    children: list[Any]

    def __str__(self) -> str:
        return "-".join(str(c) for c in self.children)

    def evaluate(self, params: np.ndarray, omega: np.ndarray) -> tuple[np.ndarray, list]:
        """Series: Z = sum_i Z_i, dZ/dp = dZ_i/dp for p in child i."""
        total, derivs = self.children[0].evaluate(params, omega)
        for child in self.children[1:]:
            z, d = child.evaluate(params, omega)
            total = total + z
            derivs = derivs + d
        return total, derivs


@dataclass
class _Parallel:
    children: list[Any]

    def __str__(self) -> str:
        return "p(" + ",".join(str(c) for c in self.children) + ")"

    def evaluate(self, params: np.ndarray, omega: np.ndarray) -> tuple[np.ndarray, list]:
        """Parallel: Z = 1 / sum_i (1 / Z_i), dZ/dp = (Z / Z_i)^2 dZ_i/dp for p in child i."""
        kinds = [getattr(c, "kind", None) for c in self.children]
        if sorted(kinds, key=str) == ["CPE", "R"]:
            return self._zarc(params, omega, kinds.index("R"), kinds.index("CPE"))
        parts = [child.evaluate(params, omega) for child in self.children]
        admittance = sum(1.0 / z for z, _ in parts)
        z_total = 1.0 / admittance
        derivs: list[tuple[int, np.ndarray]] = []
        for z, d in parts:
            scale = (z_total / z) ** 2
            derivs.extend((k, scale * dk) for k, dk in d)
        return z_total, derivs

    def _zarc(self, params: np.ndarray, omega: np.ndarray, i_r: int, i_q: int) -> tuple:
        """Fast path for p(R,CPE), the same values in fewer array operations.

        Z = R / D with D = 1 + R Q (j omega)^alpha; dZ/dR = (Z/R)^2, dZ/dQ = -Z^2 (j omega)^alpha,
        dZ/dalpha = -Z^2 Q (j omega)^alpha ln(j omega).
        """
        k_r, k_q = self.children[i_r].start, self.children[i_q].start
        r = params[..., k_r : k_r + 1]
        q = params[..., k_q : k_q + 1]
        a = params[..., k_q + 1 : k_q + 2]
        log_w = np.log(omega)
        jwa = np.exp(a * log_w) * (np.cos(0.5 * np.pi * a) + 1j * np.sin(0.5 * np.pi * a))
        z = r / (1 + (r * q) * jwa)
        z2 = z * z
        d_q = -z2 * jwa
        derivs = [(k_r, z2 / (r * r)), (k_q, d_q), (k_q + 1, (d_q * q) * (log_w + 0.5j * np.pi))]
        return z, derivs


_TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z]+\d+)|(?P<p>p\()|(?P<sym>[-,()])|(?P<bad>\S))")


class _Parser:
    """Recursive-descent parser: series := term ('-' term)*; term := 'p(' series (',' series)+ ')' | NAME."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None:  # only trailing whitespace is left
                break
            kind = m.lastgroup or "bad"
            value = m.group(kind)
            if kind == "bad" and value.isalpha():
                raise CircuitError(
                    f"circuit {text!r}: element name at position {m.start(kind)} needs a "
                    "type and a number, e.g. R0 or CPE1"
                )
            if kind == "bad":
                raise CircuitError(
                    f"circuit {text!r}: unexpected character {value!r} at position {m.start(kind)}"
                )
            self.tokens.append((kind, value, m.start(kind)))
            pos = m.end()
        self.i = 0
        self.leaves: list[_Leaf] = []
        self.n_params = 0

    def _peek(self) -> tuple[str, str, int]:
        if self.i < len(self.tokens):
            return self.tokens[self.i]
        return ("end", "end of string", len(self.text))

    def _fail(self, expected: str) -> CircuitError:
        _kind, value, pos = self._peek()
        return CircuitError(
            f"circuit {self.text!r}: expected {expected} at position {pos}, got {value!r}"
        )

    def parse(self) -> Any:
        if not self.tokens:
            raise CircuitError("circuit string is empty")
        tree = self.series()
        if self.i != len(self.tokens):
            raise self._fail("'-', ',' or end of string")
        return tree

    def series(self) -> Any:
        items = [self.term()]
        while self._peek()[1] == "-":
            self.i += 1
            items.append(self.term())
        flat: list[Any] = []
        for item in items:
            flat.extend(item.children if isinstance(item, _Series) else [item])
        return flat[0] if len(flat) == 1 else _Series(flat)

    def term(self) -> Any:
        kind, value, pos = self._peek()
        if kind == "p":
            self.i += 1
            branches = [self.series()]
            while self._peek()[1] == ",":
                self.i += 1
                branches.append(self.series())
            if self._peek()[1] != ")":
                raise self._fail("',' or ')'")
            self.i += 1
            if len(branches) < 2:
                raise CircuitError(
                    f"circuit {self.text!r}: p(...) at position {pos} needs at least two "
                    "branches separated by ','"
                )
            return _Parallel(branches)
        if kind == "name":
            self.i += 1
            etype = value.rstrip("0123456789")
            if etype not in ELEMENTS:
                raise CircuitError(
                    f"circuit {self.text!r}: unknown element {etype!r} in {value!r} at position "
                    f"{pos}; valid elements: {', '.join(sorted(ELEMENTS))}"
                )
            if any(leaf.label == value for leaf in self.leaves):
                raise CircuitError(
                    f"circuit {self.text!r}: element name {value!r} is used twice "
                    f"(second time at position {pos})"
                )
            leaf = _Leaf(etype, value, self.n_params, ELEMENTS[etype])
            self.leaves.append(leaf)
            self.n_params += leaf.spec.num_params
            return leaf
        raise self._fail("an element name such as R0 or 'p('")


class Circuit:
    """An equivalent circuit parsed from an impedance.py-style string.

    Attributes:
        param_names: parameter names in string order, e.g. ``['R0', 'CPE1_0', 'CPE1_1']``.
        param_units: unit of each parameter.
        param_bounds: default (lower, upper) bound of each parameter.
        elements: instance names of the elements in string order (``['R0', 'CPE1']``).
    """

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise CircuitError(f"circuit must be a string, got {type(text).__name__}")
        parser = _Parser(text)
        self._tree = parser.parse()
        self._leaves = parser.leaves
        self.elements: list[str] = [leaf.label for leaf in self._leaves]
        self.element_types: list[str] = [leaf.kind for leaf in self._leaves]
        self.param_names: list[str] = []
        self.param_units: list[str] = []
        self.param_bounds: list[tuple[float, float]] = []
        for leaf in self._leaves:
            spec = leaf.spec
            for k in range(spec.num_params):
                suffix = "" if spec.num_params == 1 else f"_{k}"
                self.param_names.append(leaf.label + suffix)
                self.param_units.append(spec.units[k])
                self.param_bounds.append(spec.bounds[k])

    @property
    def n_params(self) -> int:
        return len(self.param_names)

    @property
    def tree(self) -> Any:
        """The parsed tree (leaves, series and parallel nodes); read-only use."""
        return self._tree

    def __str__(self) -> str:
        return str(self._tree)

    def __repr__(self) -> str:
        return f"Circuit({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Circuit) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def params_array(self, params: Mapping[str, Any] | Any) -> np.ndarray:
        """Turn a dict name -> value (scalars or arrays) or an array into shape (..., n_params).

        Raises:
            CircuitError: missing, unknown or wrong number of parameters.
        """
        if isinstance(params, Mapping):
            missing = [n for n in self.param_names if n not in params]
            extra = [n for n in params if n not in self.param_names]
            if missing or extra:
                raise CircuitError(
                    f"circuit {self}: parameters missing {missing}, unknown {extra}; "
                    f"expected {self.param_names}"
                )
            cols = np.broadcast_arrays(
                *[np.asarray(params[n], dtype=float) for n in self.param_names]
            )
            return np.stack(cols, axis=-1)
        arr = np.asarray(params, dtype=float)
        if arr.ndim == 0 or arr.shape[-1] != self.n_params:
            raise CircuitError(
                f"circuit {self} has {self.n_params} parameters {self.param_names}, "
                f"got an array of shape {arr.shape}"
            )
        return arr

    def _omega(self, frequency_hz: Any) -> np.ndarray:
        f = np.asarray(frequency_hz, dtype=float)
        if f.ndim != 1:
            raise CircuitError(f"frequency_hz must be 1-D, got shape {f.shape}")
        return 2 * np.pi * f

    def impedance(self, frequency_hz: Any, params: Mapping[str, Any] | Any) -> np.ndarray:
        """Impedance of the circuit.

        Args:
            frequency_hz: shape (n_freq,), Hz.
            params: shape (..., n_params) in the units of ``param_units``, or a dict name -> value.

        Returns:
            Complex Z in ohm, shape (..., n_freq).
        """
        p = self.params_array(params)
        z, _ = self._tree.evaluate(p, self._omega(frequency_hz))
        return np.broadcast_to(z, (*p.shape[:-1], np.size(frequency_hz))).copy()

    def impedance_and_jacobian(
        self, frequency_hz: Any, params: Any, *, params_last: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Impedance and its analytic derivatives with respect to each (linear) parameter.

        Args:
            frequency_hz: shape (n_freq,), Hz.
            params: shape (..., n_params).
            params_last: layout of the Jacobian, see Returns.

        Returns:
            Z (..., n_freq) complex, and dZ/dp complex, shape (..., n_freq, n_params), or
            (..., n_params, n_freq) with ``params_last=False`` (contiguous per parameter).
        """
        p = self.params_array(params)
        z, derivs = self._tree.evaluate(p, self._omega(frequency_hz))
        shape = (*p.shape[:-1], np.size(frequency_hz))
        jac = np.zeros((*p.shape[:-1], self.n_params, np.size(frequency_hz)), dtype=complex)
        for k, d in derivs:
            jac[..., k, :] += d
        z = np.broadcast_to(z, shape).copy()
        return (z, np.swapaxes(jac, -1, -2)) if params_last else (z, jac)

    def top_level(self) -> list[Any]:
        """The series components at the top level of the tree (one item for a lone element)."""
        return list(self._tree.children) if isinstance(self._tree, _Series) else [self._tree]
