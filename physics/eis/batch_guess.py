"""Initial guesses for many spectra at once, vectorized over the batch.

The same reading of the spectrum as :func:`physics.eis.initial_guess.guess_vector` (variant 0), in
array form, for circuits whose top level is series resistors and inductors, at most one
blocking ``CPE``/``C`` and arcs ``p(R,CPE)``/``p(R,C)`` (the circuits of this project). For any
other circuit :func:`guess_batch` returns None and the caller guesses spectrum by spectrum.
"""

from __future__ import annotations

import numpy as np

from physics.eis.circuits import Circuit, _Leaf
from physics.eis.initial_guess import _is_arc

__all__ = ["guess_batch"]


def _smooth_rows(y: np.ndarray) -> np.ndarray:
    """s_i = (y_{i-1} + 2 y_i + y_{i+1}) / 4 along the last axis, ends kept."""
    s = y.copy()
    s[:, 1:-1] = 0.25 * (y[:, :-2] + 2 * y[:, 1:-1] + y[:, 2:])
    return s


def _circle_alpha_rows(z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Arc exponent per row from a Kasa circle fit of the points with w True; 0.85 if unusable.

    Circle u^2 + v^2 + D u + E v + F = 0 on centred, scaled coordinates (x = Z', y = -Z'');
    centre height yc; chord R = 2 sqrt(r^2 - yc^2); alpha = 1 - (2/pi) arctan(-yc / (R/2)).
    """
    x, y = z.real, -z.imag
    wf = w.astype(float)
    cnt = np.maximum(wf.sum(axis=1, keepdims=True), 1.0)
    x0 = (wf * x).sum(axis=1, keepdims=True) / cnt
    y0 = (wf * y).sum(axis=1, keepdims=True) / cnt
    scale = np.maximum(np.max(wf * np.maximum(np.abs(x - x0), np.abs(y - y0)), axis=1), 1e-300)
    u, v = (x - x0) / scale[:, None], (y - y0) / scale[:, None]
    b = -(u * u + v * v)
    cols = np.stack([u, v, np.ones_like(u)], axis=1) * wf[:, None, :]  # (m, 3, n)
    lhs = cols @ cols.transpose(0, 2, 1) + 1e-12 * np.eye(3)
    rhs = (cols @ (b * wf)[..., None])[..., 0]
    sol = np.linalg.solve(lhs, rhs[..., None])[..., 0]
    uc, vc = -sol[:, 0] / 2, -sol[:, 1] / 2
    r2 = uc * uc + vc * vc - sol[:, 2]
    yc = y0[:, 0] / scale + vc  # centre height in scaled units, measured from y = 0
    ok = (r2 > yc * yc) & (w.sum(axis=1) >= 5)
    half = np.sqrt(np.where(ok, r2 - yc * yc, 1.0))
    alpha = 1 - 2 / np.pi * np.arctan2(-yc, half)
    ok &= (alpha >= 0.4) & (alpha <= 1.0) & np.isfinite(alpha)
    return np.where(ok, alpha, 0.85)


def guess_batch(
    circuit: Circuit, frequency_hz: np.ndarray, z_ohm: np.ndarray, keep: np.ndarray
) -> np.ndarray | None:
    """Initial parameters for m spectra on one grid, or None for an unsupported circuit.

    Args:
        circuit: parsed circuit.
        frequency_hz: shape (n,), Hz, sorted from high to low.
        z_ohm: shape (m, n), complex, ohm.
        keep: shape (m, n), False for points left out (dropped inductive points).

    Returns:
        shape (m, n_params), in ``circuit.param_names`` order.
    """
    top = circuit.top_level()
    arcs = [node for node in top if _is_arc(node)]
    others = [node for node in top if not _is_arc(node)]
    if not arcs or any(
        not isinstance(node, _Leaf) or node.kind not in ("R", "L", "CPE", "C") for node in others
    ):
        return None
    blocking = [node for node in others if node.kind in ("CPE", "C")]
    m, n = z_ohm.shape
    if len(blocking) > 1 or n < 5:
        return None
    rows = np.arange(m)
    omega = 2 * np.pi * frequency_hz
    logf = np.log10(frequency_hz)
    guess = np.zeros((m, circuit.n_params))
    re_kept = np.where(keep, z_ohm.real, np.nan)
    span = np.maximum(np.nanmax(re_kept, axis=1) - np.nanmin(re_kept, axis=1), 1e-12)
    z_rest = z_ohm
    y = None
    if blocking:  # low-frequency spike: slope of log|Z''| against log omega over 5 points
        lw = np.log(omega[-5:])
        lz = np.log(np.maximum(np.abs(z_ohm.imag[:, -5:]), 1e-300))
        dw = lw - lw.mean()
        slope = ((lz - lz.mean(axis=1, keepdims=True)) @ dw) / (dw @ dw)
        alpha = np.clip(-slope, 0.5, 1.0)
        q = np.sin(alpha * np.pi / 2) / (np.abs(z_ohm.imag[:, -1]) * omega[-1] ** alpha)
        node = blocking[0]
        if node.kind == "C":
            guess[:, node.start] = q
            z_spike = 1 / (1j * omega[None, :] * q[:, None])
        else:
            guess[:, node.start], guess[:, node.start + 1] = q, alpha
            phase = np.cos(alpha * np.pi / 2) - 1j * np.sin(alpha * np.pi / 2)
            z_spike = np.exp(-alpha[:, None] * np.log(omega)) * (phase / q)[:, None]
        z_rest = z_ohm - z_spike
        y = _smooth_rows(-z_rest.imag)
        y[np.abs(z_spike) > 3 * np.abs(z_rest)] = 0.0
    else:
        y = _smooth_rows(-z_rest.imag)
    y = np.where(keep, y, 0.0)

    # apex positions: the k tallest local maxima 0.8 decade apart, over 5 % of the tallest;
    # missing arcs at the tallest point more than a decade from those found
    k = len(arcs)
    inner = np.zeros((m, n), dtype=bool)
    inner[:, 1:-1] = (y[:, 1:-1] >= y[:, :-2]) & (y[:, 1:-1] >= y[:, 2:]) & (y[:, 1:-1] > 0)
    avail = inner & (y >= 0.05 * y.max(axis=1, keepdims=True))
    far = np.zeros((m, n), dtype=bool)
    far[:, 1:-1] = True
    found = []
    for _ in range(k):
        score = np.where(avail, y, -np.inf)
        idx = np.argmax(score, axis=1)
        has = np.isfinite(score[rows, idx])
        fallback = np.argmax(np.where(far, y, -np.inf), axis=1)
        fallback = np.where(far.any(axis=1), fallback, n // 2)
        idx = np.where(has, idx, fallback)
        found.append(idx)
        dist = np.abs(logf[None, :] - logf[idx][:, None])
        avail &= dist > 0.8
        far &= dist > 1.0
    peaks = np.sort(np.stack(found, axis=1), axis=1)  # (m, k), high to low frequency

    cols = np.arange(n)[None, :]
    r_series = np.zeros(m)  # set by the first arc (there is at least one)
    for j, node in enumerate(arcs):
        ipk = peaks[:, j]
        lo = np.zeros(m, dtype=int) if j == 0 else (peaks[:, j - 1] + ipk) // 2
        hi = np.full(m, n) if j == k - 1 else (ipk + peaks[:, j + 1]) // 2 + 1
        h = np.maximum(y[rows, ipk], 1e-6 * span)
        win = (cols >= lo[:, None]) & (cols < hi[:, None]) & (y > 0.4 * h[:, None])
        is_cpe = any(c.kind == "CPE" for c in node.children)
        alpha = _circle_alpha_rows(z_rest, win) if is_cpe else np.ones(m)
        r = 2 * h / np.tan(alpha * np.pi / 4)
        w_apex = omega[ipk]
        for c in node.children:
            if c.kind == "R":
                guess[:, c.start] = r
            elif c.kind == "C":
                guess[:, c.start] = 1 / (r * w_apex)
            else:
                guess[:, c.start] = 1 / (r * w_apex**alpha)
                guess[:, c.start + 1] = alpha
        if j == 0:
            r_series = z_rest.real[rows, ipk] - r / 2
    first = np.argmax(keep, axis=1)
    for node in others:
        if node.kind == "R":
            floor = 0.02 * np.maximum(np.nanmin(re_kept, axis=1), 1e-12)
            guess[:, node.start] = np.maximum(np.maximum(r_series, floor), 1e-9)
        elif node.kind == "L":
            z_top, w_top = z_ohm[rows, first], omega[first]
            l_ind = z_top.imag / w_top  # inductive top point: Z'' = omega L
            guess[:, node.start] = np.where(l_ind > 0, l_ind, 1e-3 * np.abs(z_top) / w_top)
    return guess
