"""Batch acquisition over the furnace grid: which recipes to sinter next.

Multi-objective mode (``objective="multi"``): noisy expected hypervolume improvement (the
estimator of BoTorch's qNEHVI / qLogNEHVI) on the surrogate's posterior in model space,
maximizing ``log sigma``, ``log CCD`` and ``-logit t_e``, with the reference point at the
user's thresholds (names, valid values and defaults in :mod:`design.acquisition.thresholds`):
a recipe only adds hypervolume where it beats every threshold. Single-objective mode
(``objective="sigma"``): noisy expected improvement of ``log sigma`` (qNEI's estimator)
counting only samples that meet the thresholds of the other objectives (``t_e <= 0.05`` by
default): outcome constraints.

The surrogate is used only through :class:`surrogate.base.AcquisitionSurrogate`
(``fit``, ``predict``, ``encode``, ``p_feasible``, ``posterior_model``): any object with
those methods can propose batches; one without them (sobol) gets scrambled Sobol points.

The recipe space is a finite grid (51 x 41 = 2091 recipes by default), so instead of
gradient restarts over a continuous box the acquisition is evaluated on every candidate:
:class:`surrogate.sampling.ConditionalSampler` draws 128 quasi-MC joint posterior samples at
the measured ok recipes, the pending ones and each candidate; the hypervolume improvement of
each candidate in each sample is exact (:func:`_hvi`, checked against BoTorch's
``Hypervolume`` in the tests) and averaged. The batch is built by sequential greedy
selection (lazy re-scoring): the best candidate is conditioned on as pending (as
``X_pending`` does), then the next is chosen. Measured and pending recipes are never
candidates. Feasibility: a candidate's score is ``log E[improvement] + log p_feasible``
(the acquisition multiplied by the probability the pellet does not crack) and candidates
with ``p_feasible < MIN_P_FEASIBLE`` are dropped while enough others remain.
``acquisition_value`` reports that score (None/-inf where nothing improves; those picks
are then made by an optimistic tie-break, the worst margin of ``mean + 2 sd`` over the
reference point).

Temperature as a fourth objective (``minimize_temperature``): a recipe's sintering
temperature is known exactly, so the 4-D hypervolume improvement of a candidate ``(y, T)``
decomposes into temperature slabs, ``sum_k |[t_k, t_{k+1}) & [T, T_ref)| HVI3(y | front of
the incumbents with temperature <= t_k)`` (:func:`_slabs`, :func:`_hvi4`, each slab by the
exact :func:`_hvi`), with ``T_ref`` the threshold ``sinter_temperature_c`` or the space's top
plus one grid step (:func:`reference_temperature_c`); the greedy's first step starts lazily
from the bound ``(T_ref - T) HVI3(y | front at T)`` (:func:`_hvi4_bound`).
:func:`hypervolume_4d` is the matching dominated hypervolume of measured rows. Off, nothing
of the 3-D path changes.

The same acquisition is a BoTorch ``AcquisitionFunction``, :class:`GridAcquisition`
(``forward(X)`` on batch x q x d candidates, ``set_X_pending``): with
``optimize_acqf_discrete(acqf, q, choices=...)`` it picks the same batch as :func:`suggest`
(tested); :func:`suggest` drives it with lazy greedy re-scoring, which is faster.

Why not BoTorch's own discrete route (measured, ``benchmarks/bench_suggest_latency.py``):
``qLogNoisyExpectedHypervolumeImprovement`` on the same surrogate's ``posterior_model()``
(128 Sobol samples, ``X_baseline`` the measured ok recipes, ``prune_baseline``;
``cache_root`` is not supported by BoTorch for this mixture model), plus ``log p_feasible``,
with ``optimize_acqf_discrete(q=4)`` over the same candidates, on 10 mechanistic worlds:
one run, physics-gp, batch 4, times of the acquisition alone (surrogate fitted outside the
clock), median over the 10 worlds, one torch thread per process on a shared 2-core machine
(wall inflated by the load; process CPU time in brackets), HV gain = true hypervolume the
4 recipes add / true grid front's (model space, reference at the default thresholds),
median and 10th percentile over the worlds:

====  =================  ====================  ==================  ==================
rows  ours wall (cpu) s  BoTorch wall (cpu) s  ours HV gain        BoTorch HV gain
====  =================  ====================  ==================  ==================
20    8.0 (2.1)          66.0 (15.1)           0.143, p10 0.015    0.155, p10 0.020
40    11.1 (2.2)         106.0 (22.4)          0.046, p10 0.021    0.032, p10 0.022
60    7.9 (2.5)          104.3 (32.9)          0.029, p10 0.0068   0.027, p10 0.0065
====  =================  ====================  ==================  ==================

Per world, BoTorch's batch gained more in 7 of 10 worlds at 20 rows (median +0.008), less
in 5 (more in 2) at 40 rows and less in 8 (more in 1) at 60 rows: the same estimator up to
Monte Carlo noise and qLogNEHVI's smoothing, no better overall, and 7-13x the CPU time (it
re-scores every candidate with a batched joint posterior at each of the 4 greedy steps).
It misses the 2 s target at 60 rows by far, so the production path stays the exact grid
NEHVI here; ours also misses it on this shared machine (2.5 s of CPU at 60 rows).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from botorch.acquisition import AcquisitionFunction
from botorch.utils.multi_objective.hypervolume import Hypervolume
from botorch.utils.multi_objective.pareto import is_non_dominated
from scipy.stats import qmc

from design.acquisition.thresholds import (
    DEFAULT_SIGMA_MODE_THRESHOLDS,
    DEFAULT_THRESHOLDS,
    TEMPERATURE_THRESHOLD,
    check_temperature_objective,
    check_thresholds,
)
from physics.errors import ConfigError
from physics.jsonsafe import finite_or_none
from physics.schema import MAXIMIZE, OBJECTIVES, RECIPE_COLUMNS, RecipeSpace
from physics.table import empty_table, validate_table
from surrogate import make_surrogate
from surrogate.base import AcquisitionSurrogate, split_noise_columns, to_model_space
from surrogate.sampling import ConditionalSampler

__all__ = [
    "MIN_P_FEASIBLE",
    "OBJECTIVE_MODES",
    "GridAcquisition",
    "Suggestion",
    "hypervolume",
    "hypervolume_4d",
    "reference_point",
    "reference_temperature_c",
    "suggest",
]

OBJECTIVE_MODES: tuple[str, ...] = ("multi", "sigma")
#: Candidates less likely than this to survive the furnace are skipped (while others remain).
MIN_P_FEASIBLE = 0.2
N_MC_SAMPLES = 128
#: Larger candidate sets are cut to the likeliest-feasible ones before joint sampling.
MAX_JOINT_CANDIDATES = 3000
_CHUNK = 256
_LAZY_BLOCK = 64
_DTYPE = torch.double


@dataclass
class Suggestion:
    """One proposed recipe with its predictions (property units) and acquisition score."""

    recipe: dict[str, float]
    mean: dict[str, float]
    sd: dict[str, float]
    p_feasible: float
    acquisition_value: float

    def to_record(self) -> dict[str, Any]:
        """JSON-ready: recipe fields, ``{objective: {"mean", "sd"}}``, p_feasible, acq value."""
        rec: dict[str, Any] = dict(self.recipe)
        for name in OBJECTIVES:
            rec[name] = {
                "mean": finite_or_none(self.mean[name]),
                "sd": finite_or_none(self.sd[name]),
            }
        rec["p_feasible"] = finite_or_none(self.p_feasible)
        rec["acquisition_value"] = finite_or_none(self.acquisition_value)
        return rec


def reference_point(thresholds: dict[str, float] | None = None) -> torch.Tensor:
    """Model-space reference point (maximization form: log sigma, log CCD, -logit t_e)."""
    thr = {**DEFAULT_THRESHOLDS, **check_thresholds(thresholds)}
    ref = [to_model_space(n, np.float64(thr[n])) * (1 if MAXIMIZE[n] else -1) for n in OBJECTIVES]
    return torch.tensor(ref, dtype=_DTYPE)


def hypervolume(table: pd.DataFrame, thresholds: dict[str, float] | None = None) -> float:
    """Dominated hypervolume of the measured ok rows, in model space.

    Points are ``(log sigma, log CCD, -logit t_e)`` (natural logs; a censored CCD counts as
    its bound); the reference point is :func:`reference_point` of ``thresholds``, by default
    ``(log 0.5 mS/cm, log 0.1 mA/cm2, -logit 0.1)``. Rows missing an objective are skipped.
    """
    clean = validate_table(table) if len(table) else empty_table()
    ok = clean[clean["status"] == "ok"].dropna(subset=list(OBJECTIVES))
    if ok.empty:
        return 0.0
    Y = torch.tensor(
        np.column_stack(
            [
                to_model_space(n, ok[n].to_numpy(float)) * (1 if MAXIMIZE[n] else -1)
                for n in OBJECTIVES
            ]
        ),
        dtype=_DTYPE,
    )
    ref = reference_point(thresholds)
    Y = Y[(Y > ref).all(-1)]
    if len(Y) == 0:
        return 0.0
    return float(Hypervolume(ref).compute(Y[is_non_dominated(Y)]))


def reference_temperature_c(
    space: RecipeSpace | None = None, thresholds: dict[str, float] | None = None
) -> float:
    """Reference sintering temperature (degC) of the 4-D hypervolume (temperature minimized).

    The threshold ``sinter_temperature_c`` when given, else the space's upper temperature
    bound plus one grid step, so that the hottest recipes still count (one step wide) rather
    than adding nothing.
    """
    thr = check_thresholds(thresholds)
    if TEMPERATURE_THRESHOLD in thr:
        return float(thr[TEMPERATURE_THRESHOLD])
    axis = (space or RecipeSpace()).sinter_temperature_c
    return float(axis.max_value + axis.step)


def _model_points(ok: pd.DataFrame) -> torch.Tensor:
    return torch.tensor(
        np.column_stack(
            [
                to_model_space(n, ok[n].to_numpy(float)) * (1 if MAXIMIZE[n] else -1)
                for n in OBJECTIVES
            ]
        ),
        dtype=_DTYPE,
    ).reshape(-1, 3)


def hypervolume_4d(
    table: pd.DataFrame,
    thresholds: dict[str, float] | None = None,
    space: RecipeSpace | None = None,
) -> float:
    """Dominated 4-D hypervolume of the measured ok rows: the three objectives of
    :func:`hypervolume` and the sintering temperature, minimized.

    Reference: :func:`reference_point` of ``thresholds`` and
    :func:`reference_temperature_c`. Computed by temperature slabs: the rows sorted by
    temperature, ``HV4 = sum_k (t_{k+1} - t_k) HV3(rows with T <= t_k)`` over the distinct
    temperatures ``t_k`` below the reference (``t_K`` = the reference). Unit: model-space
    volume x degC.
    """
    clean = validate_table(table) if len(table) else empty_table()
    ok = clean[clean["status"] == "ok"].dropna(subset=[*OBJECTIVES, "sinter_temperature_c"])
    t_ref = reference_temperature_c(space, thresholds)
    if ok.empty:
        return 0.0
    Y = _model_points(ok)
    T = torch.tensor(ok["sinter_temperature_c"].to_numpy(float), dtype=_DTYPE)
    ref = reference_point(thresholds)
    keep = (Y > ref).all(-1) & (T < t_ref)
    Y, T = Y[keep], T[keep]
    if len(Y) == 0:
        return 0.0
    levels = sorted(set(T.tolist()))
    total = 0.0
    for k, t in enumerate(levels):
        top = levels[k + 1] if k + 1 < len(levels) else t_ref
        sub = Y[T <= t]
        total += (top - t) * float(Hypervolume(ref).compute(sub[is_non_dominated(sub)]))
    return total


def _recipe_keys(recipes: np.ndarray) -> set[tuple[float, float, float]]:
    return {tuple(np.round(r, 6)) for r in np.asarray(recipes, float).reshape(-1, 3)}


def _pending_array(pending: list[dict] | None, space: RecipeSpace) -> np.ndarray:
    rows = [
        space.validate({**p, "dwell_h": p.get("dwell_h", space.default_dwell_h)})
        for p in (pending or [])
    ]
    return np.array([[r[c] for c in RECIPE_COLUMNS] for r in rows]).reshape(-1, 3)


def _hvi(Y: torch.Tensor, front: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """Exact hypervolume improvement of points over a 3-D front, per MC sample.

    The region above ``ref`` not dominated by the front is cut into columns over the grid of
    the front's first two coordinates; in column ``(i, j)`` it is ``z > zmax_ij``, the largest
    third coordinate of the front points that dominate the column. Then
    ``HVI(y) = sum_ij [min(y0, hi_i) - lo_i]+ [min(y1, hi_j) - lo_j]+ [y2 - zmax_ij]+``.

    Args:
        Y: (S, c, 3) candidate values (maximization form).
        front: (S, m, 3) front points (padded with ``ref``; dominated points are harmless).
        ref: (3,) reference point.

    Returns:
        (S, c) hypervolume improvements.
    """
    F = torch.maximum(front, ref)
    S = F.shape[0]
    inf = torch.full((S, 1), torch.inf, dtype=F.dtype)
    edges = []
    for k in range(2):
        xs = F[..., k].sort(-1).values
        lo = torch.cat([ref[k].expand(S, 1), xs], -1)
        hi = torch.cat([xs, inf], -1)
        edges.append((lo, hi))
    (lo0, hi0), (lo1, hi1) = edges
    dom = (F[:, None, None, :, 0] >= hi0[:, :, None, None]) & (
        F[:, None, None, :, 1] >= hi1[:, None, :, None]
    )
    zmax = torch.where(dom, F[:, None, None, :, 2], ref[2]).amax(-1).clamp_min(ref[2])
    w0 = (torch.minimum(Y[..., 0, None], hi0[:, None, :]) - lo0[:, None, :]).clamp_min(0)
    w1 = (torch.minimum(Y[..., 1, None], hi1[:, None, :]) - lo1[:, None, :]).clamp_min(0)
    h = (Y[..., 2, None, None] - zmax[:, None, :, :]).clamp_min(0)
    # sum_ij w0_i w1_j h_ij as a batched vector-matrix product (5x faster than the einsum)
    return (torch.matmul(w0.unsqueeze(-2), h).squeeze(-2) * w1).sum(-1)


def _pareto_pad(P: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """(S, n, 3) -> (S, m, 3): the non-dominated points of each sample, padded with ``ref``."""
    if P.shape[1] == 0:
        return ref.expand(P.shape[0], 1, 3).clone()
    mask = is_non_dominated(P, deduplicate=False) & (P > ref).all(-1)
    m = max(int(mask.sum(-1).max()), 1)
    order = torch.argsort(mask.to(torch.int8), dim=-1, descending=True, stable=True)[:, :m]
    out = torch.gather(P, 1, order[..., None].expand(-1, -1, 3))
    keep = torch.gather(mask, 1, order)
    return torch.where(keep[..., None], out, ref)


Slabs = list[tuple[float, torch.Tensor]]


def _slabs(P: torch.Tensor, T: torch.Tensor, ref: torch.Tensor, t_ref: float) -> Slabs:
    """The incumbents' 3-D fronts by temperature: ``[(t_k, front_k)]``, ``t_k`` increasing.

    ``front_k`` (S, m, 3), padded as :func:`_pareto_pad`, is the front of the incumbents
    with ``T <= t_k``; it holds in the slab ``[t_k, t_{k+1})`` (the last one up to
    ``t_ref``). A temperature whose incumbents join no sample's front (below the reference
    or dominated by cooler ones in every sample) starts no slab: the previous front holds.

    Args:
        P: (S, n, 3) incumbent samples (maximization form).
        T: (n,) their sintering temperatures, degC.
        ref: (3,) reference point.
        t_ref: reference temperature, degC.
    """
    out: Slabs = []
    for t in sorted(set(T[T < t_ref].tolist())):
        inside = T <= t
        sub = P[:, inside]
        new = T[inside] == t
        mask = is_non_dominated(sub, deduplicate=False) & (sub > ref).all(-1)
        if out and not bool(mask[:, new].any()):
            continue
        out.append((t, _pareto_pad(sub, ref)))
    return out


def _hvi4(
    Y: torch.Tensor, T: torch.Tensor, slabs: Slabs, ref: torch.Tensor, t_ref: float
) -> torch.Tensor:
    """Exact 4-D hypervolume improvement (the 3 objectives and temperature, minimized).

    ``HVI4(y, T) = sum_k |[t_k, t_{k+1}) & [T, t_ref)| HVI3(y | front_k)`` with the slabs
    of :func:`_slabs` and, below the first slab, the empty front (``HVI3`` is then the box
    ``prod (y - ref)+``). Each slab's :func:`_hvi` runs on the candidates cooler than its
    top only.

    Args:
        Y: (S, c, 3) candidate samples.
        T: (c,) candidate temperatures, degC.
        slabs: from :func:`_slabs` on the incumbents.
        ref: (3,) reference point; t_ref: reference temperature, degC.

    Returns:
        (S, c) improvements (model-space volume x degC).
    """
    starts = [t for t, _ in slabs] + [t_ref]
    below = torch.clamp(starts[0] - T, min=0.0).to(Y.dtype)
    out = (Y - ref).clamp_min(0).prod(-1) * below
    # a candidate that improves nothing over front_k (in every sample) improves nothing over
    # the larger fronts of the warmer slabs either: it leaves the loop
    alive = (Y > ref).all(-1).any(0) & (T < t_ref)
    for k, (t_k, front) in enumerate(slabs):
        top = starts[k + 1]
        sel = torch.nonzero(alive & (T < top)).flatten()
        if len(sel) == 0:
            continue
        width = (top - torch.clamp(T[sel], min=t_k)).to(Y.dtype)
        hvi = _hvi(Y[:, sel], front, ref)
        out[:, sel] += hvi * width
        alive[sel[(hvi <= 0).all(0)]] = False
    return out


def _hvi4_bound(
    Y: torch.Tensor, T: torch.Tensor, slabs: Slabs, ref: torch.Tensor, t_ref: float
) -> torch.Tensor:
    """An upper bound of :func:`_hvi4` at the cost of one 3-D improvement per candidate:
    ``(t_ref - T) HVI3(y | front at T)`` (the fronts only grow with the temperature, so the
    3-D improvement at ``T`` bounds it at every warmer ``t``).

    Returns:
        (S, c) bounds (0 at or above ``t_ref``).
    """
    starts = [t for t, _ in slabs] + [t_ref]
    width = torch.clamp(t_ref - T, min=0.0).to(Y.dtype)
    out = (Y - ref).clamp_min(0).prod(-1) * width * (T < starts[0])
    alive = (Y > ref).all(-1).any(0)
    for k, (t_k, front) in enumerate(slabs):
        sel = torch.nonzero(alive & (T >= t_k) & (T < starts[k + 1])).flatten()
        if len(sel):
            out[:, sel] = _hvi(Y[:, sel], front, ref) * width[sel]
    return out


class _Scorer:
    """MC acquisition on joint samples: NEHVI (multi) or constrained NEI (sigma).

    With ``t_ref`` (multi only) the hypervolume is 4-D, the sintering temperature minimized
    (:func:`_hvi4`); the temperatures of incumbents and candidates are then passed along.
    """

    def __init__(
        self,
        objective: str,
        ref: torch.Tensor,
        limits: dict[int, float],
        t_ref: float | None = None,
    ) -> None:
        self.objective, self.ref, self.limits, self.t_ref = objective, ref, limits, t_ref

    def set_incumbents(self, P: torch.Tensor, T: torch.Tensor | None = None) -> None:
        """P: (S, n, 3) samples at measured + pending recipes; T: (n,) their temperatures
        (4-D mode)."""
        if self.objective == "multi" and self.t_ref is not None:
            assert T is not None
            self.slabs = _slabs(P, T, self.ref, self.t_ref)
        elif self.objective == "multi":
            self.front = _pareto_pad(P, self.ref)
        else:
            ok = self._feasible(P)
            best = torch.where(ok, P[..., 0], -torch.inf).amax(-1) if P.shape[1] else None
            self.best = (
                torch.full((P.shape[0],), -torch.inf, dtype=P.dtype) if best is None else best
            )

    def _feasible(self, Y: torch.Tensor) -> torch.Tensor:
        ok = torch.ones(Y.shape[:-1], dtype=torch.bool)
        for i, level in self.limits.items():
            ok &= Y[..., i] >= level
        return ok

    def bound(self, Y: torch.Tensor, T: torch.Tensor) -> torch.Tensor:
        """(S, c, 3), (c,) -> (c,) an upper bound of the 4-D expected improvement."""
        assert self.t_ref is not None
        return _hvi4_bound(Y, T, self.slabs, self.ref, self.t_ref).mean(0)

    def __call__(self, Y: torch.Tensor, T: torch.Tensor | None = None) -> torch.Tensor:
        """Y: (S, c, 3) (T: (c,) temperatures in 4-D mode) -> (c,) expected improvement."""
        if self.objective == "multi" and self.t_ref is not None:
            assert T is not None
            return _hvi4(Y, T, self.slabs, self.ref, self.t_ref).mean(0)
        if self.objective == "multi":
            return _hvi(Y, self.front, self.ref).mean(0)
        base = torch.where(torch.isfinite(self.best), self.best, Y[..., 0].min() - 1.0)
        gain = (Y[..., 0] - base[:, None]).clamp_min(0) * self._feasible(Y)
        return gain.mean(0)


def _optimism(mean: torch.Tensor, sd: torch.Tensor, ref: torch.Tensor) -> np.ndarray:
    """Tie-break score where every improvement is zero: worst margin of ``mean + 2 sd``."""
    return ((mean + 2 * sd - ref) / sd.clamp_min(1e-3)).amin(-1).numpy()


class GridAcquisition(AcquisitionFunction):
    """The grid acquisition as a BoTorch ``AcquisitionFunction`` over a finite candidate set.

    ``forward(X)`` (batch x q x d, every point one of the candidates ``X_candidates``) is
    ``log E[improvement of the q points jointly] + sum_q log p_feasible``: exact NEHVI per
    quasi-MC sample (multi) or constrained NEI (sigma), given the measured recipes and any
    pending ones (``set_X_pending``, as ``optimize_acqf_discrete`` calls it); points that
    can improve nothing get ``NO_GAIN + optimism + log p_feasible`` (below every point that
    can), so the argmax is the same as :func:`suggest`'s tie-break. Usable with
    ``botorch.optim.optimize_acqf_discrete(acqf, q, choices=acqf.X_candidates)``;
    :func:`suggest` runs the same greedy with lazy re-scoring (:meth:`gains`).

    Args:
        model: the surrogate's ``posterior_model()`` (objectives in model space).
        X_baseline: (n, d) encoded measured ok recipes.
        X_candidates: (n_c, d) encoded candidates.
        log_pf: (n_c,) log probability of feasibility of each candidate (``-inf``: never).
        objective: ``"multi"`` or ``"sigma"``.
        thresholds: reference point (multi) or outcome constraints (sigma), property units.
        n_samples: quasi-MC samples.
        seed: seed of the base samples.
        temperature_ref_c: with a reference temperature (degC), the sintering temperature is
            a fourth objective, minimized (multi only): exact 4-D NEHVI by temperature slabs
            (:func:`_hvi4`); then ``baseline_temperature_c`` (n,) and
            ``candidate_temperature_c`` (n_c,) give the recipes' temperatures, and pending
            recipes must be candidates.
        baseline_temperature_c: see ``temperature_ref_c``.
        candidate_temperature_c: see ``temperature_ref_c``.
    """

    NO_GAIN = -1e6

    def __init__(
        self,
        model: Any,
        X_baseline: np.ndarray,
        X_candidates: np.ndarray,
        log_pf: np.ndarray,
        *,
        objective: str = "multi",
        thresholds: dict[str, float] | None = None,
        n_samples: int = N_MC_SAMPLES,
        seed: int = 0,
        temperature_ref_c: float | None = None,
        baseline_temperature_c: np.ndarray | None = None,
        candidate_temperature_c: np.ndarray | None = None,
    ) -> None:
        super().__init__(model)
        thresholds = check_thresholds(thresholds)
        no_temperatures = baseline_temperature_c is None or candidate_temperature_c is None
        if temperature_ref_c is not None and (objective != "multi" or no_temperatures):
            raise ConfigError(
                "minimizing the temperature needs objective 'multi' and the recipes' temperatures"
            )
        if objective == "multi":
            ref = reference_point(thresholds)
            limits: dict[int, float] = {}
        else:
            cons = {**DEFAULT_SIGMA_MODE_THRESHOLDS, **thresholds}
            ref = reference_point(cons)
            limits = {
                i: float(ref[i])
                for i, n in enumerate(OBJECTIVES)
                if n in cons and n != "sigma_total_ms_cm"
            }
        self.scorer = _Scorer(
            objective, ref, limits, None if temperature_ref_c is None else float(temperature_ref_c)
        )
        self._T_base = (
            []
            if baseline_temperature_c is None
            else [float(t) for t in np.asarray(baseline_temperature_c, float).ravel()]
        )
        self._T_c = (
            None
            if candidate_temperature_c is None
            else torch.as_tensor(np.asarray(candidate_temperature_c, float), dtype=_DTYPE)
        )
        self._T_inc = list(self._T_base)
        self._scored: Any = None
        self.X_baseline = np.asarray(X_baseline, float).reshape(-1, np.shape(X_candidates)[-1])
        self.X_candidates = torch.as_tensor(np.asarray(X_candidates, float), dtype=_DTYPE)
        self.log_pf = np.asarray(log_pf, float)
        self.n_samples, self.seed = n_samples, seed
        self._d = self.X_candidates.shape[-1]
        self._index = {_key(x): i for i, x in enumerate(self.X_candidates.numpy())}
        self._pending: list[np.ndarray] = []
        self.sampler = self._new_sampler(self.X_baseline)
        self.tiebreak = _optimism(self.sampler.mean_c, self.sampler.sd_c, ref)

    def _new_sampler(self, X_inc: np.ndarray) -> ConditionalSampler:
        return ConditionalSampler(
            self.model, X_inc, self.X_candidates.numpy(), self.n_samples, self.seed
        )

    def indices(self, X: torch.Tensor) -> np.ndarray:
        """Candidate index of each point of X (..., d).

        Raises:
            ValueError: a point is not one of the candidates.
        """
        flat = X.detach().reshape(-1, X.shape[-1]).cpu().numpy()
        try:
            idx = [self._index[_key(x)] for x in flat]
        except KeyError as err:
            raise ValueError("GridAcquisition scores only its candidates (X_candidates)") from err
        return np.array(idx, dtype=int).reshape(X.shape[:-1])

    def gains(self, idx: np.ndarray) -> np.ndarray:
        """Expected improvement (not log, no feasibility) of candidates ``idx`` alone,
        given the measured and pending recipes."""
        if self._T_c is None:
            self.scorer.set_incumbents(self.sampler.incumbents)
            return np.concatenate(
                [
                    self.scorer(self.sampler.candidates(idx[i : i + _CHUNK])).numpy()
                    for i in range(0, len(idx), _CHUNK)
                ]
                or [np.zeros(0)]
            )
        return self._by_temperature(idx, self.scorer)

    def upper_bounds(self, idx: np.ndarray) -> np.ndarray | None:
        """Upper bounds of :meth:`gains` (4-D mode; ``None`` in 3-D mode, where the greedy
        scores every candidate exactly first)."""
        if self._T_c is None:
            return None
        return self._by_temperature(idx, self.scorer.bound)

    def _by_temperature(self, idx: np.ndarray, score: Any) -> np.ndarray:
        assert self._T_c is not None
        if self._scored is not self.sampler.Y_C:  # the slabs change only with the incumbents
            T_inc = torch.tensor(self._T_inc, dtype=_DTYPE)
            self.scorer.set_incumbents(self.sampler.incumbents, T_inc)
            self._scored = self.sampler.Y_C
        return np.concatenate(
            [
                score(
                    self.sampler.candidates(idx[i : i + _CHUNK]), self._T_c[idx[i : i + _CHUNK]]
                ).numpy()
                for i in range(0, len(idx), _CHUNK)
            ]
            or [np.zeros(0)]
        )

    def _condition_on(self, i: int) -> None:
        self.sampler.add(int(i))
        if self._T_c is not None:
            self._T_inc.append(float(self._T_c[int(i)]))

    def add_pending(self, i: int) -> None:
        """Condition on candidate ``i`` as pending (its sampled values in each sample)."""
        self._condition_on(int(i))
        self._pending.append(self.X_candidates[int(i)].numpy())

    @property
    def X_pending(self) -> torch.Tensor | None:  # type: ignore[override]
        """(n_p, d) the pending recipes conditioned on, or None."""
        if not self._pending:
            return None
        return torch.as_tensor(np.array(self._pending), dtype=_DTYPE)

    def set_X_pending(self, X_pending: torch.Tensor | None = None) -> None:
        """Pending recipes (n_p, d): candidates join with their sampled values, others by
        a new joint draw with the measured ones."""
        rows = [] if X_pending is None else list(X_pending.detach().reshape(-1, self._d).numpy())
        n_old = len(self._pending)
        same = n_old <= len(rows) and all(
            _key(a) == _key(b) for a, b in zip(self._pending, rows[:n_old], strict=False)
        )
        new = rows[n_old:] if same else rows
        if not same:
            self._pending = []
            self._T_inc = list(self._T_base)
            self.sampler = self._new_sampler(self.X_baseline)
        outside = [r for r in new if _key(r) not in self._index]
        if outside and self._T_c is not None:
            raise ValueError("with the temperature objective, pending recipes must be candidates")
        if outside:
            # a recipe off the candidate set: redraw with it among the conditioning set
            self._pending = []
            inc = [r for r in rows if _key(r) not in self._index]
            self.sampler = self._new_sampler(np.concatenate([self.X_baseline, np.array(inc)]))
            self._pending.extend(inc)
            new = [r for r in rows if _key(r) in self._index]
        for r in new:
            self.add_pending(self._index[_key(r)])

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Log acquisition (batch_shape) of each q-batch of candidates X (batch x q x d)."""
        idx = self.indices(X)
        shape = idx.shape[:-1]
        idx = idx.reshape(-1, idx.shape[-1])
        if idx.shape[-1] == 1:
            gain = self.gains(idx[:, 0])
        else:  # joint: the q points added one after another in each sample
            gain = np.empty(len(idx))
            base, base_T = self.sampler, list(self._T_inc)
            for b, row in enumerate(idx):
                self.sampler, self._T_inc = copy.copy(base), list(base_T)
                total = 0.0
                for i in row:
                    total += float(self.gains(np.array([i]))[0])
                    self._condition_on(int(i))
                gain[b] = total
            self.sampler, self._T_inc = base, base_T
        pf = self.log_pf[idx].sum(-1)
        with np.errstate(divide="ignore"):
            out = np.where(
                gain > 0,
                np.log(np.clip(gain, 1e-300, None)) + pf,
                self.NO_GAIN + self.tiebreak[idx].max(-1) + pf,
            )
        return torch.as_tensor(out, dtype=X.dtype).reshape(shape)


