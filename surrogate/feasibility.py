"""Probability that a recipe does not crack: a Laplace GP classifier around a prior logit.

``logit p_ok(x) = m(x) + g(x)``, ``g ~ GP(0, s^2 RBF(x, x'; l))``, Bernoulli likelihood with the
logistic link. ``m`` is the physics prior ``logit(1 - p_crack(x))`` of the calibrated process
model (physics-gp), or a constant, the logit of the smoothed feasible fraction (gp baseline).
The posterior of ``g`` is the Laplace approximation (Rasmussen & Williams, Algorithm 3.1-3.2)
and the predictive probability uses the probit approximation
``p = sigmoid((m + mu) / sqrt(1 + pi var / 8))``.

Kernel hyperparameters are fixed (lengthscale 0.12 of each normalized axis, variance 4):
cracking data are few and binary, and the prior logit carries the shape.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve, solve_triangular

from surrogate.errors import ModelError

__all__ = ["FeasibilityClassifier"]


def _rbf(a: np.ndarray, b: np.ndarray, lengthscale: np.ndarray, variance: float) -> np.ndarray:
    d = (a[:, None, :] - b[None, :, :]) / lengthscale
    return variance * np.exp(-0.5 * (d**2).sum(-1))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


class FeasibilityClassifier:
    """GP classifier of ``status == ok`` over the normalized recipe space.

    Args:
        lengthscale: RBF lengthscale per normalized axis (scalar or (d,)).
        variance: prior variance of the logit deviation ``g``.
        max_iter: Newton iterations of the Laplace mode search.
    """

    def __init__(
        self,
        lengthscale: float | tuple[float, ...] = 0.12,
        variance: float = 4.0,
        max_iter: int = 50,
    ) -> None:
        self.lengthscale = lengthscale
        self.variance = variance
        self.max_iter = max_iter

    def fit(
        self, X: np.ndarray, feasible: np.ndarray, prior_logit: np.ndarray
    ) -> FeasibilityClassifier:
        """Fit on normalized recipes ``X`` (n, d), outcomes (n,) bool and prior logits (n,)."""
        X = np.asarray(X, dtype=float)
        t = np.asarray(feasible, dtype=float)
        m = np.asarray(prior_logit, dtype=float)
        self.ls_ = np.broadcast_to(np.asarray(self.lengthscale, float), (X.shape[1],)).copy()
        self.X_ = X
        n = len(t)
        if n == 0:
            self.grad_ = np.zeros(0)
            self.L_: np.ndarray = np.zeros((0, 0))
            self.sqrt_w_ = np.zeros(0)
            return self
        K = _rbf(X, X, self.ls_, self.variance) + 1e-8 * np.eye(n)
        g = np.zeros(n)
        for _ in range(self.max_iter):
            pi = _sigmoid(m + g)
            w = pi * (1 - pi)
            sw = np.sqrt(w)
            B = np.eye(n) + sw[:, None] * K * sw[None, :]
            L = cho_factor(B, lower=True)
            b = w * g + (t - pi)
            a = b - sw * cho_solve(L, sw * (K @ b))
            g_new = K @ a
            if np.max(np.abs(g_new - g)) < 1e-8:
                g = g_new
                break
            g = g_new
        pi = np.asarray(_sigmoid(m + g), dtype=float)
        w = pi * (1 - pi)
        self.sqrt_w_ = np.sqrt(w)
        self.L_ = np.linalg.cholesky(np.eye(n) + self.sqrt_w_[:, None] * K * self.sqrt_w_[None, :])
        self.grad_ = t - pi
        return self

    def predict_proba(self, X: np.ndarray, prior_logit: np.ndarray) -> np.ndarray:
        """Probability of feasibility at normalized recipes ``X`` (m, d) -> (m,)."""
        if not hasattr(self, "X_"):
            raise ModelError("FeasibilityClassifier.predict_proba called before fit")
        X = np.asarray(X, dtype=float)
        m = np.asarray(prior_logit, dtype=float)
        if len(self.X_) == 0:
            mu = np.zeros(len(X))
            var = np.full(len(X), float(self.variance))
        else:
            ks = _rbf(X, self.X_, self.ls_, self.variance)
            mu = ks @ self.grad_
            v = solve_triangular(self.L_, (self.sqrt_w_[:, None] * ks.T), lower=True)
            var = np.clip(self.variance - (v**2).sum(0), 1e-12, None)
        return _sigmoid((m + mu) / np.sqrt(1.0 + np.pi * var / 8.0))
