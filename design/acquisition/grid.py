"""The grid acquisition as a BoTorch ``AcquisitionFunction``: :class:`GridAcquisition`.

Exact noisy expected hypervolume improvement (multi-objective; 4-D with the sintering
temperature minimized when asked) or constrained noisy expected improvement (sigma), per
quasi-MC joint posterior sample (:class:`surrogate.sampling.ConditionalSampler`), on every
candidate of a finite recipe grid, times the probability the pellet survives the furnace.
:func:`design.acquisition.batch.suggest` drives it with a lazy greedy; why this and not
BoTorch's own qLogNEHVI + ``optimize_acqf_discrete``, with the measured figures, is in
:mod:`design.acquisition.batch`.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from botorch.acquisition import AcquisitionFunction

from design.acquisition.hypervolume import (
    DTYPE,
    hvi,
    hvi4,
    hvi4_bound,
    hvi_bound,
    pareto_pad,
    reference_point,
    temperature_slabs,
)
from design.acquisition.thresholds import DEFAULT_SIGMA_MODE_THRESHOLDS, check_thresholds
from physics.errors import ConfigError
from physics.schema import OBJECTIVES
from surrogate.sampling import ConditionalSampler

__all__ = ["N_MC_SAMPLES", "GridAcquisition", "optimism"]

#: Quasi-MC joint posterior samples per acquisition.
N_MC_SAMPLES = 128
_CHUNK = 256


def _key(x: np.ndarray) -> tuple[float, ...]:
    return tuple(np.round(np.asarray(x, float), 9))


def _temperatures(T: torch.Tensor | None, which: str) -> torch.Tensor:
    """``T``, or a clear error when the 4-D (temperature) scorer was not given it."""
    if T is None:
        raise ValueError(f"the 4-D acquisition needs the sintering temperatures of the {which}")
    return T


class _Scorer:
    """MC acquisition on joint samples: NEHVI (multi) or constrained NEI (sigma).

    With ``t_ref`` (multi only) the hypervolume is 4-D, the sintering temperature minimized
    (:func:`~design.acquisition.hypervolume.hvi4`); the temperatures of incumbents and
    candidates are then passed along.
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
            self.slabs = temperature_slabs(P, _temperatures(T, "incumbents"), self.ref, self.t_ref)
        elif self.objective == "multi":
            self.front = pareto_pad(P, self.ref)
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

    def bound(self, Y: torch.Tensor, T: torch.Tensor | None = None) -> torch.Tensor:
        """(S, c, 3) (T: (c,) in 4-D mode) -> (c,) an upper bound of the expected
        hypervolume improvement (:func:`hvi_bound`, :func:`hvi4_bound`)."""
        if self.objective != "multi":
            raise ValueError("bounds exist for the hypervolume objective only")
        if self.t_ref is None:
            return hvi_bound(Y, self.front, self.ref).mean(0)
        T = _temperatures(T, "candidates")
        return hvi4_bound(Y, T, self.slabs, self.ref, self.t_ref).mean(0)

    def __call__(self, Y: torch.Tensor, T: torch.Tensor | None = None) -> torch.Tensor:
        """Y: (S, c, 3) (T: (c,) temperatures in 4-D mode) -> (c,) expected improvement."""
        if self.objective == "multi" and self.t_ref is not None:
            T = _temperatures(T, "candidates")
            return hvi4(Y, T, self.slabs, self.ref, self.t_ref).mean(0)
        if self.objective == "multi":
            return hvi(Y, self.front, self.ref).mean(0)
        base = torch.where(torch.isfinite(self.best), self.best, Y[..., 0].min() - 1.0)
        gain = (Y[..., 0] - base[:, None]).clamp_min(0) * self._feasible(Y)
        return gain.mean(0)


def optimism(mean: torch.Tensor, sd: torch.Tensor, ref: torch.Tensor) -> np.ndarray:
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
            (:func:`~design.acquisition.hypervolume.hvi4`); then ``baseline_temperature_c`` (n,) and
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
            else torch.as_tensor(np.asarray(candidate_temperature_c, float), dtype=DTYPE)
        )
        self._T_inc = list(self._T_base)
        self._scored: Any = None
        self.X_baseline = np.asarray(X_baseline, float).reshape(-1, np.shape(X_candidates)[-1])
        self.X_candidates = torch.as_tensor(np.asarray(X_candidates, float), dtype=DTYPE)
        self.log_pf = np.asarray(log_pf, float)
        self.n_samples, self.seed = n_samples, seed
        self._d = self.X_candidates.shape[-1]
        self._index = {_key(x): i for i, x in enumerate(self.X_candidates.numpy())}
        self._pending: list[np.ndarray] = []
        self.sampler = self._new_sampler(self.X_baseline)
        self.tiebreak = optimism(self.sampler.mean_c, self.sampler.sd_c, ref)

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
        return self._score(idx, self.scorer)

    def upper_bounds(self, idx: np.ndarray) -> np.ndarray | None:
        """Upper bounds of :meth:`gains` (:func:`hvi_bound` in 3-D, :func:`hvi4_bound` in
        4-D), for a lazy first greedy step; ``None`` for the conductivity-only objective."""
        if self.scorer.objective != "multi":
            return None
        return self._score(idx, self.scorer.bound)

    def _score(self, idx: np.ndarray, score: Any) -> np.ndarray:
        """``score`` of the candidates ``idx`` in chunks, against the incumbents' fronts
        (set once per conditioning set: they change only with the incumbents)."""
        if self._scored is not self.sampler.Y_C:
            T_inc = None if self._T_c is None else torch.tensor(self._T_inc, dtype=DTYPE)
            self.scorer.set_incumbents(self.sampler.incumbents, T_inc)
            self._scored = self.sampler.Y_C
        T_c = None if self._T_c is None else _temperatures(self._T_c, "candidates")
        parts = []
        for i in range(0, len(idx), _CHUNK):
            part = idx[i : i + _CHUNK]
            Y = self.sampler.candidates(part)
            parts.append((score(Y) if T_c is None else score(Y, T_c[part])).numpy())
        return np.concatenate(parts or [np.zeros(0)])

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
        return torch.as_tensor(np.array(self._pending), dtype=DTYPE)

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
