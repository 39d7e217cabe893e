"""Initial guesses for circuit fits read off the spectrum, and the choice of a default circuit.

The guess walks the top level of the circuit (its series components) and gives each a value
from the spectrum:

- a series ``R``: the high-frequency real-axis intercept, taken from the first arc's geometry
  (the apex of a ZARC lies at Z' = R0 + R/2);
- a series ``L``: Z''/omega at the top frequency when that point is inductive, else
  1e-3 |Z| / omega there;
- a series ``CPE`` or ``C`` (blocking electrode): the low-frequency spike, alpha from the slope
  of log|Z''| against log omega over the lowest points, Q = sin(alpha pi/2) / (|Z''| omega^alpha);
- an arc ``p(R,CPE)`` / ``p(R,C)``: the i-th arc of the string gets the i-th peak of -Z'' from
  the high-frequency end (after the spike is subtracted); its apex frequency f_apex and height
  h give alpha from a circle fit of the points around the apex (or 0.85), R = 2 h / tan(alpha
  pi/4), and Q = 1 / (R (2 pi f_apex)^alpha);
- anything else gets an order-of-magnitude guess from the span of Z'.
"""

from __future__ import annotations

import numpy as np

from physics.eis.circuits import Circuit, _Leaf, _Parallel
from physics.eis.spectrum import Spectrum
from physics.errors import AnalysisError

__all__ = ["arc_peaks", "choose_circuit", "guess_vector", "initial_guess", "restart_guesses"]


def _smooth(y: np.ndarray) -> np.ndarray:
    """Three-point moving average with the ends kept: s_i = (y_{i-1} + 2 y_i + y_{i+1}) / 4."""
    s = y.copy()
    s[1:-1] = 0.25 * (y[:-2] + 2 * y[1:-1] + y[2:])
    return s


def arc_peaks(
    frequency_hz: np.ndarray, neg_imag_ohm: np.ndarray, k: int, smoothed: np.ndarray | None = None
) -> list[int]:
    """Indices of up to ``k`` peaks of -Z'' (frequency sorted high to low), highest first by size.

    Local maxima of the smoothed -Z'' are ranked by height; peaks closer than 0.8 decade to a
    taller one are skipped. Returned in order of decreasing frequency.
    """
    y = _smooth(neg_imag_ohm) if smoothed is None else smoothed
    inner = (y[1:-1] >= y[:-2]) & (y[1:-1] >= y[2:]) & (y[1:-1] > 0)
    cand = (np.flatnonzero(inner) + 1).tolist()
    cand.sort(key=lambda i: -y[i])
    logf = np.log10(frequency_hz)
    chosen: list[int] = []
    for i in cand:
        if all(abs(logf[i] - logf[j]) > 0.8 for j in chosen):
            chosen.append(i)
        if len(chosen) == k:
            break
    return sorted(chosen)


def _circle_alpha(z: np.ndarray) -> float | None:
    """Depression exponent of an arc from an algebraic circle fit (Kasa) of its points.

    Circle x^2 + y^2 + D x + E y + F = 0 with x = Z', y = -Z''; centre (xc, yc), radius r.
    Chord on the real axis R = 2 sqrt(r^2 - yc^2); alpha = 1 - (2/pi) arctan(-yc / (R/2)).
    """
    x, y = z.real, -z.imag
    if x.size < 4:
        return None
    # normal equations of the linear fit, on centred and scaled coordinates for conditioning
    x0, y0 = x.mean(), y.mean()
    scale = max(float(np.abs(x - x0).max()), float(np.abs(y - y0).max()), 1e-300)
    u, v = (x - x0) / scale, (y - y0) / scale
    b = -(u * u + v * v)
    m = np.array([[u @ u, u @ v, u.sum()], [u @ v, v @ v, v.sum()], [u.sum(), v.sum(), u.size]])
    try:
        d, e, g = np.linalg.solve(m, np.array([u @ b, v @ b, b.sum()]))
    except np.linalg.LinAlgError:
        return None
    # back to Z coordinates: centre (x0 + scale uc, y0 + scale vc), r^2 = scale^2 (uc^2 + vc^2 - g)
    uc, vc = -d / 2, -e / 2
    xc, yc = x0 + scale * uc, y0 + scale * vc
    sol = (-2 * xc, -2 * yc, xc * xc + yc * yc - scale * scale * (uc * uc + vc * vc - g))
    xc, yc = -sol[0] / 2, -sol[1] / 2
    r2 = xc * xc + yc * yc - sol[2]
    if not np.isfinite(r2) or r2 <= yc * yc:
        return None
    half = np.sqrt(r2 - yc * yc)
    alpha = 1 - 2 / np.pi * np.arctan2(-yc, half)
    return float(alpha) if 0.4 <= alpha <= 1.0 else None


