"""Digital twin of the lab: raw measurement data generated from a pellet's true properties.

The truth (a pellet's conductivities, electronic fraction, interface resistance, CCD...)
comes from a landscape (``experiments.worlds.landscapes``); this module turns it into the raw
arrays a cycler service returns, with noise and instrument artefacts, so the analysis code
has real work to do. The formulas are written here independently of ``physics.eis.circuits``,
which makes the twin an independent check of the analysis.

Hidden measurement parameters (CPE exponents, arc apex frequencies, lead inductance, decay
times, where in a step a cell shorts) are drawn per pellet from the generator passed in, so
a result is a deterministic function of (pellet, generator seed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from physics.constants import BOLTZMANN_EV_PER_K, CELSIUS_TO_KELVIN

__all__ = [
    "BLOCKING_TEMPERATURES_C",
    "CcdSettings",
    "Hidden",
    "PelletLike",
    "arrhenius_factor",
    "blocking_impedance",
    "ccd_staircase",
    "dc_polarization",
    "dc_times_s",
    "eis_frequencies_hz",
    "measure",
    "symmetric_impedance",
]

BLOCKING_TEMPERATURES_C: tuple[float, ...] = (25.0, 40.0, 60.0)
_ROOM_C = 25.0
_EIS_NOISE = 0.007  # relative to |Z|, on real and imaginary parts each
_DC_VOLTAGE_V = 0.5


class PelletLike(Protocol):
    """What the twin needs of a pellet (``experiments.worlds.landscapes.Pellet``)."""

    thickness_cm: float
    area_cm2: float
    bulk_density_g_cm3: float
    sigma_bulk_ms_cm: float
    sigma_gb_ms_cm: float
    activation_energy_ev: float
    electronic_fraction: float
    r_int_ohm_cm2: float
    ccd_ma_cm2: float


@dataclass(frozen=True)
class CcdSettings:
    """The CCD staircase: current densities in mA/cm2, times in s."""

    start_ma_cm2: float = 0.05
    step_ma_cm2: float = 0.05
    max_ma_cm2: float = 1.0
    cycles_per_step: int = 5
    half_cycle_s: float = 1800.0
    sample_every_s: float = 60.0

    @property
    def steps_ma_cm2(self) -> np.ndarray:
        """Current density of every step, shape (n_steps,)."""
        n = round((self.max_ma_cm2 - self.start_ma_cm2) / self.step_ma_cm2) + 1
        return np.round(self.start_ma_cm2 + self.step_ma_cm2 * np.arange(n), 10)


@dataclass(frozen=True)
class Hidden:
    """Per-pellet measurement parameters that the landscape does not set."""

    lead_inductance_h: float
    gb_apex_hz: float
    gb_exponent: float
    dl_q: float
    dl_exponent: float
    int_apex_hz: float
    int_exponent: float
    decay_tau_s: tuple[float, float]
    decay_weight: float
    pol_fraction: float
    pol_tau_s: float
    short_at: float
    short_asr_ohm_cm2: float

    @classmethod
    def draw(cls, rng: np.random.Generator) -> Hidden:
        """Draw every parameter (always the same number of draws, in the same order)."""
        u = rng.uniform(size=13)
        return cls(
            lead_inductance_h=1e-7 * (0.7 + 0.6 * u[0]),
            gb_apex_hz=10 ** (5.0 + 1.0 * u[1]),
            gb_exponent=0.85 + 0.1 * u[2],
            dl_q=2e-6 * 10 ** (u[3] - 0.5),
            dl_exponent=0.85 + 0.08 * u[4],
            int_apex_hz=10 ** (1.5 + 1.5 * u[5]),
            int_exponent=0.85 + 0.1 * u[6],
            decay_tau_s=(10.0 + 50.0 * u[7], 200.0 + 500.0 * u[8]),
            decay_weight=0.3 + 0.4 * u[9],
            pol_fraction=0.1 + 0.3 * u[10],
            pol_tau_s=200.0 + 400.0 * u[11],
            short_at=0.1 + 0.8 * u[12],
            short_asr_ohm_cm2=2.0 + 3.0 * rng.uniform(),
        )


def eis_frequencies_hz() -> np.ndarray:
    """7 MHz down to 1 Hz, 70 points (about 10 per decade), descending."""
    return np.geomspace(7e6, 1.0, 70)


def dc_times_s() -> np.ndarray:
    """0.1 s, then 1 s to 7200 s logarithmically: 200 points."""
    return np.concatenate([[0.1], np.geomspace(1.0, 7200.0, 199)])


def arrhenius_factor(activation_energy_ev: float, temperature_c: float) -> float:
    """sigma(T) / sigma(25 C) for sigma * T = A * exp(-Ea / (kB * T)).

    sigma(T) / sigma(T0) = (T0 / T) * exp(-Ea / kB * (1/T - 1/T0)), T in kelvin.
    """
    t_k = temperature_c + CELSIUS_TO_KELVIN
    t0_k = _ROOM_C + CELSIUS_TO_KELVIN
    return (t0_k / t_k) * float(
        np.exp(-activation_energy_ev / BOLTZMANN_EV_PER_K * (1 / t_k - 1 / t0_k))
    )


def _cpe_q(r_ohm: float, apex_hz: float, exponent: float) -> float:
    """Q of an R||CPE arc with its apex at ``apex_hz``: Q = (1 / (2 pi f))^a / R."""
    return (1.0 / (2 * np.pi * apex_hz)) ** exponent / r_ohm


def _rq(r_ohm: float, q: float, exponent: float, jw: np.ndarray) -> np.ndarray:
    """R || CPE: Z = R / (1 + R Q (j w)^a)."""
    return r_ohm / (1 + r_ohm * q * jw**exponent)


def blocking_impedance(
    frequency_hz: np.ndarray, rb_ohm: float, rgb_ohm: float, hidden: Hidden, q_gb: float
) -> np.ndarray:
    """Au|pellet|Au: Z = j w L + Rb + Rgb / (1 + Rgb Qgb (j w)^a_gb) + 1 / (Qdl (j w)^a_dl)."""
    jw = 2j * np.pi * frequency_hz
    return (
        jw * hidden.lead_inductance_h
        + rb_ohm
        + _rq(rgb_ohm, q_gb, hidden.gb_exponent, jw)
        + 1.0 / (hidden.dl_q * jw**hidden.dl_exponent)
    )


def symmetric_impedance(
    frequency_hz: np.ndarray,
    rb_ohm: float,
    rgb_ohm: float,
    rint_ohm: float,
    hidden: Hidden,
    q_gb: float,
) -> np.ndarray:
    """Na|pellet|Na: Z = j w L + Rb + Rgb || CPE_gb + Rint || CPE_int."""
    jw = 2j * np.pi * frequency_hz
    q_int = _cpe_q(rint_ohm, hidden.int_apex_hz, hidden.int_exponent)
    return (
        jw * hidden.lead_inductance_h
        + rb_ohm
        + _rq(rgb_ohm, q_gb, hidden.gb_exponent, jw)
        + _rq(rint_ohm, q_int, hidden.int_exponent, jw)
    )


def _resistances_ohm(pellet: PelletLike, temperature_c: float = _ROOM_C) -> tuple[float, float]:
    """Rb = L / (sigma_bulk A), Rgb = L / (sigma_gb A), sigma in S/cm, at ``temperature_c``."""
    factor = arrhenius_factor(pellet.activation_energy_ev, temperature_c)
    geometry = pellet.thickness_cm / pellet.area_cm2
    rb = geometry / (pellet.sigma_bulk_ms_cm * 1e-3 * factor)
    rgb = geometry / (pellet.sigma_gb_ms_cm * 1e-3 * factor)
    return rb, rgb


def _noisy(z: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    scale = _EIS_NOISE * np.abs(z)
    return z.real + scale * rng.standard_normal(z.size), z.imag + scale * rng.standard_normal(
        z.size
    )


def dc_polarization(pellet: PelletLike, hidden: Hidden, rng: np.random.Generator) -> dict[str, Any]:
    """Current after a step of 0.5 V on Au|pellet|Au at 25 C.

    I(t) = Iss + (I0 - Iss) (w exp(-t/tau1) + (1 - w) exp(-t/tau2)), with
    I0 = V / R_total, R_total = (Rb + Rgb)(1 - t_e) (ions and electrons in parallel) and
    Iss = t_e I0; noise 0.5 % of I plus 0.1 nA.
    """
    rb, rgb = _resistances_ohm(pellet)
    t_e = min(max(float(pellet.electronic_fraction), 0.0), 0.99)
    i0 = _DC_VOLTAGE_V / ((rb + rgb) * (1.0 - t_e))
    iss = t_e * i0
    t = dc_times_s()
    (tau1, tau2), w = hidden.decay_tau_s, hidden.decay_weight
    current = iss + (i0 - iss) * (w * np.exp(-t / tau1) + (1 - w) * np.exp(-t / tau2))
    current = current * (1 + 0.005 * rng.standard_normal(t.size)) + 1e-10 * rng.standard_normal(
        t.size
    )
    return {"voltage_v": _DC_VOLTAGE_V, "time_s": t, "current_a": current}


def ccd_staircase(
    pellet: PelletLike, hidden: Hidden, rng: np.random.Generator, settings: CcdSettings
) -> dict[str, Any]:
    """Galvanostatic Na plating/stripping with rising current density.

    Before a short: V = sign(I) (|I| ASR + |I| r_pol (1 - exp(-t_half / tau))), I in A/cm2,
    ASR = (Rb + Rgb) A + r_int in ohm cm2, t_half the time into the half cycle. The first
    step whose current density exceeds the pellet's CCD shorts a fraction ``short_at`` of
    the way through: from there V = sign(I) |I| r_short (a few ohm cm2) plus 1 mV noise,
    and the record stops at the end of that step. A pellet whose CCD is at or above the
    last step survives the whole staircase (right-censored).
    """
    rb, rgb = _resistances_ohm(pellet)
    asr = (rb + rgb) * pellet.area_cm2 + pellet.r_int_ohm_cm2
    per_half = round(settings.half_cycle_s / settings.sample_every_s)
    per_step = per_half * 2 * settings.cycles_per_step
    j = np.arange(per_step)
    t_half = (j % per_half) * settings.sample_every_s
    sign = np.where((j // per_half) % 2 == 0, 1.0, -1.0)
    times, currents, volts = [], [], []
    for k, i_ma in enumerate(settings.steps_ma_cm2):
        i_a = i_ma * 1e-3
        v = (
            sign
            * i_a
            * (asr + asr * hidden.pol_fraction * (1 - np.exp(-t_half / hidden.pol_tau_s)))
        )
        v = v * (1 + 0.005 * rng.standard_normal(per_step)) + 3e-4 * rng.standard_normal(per_step)
        shorted = i_ma > pellet.ccd_ma_cm2 * (1 + 1e-9)
        if shorted:
            start = int(hidden.short_at * per_step)
            v[start:] = sign[start:] * i_a * hidden.short_asr_ohm_cm2 + 1e-3 * rng.standard_normal(
                per_step - start
            )
        times.append((k * per_step + j) * settings.sample_every_s)
        currents.append(sign * i_ma)
        volts.append(v)
        if shorted:
            break
    return {
        "start_ma_cm2": settings.start_ma_cm2,
        "step_ma_cm2": settings.step_ma_cm2,
        "max_ma_cm2": settings.max_ma_cm2,
        "cycles_per_step": settings.cycles_per_step,
        "half_cycle_s": settings.half_cycle_s,
        "time_s": np.concatenate(times),
        "current_ma_cm2": np.concatenate(currents),
        "voltage_v": np.concatenate(volts),
    }


def _round6(values: Any) -> Any:
    """Arrays to lists of floats with 6 significant digits (like an instrument export)."""
    if isinstance(values, np.ndarray):
        return [float(f"{v:.6g}") for v in values.tolist()]
    return values


def measure(
    pellet: PelletLike,
    protocols: Sequence[str],
    rng: np.random.Generator,
    settings: CcdSettings | None = None,
    hidden: Hidden | None = None,
) -> list[dict[str, Any]]:
    """The measurements of ``protocols`` on ``pellet``, in the protocol's canonical order.

    Hidden parameters are drawn first and each protocol gets its own child generator, so
    a pellet's data do not depend on which other protocols were asked for. A later job on
    the same pellet passes the pellet's ``hidden`` parameters (drawn by its first job) and
    a new generator: the same cell, new noise.

    Args:
        pellet: The pellet's true properties.
        protocols: Protocol names to measure.
        rng: Generator for hidden parameters (unless given) and noise.
        settings: CCD staircase settings (defaults as in the protocol's example).
        hidden: The pellet's hidden parameters; drawn from ``rng`` when None.

    Returns:
        Measurement dicts as in the protocol's Result section (arrays as lists).
    """
    settings = settings or CcdSettings()
    hidden = hidden if hidden is not None else Hidden.draw(rng)
    rng_blocking, rng_dc, rng_sym, rng_ccd = rng.spawn(4)
    rb25, rgb25 = _resistances_ohm(pellet)
    q_gb = _cpe_q(rgb25, hidden.gb_apex_hz, hidden.gb_exponent)
    freq = eis_frequencies_hz()
    out: list[dict[str, Any]] = []
    if "eis_blocking" in protocols:
        for temp_c in BLOCKING_TEMPERATURES_C:
            rb, rgb = _resistances_ohm(pellet, temp_c)
            re, im = _noisy(blocking_impedance(freq, rb, rgb, hidden, q_gb), rng_blocking)
            out.append(_eis("eis_blocking", temp_c, "Au", freq, re, im))
    if "dc_polarization" in protocols:
        dc = dc_polarization(pellet, hidden, rng_dc)
        out.append(
            {"protocol": "dc_polarization", "temperature_c": _ROOM_C, "electrodes": "Au", **dc}
        )
    if "eis_symmetric" in protocols:
        rint = pellet.r_int_ohm_cm2 / pellet.area_cm2
        re, im = _noisy(symmetric_impedance(freq, rb25, rgb25, rint, hidden, q_gb), rng_sym)
        out.append(_eis("eis_symmetric", _ROOM_C, "Na", freq, re, im))
    if "ccd_staircase" in protocols:
        ccd = ccd_staircase(pellet, hidden, rng_ccd, settings)
        out.append(
            {"protocol": "ccd_staircase", "temperature_c": _ROOM_C, "electrodes": "Na", **ccd}
        )
    return [{k: _round6(v) for k, v in m.items()} for m in out]


def _eis(
    protocol: str, temp_c: float, electrodes: str, freq: np.ndarray, re: np.ndarray, im: np.ndarray
) -> dict[str, Any]:
    return {
        "protocol": protocol,
        "temperature_c": temp_c,
        "electrodes": electrodes,
        "frequency_hz": freq,
        "z_real_ohm": re,
        "z_imag_ohm": im,
    }
