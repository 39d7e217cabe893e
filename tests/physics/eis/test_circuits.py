"""Tests of physics.eis.circuits: element values, parsing, round trips, errors, vectorization."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from physics.eis.circuits import ELEMENTS, Circuit, element
from physics.errors import CircuitError

W1 = 1 / (2 * np.pi)  # frequency (Hz) at which omega = 1 rad/s


def z_of(text: str, params, f_hz=W1) -> complex:
    return complex(Circuit(text).impedance(np.array([f_hz]), np.array(params, dtype=float))[0])


# ------------------------------------------------------------------ golden values per element


def test_resistor_is_real_and_frequency_independent():
    z = Circuit("R0").impedance(np.array([1e-3, 1.0, 1e6]), [47.0])
    np.testing.assert_allclose(z, [47.0, 47.0, 47.0])


def test_capacitor_at_omega_one():
    # Z = 1 / (j omega C) = -1000 j ohm for C = 1 mF at omega = 1
    assert z_of("C0", [1e-3]) == pytest.approx(-1000j)


def test_inductor_at_omega_1000():
    # Z = j omega L = 2 j ohm for L = 2 mH at omega = 1000
    assert z_of("L0", [2e-3], f_hz=1000 * W1) == pytest.approx(2j)


def test_cpe_with_alpha_one_equals_capacitor():
    f = np.logspace(-2, 6, 30)
    z_cpe = Circuit("CPE1").impedance(f, [3e-6, 1.0])
    z_c = Circuit("C1").impedance(f, [3e-6])
    np.testing.assert_allclose(z_cpe, z_c, rtol=1e-12)


def test_cpe_half_exponent_value():
    # Z = 1 / (Q sqrt(j omega)); omega = 4, Q = 0.5 -> 1 / (0.5 * 2 * e^{j pi/4}) = e^{-j pi/4}
    assert z_of("CPE1", [0.5, 0.5], f_hz=4 * W1) == pytest.approx(np.exp(-0.25j * np.pi))


def test_semi_infinite_warburg_value():
    # Z = sigma (1 - j) / sqrt(omega); sigma = 10, omega = 4 -> 5 - 5j
    assert z_of("W1", [10.0], f_hz=4 * W1) == pytest.approx(5 - 5j)


def test_finite_warburg_open_limits():
    z0, tau = 20.0, 2.0
    # low frequency: Z -> Z0 / (j omega tau) + Z0 / 3 (capacitive, real part Z0/3)
    z_low = z_of("Wo1", [z0, tau], f_hz=1e-5 * W1)
    assert z_low.real == pytest.approx(z0 / 3, rel=1e-4)
    assert z_low.imag == pytest.approx(-z0 / (1e-5 * tau), rel=1e-4)
    # high frequency: Z -> Z0 / sqrt(j omega tau)
    z_high = z_of("Wo1", [z0, tau], f_hz=1e6 * W1)
    assert z_high == pytest.approx(z0 / np.sqrt(1j * 1e6 * tau), rel=1e-6)


def test_finite_warburg_short_limits():
    z0, tau = 20.0, 2.0
    assert z_of("Ws1", [z0, tau], f_hz=1e-7 * W1) == pytest.approx(z0, rel=1e-6)
    z_high = z_of("Ws1", [z0, tau], f_hz=1e6 * W1)
    assert z_high == pytest.approx(z0 / np.sqrt(1j * 1e6 * tau), rel=1e-6)


def test_parallel_rc_formula():
    # Z = R / (1 + j omega R C)
    f = np.logspace(-1, 6, 15)
    r, c = 150.0, 2e-7
    z = Circuit("p(R1,C1)").impedance(f, [r, c])
    np.testing.assert_allclose(z, r / (1 + 1j * 2 * np.pi * f * r * c), rtol=1e-12)


def test_zarc_fast_path_matches_formula_and_generic_composition():
    # p(R,CPE) has its own code path: Z = R / (1 + R Q (j omega)^alpha)
    f = np.logspace(-1, 6, 15)
    r, q, a = 800.0, 3e-7, 0.83
    expected = r / (1 + r * q * (1j * 2 * np.pi * f) ** a)
    np.testing.assert_allclose(Circuit("p(R1,CPE1)").impedance(f, [r, q, a]), expected, rtol=1e-12)
    np.testing.assert_allclose(Circuit("p(CPE1,R1)").impedance(f, [q, a, r]), expected, rtol=1e-12)
    # the generic parallel rule, through a third branch that carries no current
    generic = Circuit("p(R1,CPE1,R2)").impedance(f, [r, q, a, 1e30])
    np.testing.assert_allclose(generic, expected, rtol=1e-12)


def test_series_adds():
    f = np.array([10.0, 1e4])
    z = Circuit("R0-C1-L2").impedance(f, [5.0, 1e-6, 1e-5])
    w = 2 * np.pi * f
    np.testing.assert_allclose(z, 5 + 1 / (1j * w * 1e-6) + 1j * w * 1e-5)


def test_matches_impedance_py():
    circuits = pytest.importorskip("impedance.models.circuits")
    f = np.logspace(6, -1, 40)
    for text, p in [
        ("R0-p(R1,CPE1)-p(R2,CPE2)-CPE3", [50, 100, 1e-9, 0.8, 1e3, 1e-5, 0.9, 1e-4, 0.95]),
        ("L0-R0-p(R1-Wo1,C1)-Ws1-W1", [1e-7, 10, 100, 50, 0.1, 1e-6, 20, 3.0, 30]),
    ]:
        ref = circuits.CustomCircuit(text, initial_guess=p, constants={})
        z_ref = ref.predict(f, use_initial=True)
        np.testing.assert_allclose(Circuit(text).impedance(f, p), z_ref, rtol=1e-10)


# ------------------------------------------------------------------ names, shapes, Jacobian


def test_parameter_names_and_units():
    c = Circuit("R0-p(R1,CPE1)-p(R2,CPE2)")
    assert c.param_names == ["R0", "R1", "CPE1_0", "CPE1_1", "R2", "CPE2_0", "CPE2_1"]
    assert c.param_units == ["Ohm", "Ohm", "Ohm^-1 s^a", "", "Ohm", "Ohm^-1 s^a", ""]
    assert Circuit("L0-Wo1").param_names == ["L0", "Wo1_0", "Wo1_1"]


def test_vectorized_over_parameter_sets_and_dict_input():
    c = Circuit("R0-p(R1,CPE1)")
    f = np.logspace(5, 0, 11)
    rng = np.random.default_rng(0)
    p = np.stack(
        [rng.uniform(10, 100, (4, 3)), rng.uniform(100, 1e3, (4, 3)),
         rng.uniform(1e-7, 1e-6, (4, 3)), rng.uniform(0.7, 1, (4, 3))], axis=-1,
    )  # fmt: skip
    z = c.impedance(f, p)
    assert z.shape == (4, 3, 11) and z.dtype == complex
    np.testing.assert_allclose(z[2, 1], c.impedance(f, p[2, 1]))
    as_dict = dict(zip(c.param_names, np.moveaxis(p, -1, 0), strict=True))
    np.testing.assert_allclose(c.impedance(f, as_dict), z)


def test_jacobian_matches_finite_differences():
    c = Circuit("L0-R0-p(R1,CPE1)-p(R2-Wo1,C1)-Ws1-W1")
    f = np.logspace(6, -1, 20)
    p = np.array([1e-7, 30, 200, 1e-8, 0.8, 100, 40, 0.5, 1e-5, 25, 2.0, 15.0])
    z, jac = c.impedance_and_jacobian(f, p)
    for k in range(p.size):
        h = p.copy()
        h[k] *= 1 + 1e-7
        num = (c.impedance(f, h) - z) / (p[k] * 1e-7)
        np.testing.assert_allclose(jac[:, k], num, rtol=1e-4, atol=1e-6 * np.abs(num).max())


# ------------------------------------------------------------------ parsing and round trips


def test_whitespace_and_canonical_string():
    c = Circuit(" R0 - p( R1 , CPE1 ) -p(R2,CPE2)")
    assert str(c) == "R0-p(R1,CPE1)-p(R2,CPE2)"
    assert Circuit(str(c)) == c


def test_nested_parallel_and_series_inside_parallel():
    text = "R0-p(R1-p(R2,C2),CPE1)-p(p(R3,C3),L1)"
    assert str(Circuit(text)) == text


@st.composite
def circuit_trees(draw, depth=0):
    """A random circuit as a nested structure: ('s', [...]), ('p', [...]) or element type."""
    kinds = sorted(ELEMENTS)
    if depth >= 3 or draw(st.booleans()):
        return draw(st.sampled_from(kinds))
    op = draw(st.sampled_from(["s", "p"]))
    n = draw(st.integers(2, 3))
    return (op, [draw(circuit_trees(depth=depth + 1)) for _ in range(n)])


def render(tree, counter) -> str:
    if isinstance(tree, str):
        return f"{tree}{next(counter)}"
    op, kids = tree
    parts = [render(k, counter) for k in kids]
    return "-".join(parts) if op == "s" else "p(" + ",".join(parts) + ")"


@settings(max_examples=150, deadline=None)
@given(circuit_trees())
def test_round_trip_string_tree_string(tree):
    text = render(tree, itertools.count())
    c = Circuit(text)
    again = Circuit(str(c))
    assert str(again) == str(c)
    assert again.param_names == c.param_names
    # canonical form: series inside series are flattened, so the text survives unless it had
    # a series directly inside a series (impossible in a rendered string) -> equal
    assert str(c) == text


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("R0-", "position 3"),
        ("R0--R1", "position 3"),
        ("p(R0)", "at least two branches"),
        ("p(R0,R1", "expected ',' or ')'"),
        ("R0-p(R1,C1))", "position 11"),
        ("R0 $ R1", "unexpected character '$' at position 3"),
        ("", "empty"),
        ("R", "position 0"),
        ("R0-Cx", "needs a type and a number"),
    ],
)
def test_bad_strings_name_the_position(text, fragment):
    with pytest.raises(
        CircuitError, match=fragment.replace("(", r"\(").replace(")", r"\)").replace("$", r"\$")
    ):
        Circuit(text)


def test_unknown_element_lists_valid_ones():
    with pytest.raises(
        CircuitError, match=r"unknown element 'X'.*valid elements: C, CPE, L, R, W, Wo, Ws"
    ):
        Circuit("R0-X1")


def test_duplicate_element_name():
    with pytest.raises(CircuitError, match="'R1' is used twice"):
        Circuit("R1-p(R1,C1)")


def test_wrong_parameter_count_and_names():
    c = Circuit("R0-p(R1,CPE1)")
    with pytest.raises(CircuitError, match="4 parameters"):
        c.impedance([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(CircuitError, match=r"missing \['CPE1_1'\]"):
        c.impedance([1.0], {"R0": 1, "R1": 2, "CPE1_0": 1e-6})


def test_registry_refuses_duplicates():
    with pytest.raises(CircuitError, match="already registered"):

        @element(num_params=1, units=["Ohm"])
        def R(p, omega):
            return p[0], [p[0]]


def test_registry_checks_units_count():
    with pytest.raises(CircuitError, match="2 units given for 1 parameters"):

        @element(num_params=1, units=["Ohm", "F"])
        def Zz(p, omega):
            return p[0], [p[0]]

    assert "Zz" not in ELEMENTS