def _key(x: np.ndarray) -> tuple[float, ...]:
    return tuple(np.round(np.asarray(x, float), 9))


def _greedy(acqf: GridAcquisition, batch_size: int) -> tuple[list[int], list[float]]:
    """Sequential greedy batch: take the best candidate, condition on it, repeat.

    The same picks as ``optimize_acqf_discrete`` on ``acqf`` (sequential greedy with
    ``X_pending``), faster: the first step scores every candidate; later steps are lazy (as
    in lazy greedy for submodular functions: a candidate's gain can only shrink as pending
    points are added): candidates are re-scored in blocks by decreasing stale score until
    the best re-scored one beats every stale score left. When the acquisition offers cheap
    upper bounds (``upper_bounds``: the 4-D mode), the first step is lazy too, from them.
    """
    log_pf, tiebreak = acqf.log_pf, acqf.tiebreak
    n = len(log_pf)
    upper = np.full(n, -np.inf)
    chosen: list[int] = []
    values: list[float] = []

    def rescore(idx: np.ndarray) -> None:
        with np.errstate(divide="ignore"):
            upper[idx] = np.log(np.clip(acqf.gains(idx), 0, None)) + log_pf[idx]

    first = np.flatnonzero(np.isfinite(log_pf))
    bounds = getattr(acqf, "upper_bounds", None)
    ub = None if bounds is None else bounds(first)
    if ub is None:
        rescore(first)
    else:
        with np.errstate(divide="ignore"):
            upper[first] = np.log(np.clip(ub, 0, None)) + log_pf[first]
    for step in range(batch_size):
        avail = np.isfinite(log_pf)
        avail[chosen] = False
        if not avail.any():
            break
        if step > 0 or ub is not None:
            stale = avail & np.isfinite(upper)
            while stale.any():
                order = np.flatnonzero(stale)[np.argsort(-upper[stale], kind="stable")]
                block = order[:_LAZY_BLOCK]
                rescore(block)
                stale[block] = False
                rest = upper[stale].max() if stale.any() else -np.inf
                if upper[block].max() >= rest:
                    break
        if np.isfinite(upper[avail]).any():
            best = int(np.flatnonzero(avail)[np.argmax(upper[avail])])
        else:  # no improvement anywhere (e.g. nothing can beat the thresholds): be optimistic
            best = int(np.argmax(np.where(avail, tiebreak + log_pf, -np.inf)))
        chosen.append(best)
        values.append(float(upper[best]))
        acqf.add_pending(best)
    return chosen, values