def _is_arc(node: object) -> bool:
    return (
        isinstance(node, _Parallel)
        and len(node.children) == 2
        and all(isinstance(c, _Leaf) for c in node.children)
        and sorted(c.kind for c in node.children) in (["CPE", "R"], ["C", "R"])
    )


def _spike(omega: np.ndarray, z: np.ndarray) -> tuple[float, float]:
    """Blocking CPE (Q, alpha) from the lowest-frequency points (omega sorted high to low)."""
    k = min(5, omega.size)
    lw, lz = np.log(omega[-k:]), np.log(np.maximum(np.abs(z.imag[-k:]), 1e-300))
    slope = np.polyfit(lw, lz, 1)[0]
    alpha = float(np.clip(-slope, 0.5, 1.0))
    q = np.sin(alpha * np.pi / 2) / (np.abs(z.imag[-1]) * omega[-1] ** alpha)
    return float(q), alpha


def _arc_positions(logf: np.ndarray, y: np.ndarray, k: int, variant: int) -> list[int]:
    """Indices (high to low frequency) where the k arcs of the circuit get their apexes.

    variant 0: the k tallest separate peaks of the smoothed -Z'' (those under 5 % of the tallest
    are noise); arcs left over go to the tallest point more than a decade from the others.
    variant 1: the tallest peak is the last (lowest-frequency) arc, the others sit 1.5 decades
    apart above it; variant 2: the tallest peak is the first arc, the others 1.5 decades below.
    """
    if k == 0:
        return []
    main = int(np.argmax(y))
    if variant in (1, 2):
        sign = -1 if variant == 1 else 1  # index grows as frequency falls
        targets = [logf[main] - sign * 1.5 * j for j in range(k)]
        idx = sorted(int(np.argmin(np.abs(logf - t))) for t in targets)
        return idx
    peaks = [i for i in arc_peaks(10**logf, y, k, smoothed=y) if y[i] >= 0.05 * y[main]]
    while len(peaks) < k:
        free = [
            i for i in range(1, logf.size - 1) if all(abs(logf[i] - logf[j]) > 1 for j in peaks)
        ]
        if not free:
            peaks.append(logf.size // 2)
        else:
            peaks.append(free[int(np.argmax(y[free]))])
        peaks.sort()
    return peaks


def guess_vector(
    circuit: Circuit, frequency_hz: np.ndarray, z_ohm: np.ndarray, variant: int = 0
) -> np.ndarray:
    """Initial parameters for one spectrum, shape (n_params,), in ``circuit.param_names`` order.

    Args:
        circuit: parsed circuit.
        frequency_hz: shape (n,), Hz, sorted from high to low, inductive points removed.
        z_ohm: shape (n,), complex, ohm.
        variant: how the arcs are placed (see ``_arc_positions``); 0 is the main guess.
    """
    omega = 2 * np.pi * frequency_hz
    guess = np.zeros(circuit.n_params)
    span = max(float(np.ptp(z_ohm.real)), 1e-3 * float(np.max(np.abs(z_ohm))), 1e-12)
    f_mid = float(np.sqrt(frequency_hz[0] * frequency_hz[-1]))
    top = circuit.top_level()
    z_rest = z_ohm
    blocking = [node for node in top if isinstance(node, _Leaf) and node.kind in ("CPE", "C")]
    if blocking and len(blocking) == 1 and omega.size >= 5:
        q, alpha = _spike(omega, z_ohm)
        node = blocking[0]
        if node.kind == "C":
            guess[node.start] = q
            z_spike = 1 / (1j * omega * q)
        else:
            guess[node.start], guess[node.start + 1] = q, alpha
            z_spike = 1 / (q * (1j * omega) ** alpha)
        z_rest = z_rest - z_spike
    arcs = [node for node in top if _is_arc(node)]
    y = _smooth(-z_rest.imag)
    if z_rest is not z_ohm:
        # where the spike dominates, the remainder is mostly its noise: arcs are not sought there
        y[np.abs(z_spike) > 3 * np.abs(z_rest)] = 0.0
    logf = np.log10(frequency_hz)
    peaks = _arc_positions(logf, y, len(arcs), variant)
    r_series = None
    for idx, (node, ipk) in enumerate(zip(arcs, peaks, strict=False)):
        lo = 0 if idx == 0 else (peaks[idx - 1] + ipk) // 2
        hi = logf.size if idx == len(arcs) - 1 else (ipk + peaks[idx + 1]) // 2 + 1
        h = max(float(y[ipk]), 1e-6 * span)
        win = [i for i in range(lo, hi) if y[i] > 0.4 * h]
        fitted = _circle_alpha(z_rest[win]) if len(win) >= 5 else None
        alpha = 0.85 if fitted is None else fitted
        is_cpe = any(c.kind == "CPE" for c in node.children)
        if not is_cpe:
            alpha = 1.0
        r = 2 * h / np.tan(alpha * np.pi / 4)
        w_apex = omega[ipk]
        for c in node.children:
            if c.kind == "R":
                guess[c.start] = r
            elif c.kind == "C":
                guess[c.start] = 1 / (r * w_apex)
            else:
                guess[c.start] = 1 / (r * w_apex**alpha)
                guess[c.start + 1] = alpha
        if idx == 0:
            r_series = float(z_rest.real[ipk]) - r / 2
    for node in top:
        if isinstance(node, _Leaf) and node.kind == "R":
            r0 = r_series if r_series is not None else float(np.min(z_ohm.real[:3]))
            guess[node.start] = max(r0, 0.02 * max(float(np.min(z_ohm.real)), 1e-12), 1e-9)
        elif isinstance(node, _Leaf) and node.kind == "L":
            l_ind = z_ohm[0].imag / omega[0]  # inductive top point: Z'' = omega L
            guess[node.start] = l_ind if l_ind > 0 else 1e-3 * abs(z_ohm[0]) / omega[0]
    # whatever is still zero: order-of-magnitude values
    w_mid = 2 * np.pi * f_mid
    defaults = {"R": span / 2, "C": 1 / (w_mid * span), "L": 1e-3 * span / w_mid}
    for k, (name, unit) in enumerate(zip(circuit.param_names, circuit.param_units, strict=True)):
        if guess[k] > 0:
            continue
        kind = name.split("_")[0].rstrip("0123456789")
        if unit == "":
            guess[k] = 0.85 if kind == "CPE" else 0.5
        elif kind == "CPE":
            guess[k] = 1 / (span * w_mid**0.85)
        elif kind in ("Wo", "Ws"):
            guess[k] = span / 2 if name.endswith("_0") else 1 / w_mid
        elif kind == "W":
            guess[k] = span / 2 * np.sqrt(w_mid)
        else:
            guess[k] = defaults.get(kind, span / 2)
    return guess


def restart_guesses(
    circuit: Circuit,
    guess: np.ndarray,
    n: int,
    seed: int = 0,
    frequency_hz: np.ndarray | None = None,
    z_ohm: np.ndarray | None = None,
) -> np.ndarray:
    """``n`` starting points: the guess itself, then other readings and perturbations of it.

    With the spectrum given, the two other arc placements of :func:`guess_vector` come first;
    then exponents set to 0.7 / 0.95, resistances scaled by 1/3 and 3 (CPE Q the other way);
    after those, random log-normal perturbations (factor ~3) of all positive parameters.

    Returns:
        shape (n, n_params).
    """
    rng = np.random.default_rng(seed)
    expo = np.array([u == "" for u in circuit.param_units])
    is_r = np.array([u == "Ohm" for u in circuit.param_units])
    starts = [guess.copy()]
    if frequency_hz is not None and z_ohm is not None:
        starts += [guess_vector(circuit, frequency_hz, z_ohm, variant=v) for v in (1, 2)]
    systematic = []
    for a in (0.7, 0.95):
        g = guess.copy()
        g[expo] = a
        systematic.append(g)
    for factor in (1 / 3, 3.0):
        g = guess.copy()
        g[is_r] *= factor
        g[~is_r & ~expo] /= factor
        systematic.append(g)
    starts.extend(systematic)
    while len(starts) < n:
        g = guess * np.exp(rng.normal(0, 1.1, guess.size) * ~expo)
        g[expo] = rng.uniform(0.6, 0.98, int(expo.sum()))
        starts.append(g)
    return np.array(starts[:n])


def initial_guess(frequency_hz, z_ohm, circuit: str) -> dict[str, float]:
    """Initial parameter values read off a spectrum (see the module docstring for the rules).

    Args:
        frequency_hz: shape (n,), Hz, any order.
        z_ohm: shape (n,), complex impedance, ohm.
        circuit: circuit string, e.g. ``"R0-p(R1,CPE1)-p(R2,CPE2)"``.

    Returns:
        name -> value in the units of ``Circuit(circuit).param_units``.
    """
    circ = Circuit(circuit)
    f = np.asarray(frequency_hz, dtype=float)
    z = np.asarray(z_ohm, dtype=complex)
    if f.ndim != 1 or f.shape != z.shape or f.size < 3:
        raise AnalysisError(
            f"initial_guess: need 1-D frequency_hz and z_ohm of one length >= 3, got shapes "
            f"{f.shape} and {z.shape}"
        )
    order = np.argsort(-f)
    f, z = f[order], z[order]
    n_ind = int(np.argmax(z.imag <= 0)) if np.any(z.imag <= 0) else 0
    f, z = f[n_ind:], z[n_ind:]
    vec = guess_vector(circ, f, z)
    return dict(zip(circ.param_names, (float(v) for v in vec), strict=True))


def choose_circuit(spectrum: Spectrum) -> tuple[str, str]:
    """A default circuit for a spectrum and the reason for the choice.

    Rules (inductive top-frequency points are ignored here; the fit drops them with a note):

    - blocking electrode: the phase at the lowest frequency is below -60 deg and -Z'' rises over
      the lowest five points -> ``R0-p(R1,CPE1)-CPE2`` (bulk, grain-boundary arc, spike);
    - otherwise two or more arcs (peaks of -Z'' more than 0.8 decade apart, the smaller at
      least 5 % of the larger and 1 % of the median |Z|) -> ``R0-p(R1,CPE1)-p(R2,CPE2)``;
    - one arc followed by a low-frequency tail (-Z'' rises over the lowest five points and ends
      at least 20 % of the arc's height above the minimum after the arc: diffusion or a
      partly blocking electrode) -> ``R0-p(R1,CPE1)-CPE2``;
    - one arc, or no clear arc at all (-Z'' under 2 % of |Z|) -> ``R0-p(R1,CPE1)``.

    Returns:
        (circuit string, human-readable reason).
    """
    order = np.argsort(-spectrum.frequency_hz)
    f, z = spectrum.frequency_hz[order], spectrum.z_ohm[order]
    n_ind = int(np.argmax(z.imag <= 0)) if np.any(z.imag <= 0) else 0
    f, z = f[n_ind:], z[n_ind:]
    if f.size < 5:
        raise AnalysisError(f"choose_circuit: needs at least 5 capacitive points, got {f.size}")
    phase_low_deg = float(np.degrees(np.angle(z[-1])))
    low = -z.imag[-5:]
    note = f"; {n_ind} inductive top-frequency point(s) will be dropped" if n_ind else ""
    if phase_low_deg < -60 and np.all(np.diff(low) > 0):
        return (
            "R0-p(R1,CPE1)-CPE2",
            f"blocking electrode: phase {phase_low_deg:.0f} deg at {f[-1]:.3g} Hz and a rising "
            f"low-frequency capacitive spike{note}",
        )
    y = _smooth(-z.imag)
    scale = float(np.median(np.abs(z)))
    if y.max() < 0.02 * scale:
        return "R0-p(R1,CPE1)", f"no clear arc (-Z'' stays under 2 % of |Z|){note}"
    peaks = arc_peaks(f, -z.imag, 3)
    big = [i for i in peaks if y[i] >= max(0.05 * y.max(), 0.01 * scale)]
    if len(big) >= 2:
        apex = ", ".join(f"{f[i]:.3g} Hz" for i in big[:2])
        return "R0-p(R1,CPE1)-p(R2,CPE2)", f"two arcs with apexes near {apex}{note}"
    if big:
        after = -z.imag[big[0] :]
        rise = float(after[-1] - after.min())
        if np.all(np.diff(low) > 0) and rise > 0.2 * float(y[big[0]]):
            return (
                "R0-p(R1,CPE1)-CPE2",
                f"one arc near {f[big[0]]:.3g} Hz and a low-frequency tail (phase "
                f"{phase_low_deg:.0f} deg at {f[-1]:.3g} Hz), fitted by a CPE{note}",
            )
    return "R0-p(R1,CPE1)", f"one arc (phase {phase_low_deg:.0f} deg at the lowest frequency){note}"
