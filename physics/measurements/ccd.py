"""Critical current density (CCD) from a Na|NZSP|Na plating/stripping staircase.

The cell is cycled galvanostatically: ``half_cycle_s`` per half cycle, ``cycles_per_step`` full
cycles (2 half cycles each) at each current density j_k = start + k * step, k = 0, 1, ... up to
``max_ma_cm2``. Before a short the voltage is a polarization of the cell's sign,
V ~ ASR * j (ASR = area-specific resistance, ohm cm2; V in V and j in mA/cm2 give
ASR = 1000 * V / j). A Na dendrite through the pellet shorts the cell: the voltage collapses
towards zero and becomes ohmic with a tiny resistance, dominated by noise.

Detection (per half cycle, on the signed apparent ASR s = 1000 V / j in ohm cm2, positive for
a healthy cell, ~0 after a short however large the noise; a data set whose V has the opposite
sign convention is flipped first):
    * the half cycle's level is the median of s over its second half (after the transient);
    * its reference is the median level of the healthy half cycles of the previous
      2 * cycles_per_step half cycles (one step: the reference follows a slowly changing,
      e.g. Butler-Volmer, polarization); in the very first half cycle, the largest r of its
      first points;
    * the half cycle has *collapsed* if its level < ``collapse_ratio`` (0.2) x reference, or if
      it is noise-like (sign of V agreeing with the sign of j in < 80 % of its points) and its
      level < 0.5 x reference;
    * a collapse is a short if it persists: at least 80 % of the later half cycles have also
      collapsed. A collapse that recovers is reported in ``notes`` and ignored;
    * a cell whose first half cycle has a median r = 1000 |V| / |j| below
      ``short_asr_ohm_cm2`` (5 ohm cm2; a ~1 mm NZSP pellet cannot go below ~50 ohm cm2) or a
      voltage sign that follows j in < 60 % of its points (pure noise) is shorted from the
      start.
The short time is the mean-shift change point of s between the start of the second half cycle
before the collapsed one and the end of the collapsed one (the split minimizing the summed
squared deviations from the two parts' means).

Outputs: ``ccd_ma_cm2`` is the current density of the step in which the cell shorted;
``last_passed_ma_cm2`` the step before it (None when it shorted on the first step). Without a
short the result is right-censored: ``censored`` is True and ``ccd_ma_cm2`` is the last step
reached (a lower bound), also when the data stop before ``max_ma_cm2``. Each step's
polarization is the median |V| over the second halves of its half cycles, before any short.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from physics.errors import AnalysisError

__all__ = ["CCDResult", "CCDStep", "analyze_ccd"]

_SIGN_AGREEMENT_NOISY = 0.8  # below: noise-like half cycle (healthy cells: ~1, noise: ~0.5)
_SIGN_AGREEMENT_RANDOM = 0.6  # below over the whole first half cycle: shorted from the start
_PERSIST_FRACTION = 0.8
_LEVEL_TOL = 0.05  # of a step, or of start, for assigning |j| to a staircase level


@dataclass
class CCDStep:
    """One current-density step of the staircase.

    Attributes:
        current_density_ma_cm2: j of the step in mA/cm2.
        polarization_v: median |V| over the second halves of the step's half cycles before
            any short, V (NaN if the cell shorted before any such point).
        shorted: True for the step in which the cell shorted.
        n_half_cycles: half cycles of the step in the data that began before any short.
        complete: whether all 2 * cycles_per_step half cycles were recorded without a short.
    """

    current_density_ma_cm2: float
    polarization_v: float
    shorted: bool
    n_half_cycles: int = 0
    complete: bool = False


@dataclass
class CCDResult:
    """Result of :func:`analyze_ccd` (see the module docstring for the definitions).

    Attributes:
        ccd_ma_cm2: critical current density in mA/cm2 (a lower bound when ``censored``).
        censored: True when the cell did not short up to the last step in the data.
        last_passed_ma_cm2: last step the cell survived, mA/cm2 (None: shorted on the first).
        short_time_s: time of the short in s, None without one.
        steps: the steps up to and including the one of the short.
        time_s, current_ma_cm2, voltage_v: shape (n,), the record (for plotting).
        notes: remarks (data ending early, transient collapses, incomplete steps...).
        short_index: index into the arrays of the short, None without one.
        pre_short_asr_ohm_cm2: reference apparent ASR 1000 |V| / |j| just before the short
            (or over the whole record without one), ohm cm2.
        short_asr_ohm_cm2: after the short, the least-squares ohmic ASR of V = ASR * j / 1000
            through the origin, ohm cm2.
        start_ma_cm2, step_ma_cm2, max_ma_cm2, cycles_per_step, half_cycle_s: the protocol.
    """

    ccd_ma_cm2: float
    censored: bool
    last_passed_ma_cm2: float | None
    short_time_s: float | None
    steps: list[CCDStep]
    time_s: np.ndarray
    current_ma_cm2: np.ndarray
    voltage_v: np.ndarray
    notes: list[str] = field(default_factory=list)
    short_index: int | None = None
    pre_short_asr_ohm_cm2: float = float("nan")
    short_asr_ohm_cm2: float | None = None
    start_ma_cm2: float = float("nan")
    step_ma_cm2: float = float("nan")
    max_ma_cm2: float = float("nan")
    cycles_per_step: int = 0
    half_cycle_s: float = float("nan")


def _as_float(value: Any) -> float:
    """float(value), NaN for anything that is not a finite real number."""
    if isinstance(value, bool):
        return math.nan
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out if math.isfinite(out) else math.nan


def _check(
    time_s: Any,
    current_ma_cm2: Any,
    voltage_v: Any,
    start: float,
    step: float,
    maximum: float,
    cycles_per_step: int,
    half_cycle_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.asarray(time_s, dtype=float)
    j = np.asarray(current_ma_cm2, dtype=float)
    v = np.asarray(voltage_v, dtype=float)
    if t.ndim != 1 or t.shape != j.shape or t.shape != v.shape:
        raise AnalysisError(
            "time_s, current_ma_cm2 and voltage_v must be 1-D arrays of one length, got shapes "
            f"{t.shape}, {j.shape}, {v.shape}"
        )
    if t.size < 8:
        raise AnalysisError(f"a CCD staircase needs at least 8 points, got {t.size}")
    for name, arr in (("time_s", t), ("current_ma_cm2", j), ("voltage_v", v)):
        bad = np.nonzero(~np.isfinite(arr))[0]
        if bad.size:
            raise AnalysisError(f"{name} has NaN/infinite values at indices {bad[:5].tolist()}")
    if np.any(np.diff(t) <= 0):
        k = int(np.nonzero(np.diff(t) <= 0)[0][0])
        raise AnalysisError(
            f"time_s must increase strictly: t[{k}] = {t[k]}, t[{k + 1}] = {t[k + 1]}"
        )
    for name, value in (
        ("start_ma_cm2", start),
        ("step_ma_cm2", step),
        ("max_ma_cm2", maximum),
        ("half_cycle_s", half_cycle_s),
    ):
        if not (_as_float(value) > 0):
            raise AnalysisError(f"{name}={value!r} must be a finite positive number")
    if maximum < start:
        raise AnalysisError(f"max_ma_cm2={maximum} is below start_ma_cm2={start}")
    cps = _as_float(cycles_per_step)
    if not (cps >= 1 and cps == int(cps)):
        raise AnalysisError(f"cycles_per_step={cycles_per_step!r} must be a positive integer")
    dt = float(np.median(np.diff(t)))
    if half_cycle_s / dt < 4:
        raise AnalysisError(
            f"sampling too coarse: median interval {dt:.4g} s gives fewer than 4 points per "
            f"{half_cycle_s:g} s half cycle"
        )
    return t, j, v


def _levels(t: np.ndarray, j: np.ndarray, start: float, step: float, maximum: float) -> np.ndarray:
    """Staircase level k of each point (-1 for a rest, |j| ~ 0); raise if off the grid."""
    a = np.abs(j)
    rest = a <= 0.1 * min(start, step)
    k = np.rint((a - start) / step).astype(int)
    tol = _LEVEL_TOL * step + 1e-9
    off = ~rest & (
        (k < 0) | (np.abs(a - (start + k * step)) > tol) | (start + k * step > maximum + tol)
    )
    if np.any(off):
        i = int(np.nonzero(off)[0][0])
        raise AnalysisError(
            f"current density {j[i]:.4g} mA/cm2 at t = {t[i]:.6g} s is not on the staircase "
            f"{start:g} + k * {step:g} <= {maximum:g} mA/cm2"
        )
    k[rest] = -1
    active = k[~rest]
    if active.size == 0:
        raise AnalysisError("current_ma_cm2 is zero throughout: no staircase")
    drops = np.nonzero(np.diff(active) < 0)[0]
    if drops.size:
        i = int(np.nonzero(~rest)[0][drops[0] + 1])
        raise AnalysisError(
            f"current density falls to {abs(j[i]):.4g} mA/cm2 at t = {t[i]:.6g} s: not a rising "
            "staircase"
        )
    return k


def _segments(k: np.ndarray, j: np.ndarray) -> list[tuple[int, int, int]]:
    """Half cycles as (first index, end index exclusive, level) runs of one sign and level."""
    sign = np.sign(j)
    segs: list[tuple[int, int, int]] = []
    i = 0
    n = k.size
    while i < n:
        if k[i] < 0:
            i += 1
            continue
        e = i + 1
        while e < n and k[e] == k[i] and sign[e] == sign[i]:
            e += 1
        segs.append((i, e, int(k[i])))
        i = e
    return segs


def _change_point(x: np.ndarray) -> int:
    """Index p of a mean shift in x: minimizes SSE(x[:p]) + SSE(x[p:]) (p = 0: from the first)."""
    n = x.size
    c1 = np.concatenate([[0.0], np.cumsum(x)])
    c2 = np.concatenate([[0.0], np.cumsum(x * x)])
    p = np.arange(n)  # split before index p; the second part is never empty
    sse_before = c2[p] - np.divide(c1[p] ** 2, p, out=np.zeros(n), where=p > 0)
    m = n - p
    sse_after = (c2[n] - c2[p]) - (c1[n] - c1[p]) ** 2 / m
    return int(np.argmin(sse_before + sse_after))


def analyze_ccd(
    time_s: Any,
    current_ma_cm2: Any,
    voltage_v: Any,
    *,
    start_ma_cm2: float,
    step_ma_cm2: float,
    max_ma_cm2: float,
    cycles_per_step: int,
    half_cycle_s: float,
    collapse_ratio: float = 0.2,
    short_asr_ohm_cm2: float = 5.0,
) -> CCDResult:
    """Find the short in a plating/stripping staircase and the CCD (module docstring).

    Args:
        time_s: shape (n,), strictly increasing times in s.
        current_ma_cm2: shape (n,), signed current density in mA/cm2 (0 for rests).
        voltage_v: shape (n,), cell voltage in V.
        start_ma_cm2: first step's current density, mA/cm2.
        step_ma_cm2: increment between steps, mA/cm2.
        max_ma_cm2: last planned step, mA/cm2 (the data may stop earlier).
        cycles_per_step: full cycles per step.
        half_cycle_s: duration of a half cycle, s.
        collapse_ratio: a half cycle whose apparent ASR falls below this fraction of the
            reference has collapsed.
        short_asr_ohm_cm2: apparent ASR below which a cell counts as shorted from the start.

    Returns:
        The result, holding the record for :func:`plot_ccd`.

    Raises:
        AnalysisError: shapes, NaN, non-increasing times, bad protocol numbers, currents off
            the staircase or falling, sampling too coarse for the half cycles.
    """
    t, j, v = _check(
        time_s,
        current_ma_cm2,
        voltage_v,
        start_ma_cm2,
        step_ma_cm2,
        max_ma_cm2,
        cycles_per_step,
        half_cycle_s,
    )
    if not 0 < collapse_ratio < 1:
        raise AnalysisError(f"collapse_ratio={collapse_ratio!r} must lie in (0, 1)")
    k = _levels(t, j, start_ma_cm2, step_ma_cm2, max_ma_cm2)
    segs = _segments(k, j)
    active = k >= 0
    notes: list[str] = []
    # polarity convention: a healthy cell's V follows j; flip an instrument's opposite sign
    first_i0, first_i1, _ = segs[0]
    v_cell = v
    if float(np.median(v[first_i0:first_i1] * np.sign(j[first_i0:first_i1]))) < 0:
        v_cell = -v
        notes.append("voltage sign opposite to the current's in the data: flipped for analysis")
    r = np.full(t.size, np.nan)  # apparent ASR, ohm cm2
    r[active] = 1000.0 * np.abs(v[active]) / np.abs(j[active])
    s_signed = np.full(t.size, np.nan)  # signed apparent ASR: ~0 after a short, whatever noise
    s_signed[active] = 1000.0 * v_cell[active] / j[active]
    agree = np.sign(v_cell) == np.sign(j)

    def level(i0: int, i1: int) -> float:
        return float(np.median(s_signed[i0 + (i1 - i0) // 2 : i1]))

    def collapsed(i0: int, i1: int, ref: float) -> bool:
        lev = level(i0, i1)
        noisy = float(np.mean(agree[i0:i1])) < _SIGN_AGREEMENT_NOISY
        return lev < collapse_ratio * ref or (noisy and lev < 0.5 * ref)

    j_of = lambda kk: round(start_ma_cm2 + kk * step_ma_cm2, 9)  # noqa: E731
    healthy: list[float] = []
    short_seg: int | None = None
    ref = float("nan")
    from_start = False
    first_level = level(first_i0, first_i1)
    first_agree = float(np.mean(agree[first_i0:first_i1]))
    if float(np.median(r[first_i0:first_i1])) < short_asr_ohm_cm2 or (
        first_agree < _SIGN_AGREEMENT_RANDOM
    ):
        from_start, short_seg, ref = True, 0, first_level
        notes.append(
            f"shorted from the first point: apparent ASR {first_level:.3g} ohm cm2, voltage sign "
            f"follows the current in {first_agree:.0%} of the first half cycle"
        )
    else:
        for s, (i0, i1, _) in enumerate(segs):
            ref = (
                float(np.median(healthy[-2 * cycles_per_step :]))
                if healthy
                else float(np.max(s_signed[i0 : i0 + max(3, (i1 - i0) // 5)]))
            )
            if not collapsed(i0, i1, ref):
                healthy.append(level(i0, i1))
                continue
            later = [collapsed(a, b, ref) for a, b, _ in segs[s + 1 :]]
            if not later or np.mean(later) >= _PERSIST_FRACTION:
                short_seg = s
                break
            notes.append(
                f"transient voltage collapse at t = {t[i0]:.6g} s ({j_of(segs[s][2]):g} mA/cm2) "
                "that recovered: not counted as a short"
            )

    short_index: int | None = None
    if short_seg is not None:
        if from_start:
            short_index = first_i0
        else:
            # a noisy collapse may be flagged a half cycle or two late: look back two
            idx = np.arange(segs[max(short_seg - 2, 0)][0], segs[short_seg][1])
            idx = idx[active[idx]]
            short_index = int(idx[_change_point(s_signed[idx])])
        k_short = int(k[short_index])
    else:
        k_short = -1

    # steps up to and including the short
    last_k = k_short if short_seg is not None else int(segs[-1][2])
    stop = short_index if short_index is not None else t.size
    steps: list[CCDStep] = []
    for kk in sorted({s[2] for s in segs if s[2] <= last_k}):
        mine = [(a, b) for a, b, lev in segs if lev == kk and a < stop]
        halves = [np.arange(a + (b - a) // 2, min(b, stop)) for a, b in mine]
        idx = np.concatenate(halves) if halves else np.array([], dtype=int)
        pol = float(np.median(np.abs(v[idx]))) if idx.size else float("nan")
        complete = len(mine) >= 2 * cycles_per_step and kk != k_short
        steps.append(CCDStep(j_of(kk), pol, kk == k_short, len(mine), complete))

    if short_index is not None:
        ccd = j_of(k_short)
        censored = False
        previous = [s for s in steps if s.current_density_ma_cm2 < ccd]
        last_passed = previous[-1].current_density_ma_cm2 if previous else None
        after = np.arange(short_index, t.size)[active[short_index:]]
        short_asr = float(1000.0 * np.sum(v_cell[after] * j[after]) / np.sum(j[after] ** 2))
        pre_ref = ref
        later_steps = int(k.max()) - k_short
        if later_steps > 0:
            notes.append(f"data continue {later_steps} step(s) after the short (not analyzed)")
    else:
        ccd = steps[-1].current_density_ma_cm2
        censored = True
        last_passed = (
            ccd
            if steps[-1].complete
            else (steps[-2].current_density_ma_cm2 if len(steps) > 1 else None)
        )
        short_asr = None
        pre_ref = float(np.nanmedian(r))
        if ccd < max_ma_cm2 - _LEVEL_TOL * step_ma_cm2:
            notes.append(
                f"no short, but the data stop at {ccd:g} mA/cm2 before the planned max "
                f"{max_ma_cm2:g}: CCD >= {ccd:g} mA/cm2"
            )
        if not steps[-1].complete:
            notes.append(
                f"last step {ccd:g} mA/cm2 incomplete ({steps[-1].n_half_cycles} of "
                f"{2 * cycles_per_step} half cycles)"
            )
    if steps and steps[0].current_density_ma_cm2 > start_ma_cm2 + 1e-9:
        notes.append(
            f"the data start at {steps[0].current_density_ma_cm2:g} mA/cm2, not at start "
            f"{start_ma_cm2:g}"
        )
    return CCDResult(
        ccd_ma_cm2=ccd,
        censored=censored,
        last_passed_ma_cm2=last_passed,
        short_time_s=float(t[short_index]) if short_index is not None else None,
        steps=steps,
        time_s=t,
        current_ma_cm2=j,
        voltage_v=v,
        notes=notes,
        short_index=short_index,
        pre_short_asr_ohm_cm2=float(pre_ref),
        short_asr_ohm_cm2=short_asr,
        start_ma_cm2=float(start_ma_cm2),
        step_ma_cm2=float(step_ma_cm2),
        max_ma_cm2=float(max_ma_cm2),
        cycles_per_step=int(cycles_per_step),
        half_cycle_s=float(half_cycle_s),
    )