def _model_pick(
    surrogate: AcquisitionSurrogate,
    model: Any,
    X_ok: np.ndarray,
    candidates: np.ndarray,
    pend: np.ndarray,
    objective: str,
    thresholds: dict[str, float],
    batch_size: int,
    seed: int,
    temperature_ref_c: float | None = None,
    ok_temperature_c: np.ndarray | None = None,
) -> tuple[list[int], list[float]]:
    """Joint posterior samples at measured, pending and candidate recipes -> greedy batch.

    With ``temperature_ref_c`` the temperature is a fourth objective (``ok_temperature_c``:
    the measured ok recipes' temperatures).
    """
    Xc = surrogate.encode(candidates)
    pf = surrogate.p_feasible(Xc)
    log_pf = np.log(np.clip(pf, 1e-12, None))
    if (pf >= MIN_P_FEASIBLE).sum() >= batch_size:
        log_pf[pf < MIN_P_FEASIBLE] = -np.inf
    if len(Xc) > MAX_JOINT_CANDIDATES:  # very large grids (dwell free): pre-screen
        keep = np.sort(_prescreen(model, Xc, log_pf, thresholds))
        picks, values = _model_pick(
            surrogate,
            model,
            X_ok,
            candidates[keep],
            pend,
            objective,
            thresholds,
            batch_size,
            seed,
            temperature_ref_c,
            ok_temperature_c,
        )
        return [int(keep[i]) for i in picks], values
    X_inc = np.concatenate([X_ok, surrogate.encode(pend)]) if len(pend) else X_ok
    if temperature_ref_c is None:
        acqf = GridAcquisition(
            model, X_inc, Xc, log_pf, objective=objective, thresholds=thresholds, seed=seed
        )
    else:
        T_inc = np.concatenate([np.asarray(ok_temperature_c, float), pend[:, 1]])
        acqf = GridAcquisition(
            model,
            X_inc,
            Xc,
            log_pf,
            objective=objective,
            thresholds=thresholds,
            seed=seed,
            temperature_ref_c=temperature_ref_c,
            baseline_temperature_c=T_inc,
            candidate_temperature_c=candidates[:, 1],
        )
    return _greedy(acqf, batch_size)


def _prescreen(
    model: Any, Xc: np.ndarray, log_pf: np.ndarray, thresholds: dict[str, float]
) -> np.ndarray:
    """Indices of the MAX_JOINT_CANDIDATES most promising candidates by marginal optimism."""
    X = torch.as_tensor(Xc, dtype=_DTYPE)
    sign = torch.tensor([1.0 if MAXIMIZE[n] else -1.0 for n in OBJECTIVES], dtype=_DTYPE)
    with torch.no_grad():  # a batch of one-point posteriors: marginals only
        post = model.posterior(X.unsqueeze(-2))
    mean = post.mean.reshape(len(X), -1) * sign
    sd = post.variance.reshape(len(X), -1).clamp_min(0).sqrt()
    score = _optimism(mean, sd, reference_point(thresholds)) + log_pf
    return np.argsort(-score, kind="stable")[:MAX_JOINT_CANDIDATES]


def _sobol_pick(
    candidates: np.ndarray, space: RecipeSpace, batch_size: int, seed: int
) -> list[int]:
    """Scrambled Sobol points snapped to the nearest free candidate (distinct)."""
    lo, hi = space.bounds
    width = np.where(hi > lo, hi - lo, 1.0)
    unit = (candidates - lo) / width
    d = 3 if space.dwell_free else 2
    pts = qmc.Sobol(d, scramble=True, seed=seed).random(max(batch_size, 1))[:batch_size]
    free = np.ones(len(candidates), bool)
    picks = []
    for p in pts:
        dist = ((unit[:, :d] - p) ** 2).sum(-1)
        dist[~free] = np.inf
        i = int(np.argmin(dist))
        if not np.isfinite(dist[i]):
            break
        picks.append(i)
        free[i] = False
    return picks


def suggest(
    table: pd.DataFrame | None,
    *,
    space: RecipeSpace | None = None,
    batch_size: int = 4,
    strategy: str = "physics-gp",
    thresholds: dict[str, float] | None = None,
    pending: list[dict] | None = None,
    objective: str = "multi",
    seed: int = 0,
    surrogate: Any = None,
    minimize_temperature: bool = False,
) -> list[Suggestion]:
    """The next ``batch_size`` recipes to sinter, best first.

    Args:
        table: the measurement table so far (may be empty or None: cold start; physics-gp
            then works from its prior, gp falls back to Sobol points).
        space: the recipe space (default :class:`RecipeSpace` ``()``).
        batch_size: number of recipes (>= 1).
        strategy: one of :data:`surrogate.STRATEGIES` (ignored when ``surrogate`` is given).
        thresholds: ``{objective: value}`` in property units: the hypervolume reference point
            (multi) or outcome constraints (sigma mode).
        pending: recipes already sent to the furnace but not measured.
        objective: ``"multi"`` or ``"sigma"``.
        seed: seeds the surrogate fit, the MC sampler and the Sobol draws.
        surrogate: an (unfitted) surrogate to use; it is fitted on ``table`` here.
        minimize_temperature: the sintering temperature as a fourth objective, minimized
            (multi only): exact 4-D NEHVI, the reference temperature
            :func:`reference_temperature_c` (threshold ``sinter_temperature_c`` or the
            space's top plus one step). Off: the 3-D acquisition, unchanged.

    Raises:
        ConfigError: bad batch size, objective, strategy, threshold or pending recipe.
        DataError: an invalid table.
    """
    space = space or RecipeSpace()
    if int(batch_size) < 1:
        raise ConfigError(f"batch size must be at least 1, got {batch_size}")
    if objective not in OBJECTIVE_MODES:
        raise ConfigError(
            f"unknown objective {objective!r}; choose one of: {', '.join(OBJECTIVE_MODES)}"
        )
    thresholds = check_thresholds(thresholds)
    check_temperature_objective(thresholds, minimize_temperature, objective)
    t_ref = reference_temperature_c(space, thresholds) if minimize_temperature else None
    table = empty_table() if table is None else table
    if surrogate is None:
        surrogate = make_surrogate(
            strategy, seed=seed, bounds=space.bounds, default_dwell_h=space.default_dwell_h
        )
    surrogate.fit(table)
    clean, _ = split_noise_columns(table, space.default_dwell_h)
    pend = _pending_array(pending, space)
    excluded = _recipe_keys(clean[list(RECIPE_COLUMNS)].to_numpy(float)) | _recipe_keys(pend)
    grid = space.grid()
    keep = np.array([tuple(np.round(r, 6)) not in excluded for r in grid])
    candidates = grid[keep]
    if len(candidates) == 0:
        raise ConfigError("every recipe of the grid is measured or pending: nothing to suggest")
    model = surrogate.posterior_model() if isinstance(surrogate, AcquisitionSurrogate) else None
    if model is None:
        picks = _sobol_pick(candidates, space, int(batch_size), seed)
        values = [float("nan")] * len(picks)
    else:
        ok = clean[clean["status"] == "ok"]
        X_ok = surrogate.encode(ok)
        picks, values = _model_pick(
            surrogate,
            model,
            X_ok,
            candidates,
            pend,
            objective,
            thresholds,
            int(batch_size),
            seed,
            t_ref,
            None if t_ref is None else ok["sinter_temperature_c"].to_numpy(float),
        )
    chosen = candidates[picks]
    pred = surrogate.predict(chosen)
    out = []
    for k, i in enumerate(range(len(chosen))):
        out.append(
            Suggestion(
                recipe={c: float(chosen[i, j]) for j, c in enumerate(RECIPE_COLUMNS)},
                mean={n: float(pred.mean[n][i]) for n in OBJECTIVES},
                sd={n: float(pred.sd[n][i]) for n in OBJECTIVES},
                p_feasible=float(pred.p_feasible[i]),
                acquisition_value=values[k],
            )
        )
    return out
