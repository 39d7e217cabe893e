"""The process model linearized in its parameters: a GP mean and kernel for one objective.

Kennedy-O'Hagan calibration with a linearized simulator. In model space (log sigma, log
CCD, logit t_e) an objective is

    f(x) = c + phys(x; z) + delta(x),   z ~ N(z_lit, (lambda s)^2 I),   delta ~ GP(0, k_res),

where ``z`` are the process-model parameters mapped to [0, 1] across their calibration
bounds (log scale where the lower bound is positive), ``z_lit`` the literature values
(:class:`physics.process_model.ProcessParameters` defaults), ``s`` = :data:`PRIOR_SD_Z` and
``lambda`` a learned scale. Linearized at ``z*``, ``phys(x; z) ~ phys(x; z*) + J(x)(z - z*)``
with ``J(x)`` the (m,) gradient in ``z``, ``f`` is a Gaussian process with

    mean  m(x) = c + phys(x; z*) + J(x) (z_lit - z*),
    cov   k(x, x') = lambda^2 s^2 J(x) . J(x') + k_res(x, x').

Conditioning it on data is a Bayesian calibration of all parameters at once, jointly with
the discrepancy ``delta``: directions of ``z`` the data do not inform keep their prior, and
the marginal likelihood decides (through ``lambda`` and ``k_res``) how much of what the
data show is a change of parameters, trusted far from the data, and how much a local
discrepancy. The posterior mean of the parameters,
``z_lit + lambda^2 s^2 J(X)^T K^-1 (y - m(X))``, is where the model is linearized again
(:func:`relinearized`): one Gauss-Newton step of that calibration.

``J(x)`` comes from one batched call of the process model (forward differences, step
1e-5 in z) and is cached for the last few input sets.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from gpytorch.constraints import Positive
from gpytorch.kernels import Kernel
from gpytorch.means import Mean
from gpytorch.priors import Prior

from physics.process.calibration import batched_parameters
from physics.process.model import ProcessModel, ProcessParameters
from surrogate.base import to_model_space

__all__ = [
    "LINEARIZED",
    "PRIOR_SD_Z",
    "LinearizedPhysics",
    "PhysicsFeatureKernel",
    "PhysicsFeatureMean",
    "relinearized",
]

#: Parameters in the linearization: all but the reference dwell (it only rescales the
#: rate constants) and the melting point of ZBO (known).
LINEARIZED: tuple[str, ...] = tuple(
    n for n in ProcessParameters.names() if n not in ("dwell_reference_h", "zbo_melt_c")
)
#: Prior sd ``s`` of each parameter in units of its calibration range (before ``lambda``).
PRIOR_SD_Z = 0.1
_STEP = 1e-5
_CACHE = 8
_ROW_CACHE = 200_000


class LinearizedPhysics:
    """Model-space value and parameter gradient of one objective of the process model.

    Args:
        params: the linearization point ``z*``, as parameters.
        name: the objective (a key of the process model's output).
        bounds: (2, 3) recipe bounds, to de-normalize unit-cube inputs.
        reference: the prior centre ``z_lit``; default the literature parameters.
        names: the parameters in ``z``.
    """

    def __init__(
        self,
        params: ProcessParameters,
        name: str,
        bounds: np.ndarray,
        reference: ProcessParameters | None = None,
        names: Sequence[str] = LINEARIZED,
    ) -> None:
        self.name = name
        self.names = tuple(names)
        b = ProcessParameters.bounds()
        lo = np.array([b[n][0] for n in self.names], float)
        hi = np.array([b[n][1] for n in self.names], float)
        self._log = lo > 0
        self._lo = np.where(self._log, np.log(np.where(self._log, lo, 1.0)), lo)
        self._hi = np.where(self._log, np.log(np.where(self._log, hi, 1.0)), hi)
        self.params = params
        self.reference = reference or ProcessParameters()
        self.z_star = self.to_z(params)
        self.z_ref = self.to_z(self.reference)
        self.bounds = np.asarray(bounds, float)
        self._cache: OrderedDict[bytes, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._rows: dict[bytes, tuple[float, np.ndarray]] = {}

    def to_z(self, params: ProcessParameters) -> np.ndarray:
        """Parameters -> (m,) unit-range coordinates ``z``."""
        v = np.array([float(getattr(params, n)) for n in self.names])
        v = np.where(self._log, np.log(np.maximum(v, 1e-300)), v)
        return (v - self._lo) / (self._hi - self._lo)

    def from_z(self, z: np.ndarray) -> np.ndarray:
        """(..., m) ``z`` -> parameter values (the inverse of :meth:`to_z`)."""
        v = self._lo + np.asarray(z, float) * (self._hi - self._lo)
        return np.where(self._log, np.exp(v), v)

    def at(self, z: np.ndarray, recenter: bool = False) -> LinearizedPhysics:
        """The same objective linearized at ``z`` (clipped to [0, 1]).

        ``recenter``: the prior centre moves to ``z`` too (empirical Bayes), otherwise it
        stays at ``z_lit``.
        """
        values = self.from_z(np.clip(z, 0.0, 1.0))
        params = self.params.replace(
            **{n: float(v) for n, v in zip(self.names, values, strict=True)}
        )
        reference = params if recenter else self.reference
        return LinearizedPhysics(params, self.name, self.bounds, reference, self.names)

    def value_and_jacobian(self, xn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """At normalized recipes (n, 3): ``phys(x; z*)`` (n,) and ``J(x)`` (n, m).

        Remembered per array (the last few) and per recipe: only recipes not met before
        run the process model (a posterior at candidates plus a few new points reuses
        the candidates' features).
        """
        xn = np.ascontiguousarray(xn, dtype=float)
        key = xn.tobytes()
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        if len(xn) == 0:
            return self._evaluate(xn)
        uniq, inverse = np.unique(xn, axis=0, return_inverse=True)
        keys = [r.tobytes() for r in uniq]
        new = [j for j, k in enumerate(keys) if k not in self._rows]
        if new:
            if len(self._rows) + len(new) > _ROW_CACHE:
                self._rows.clear()
            f_new, jac_new = self._evaluate(uniq[new])
            for j, f, jac in zip(new, f_new, jac_new, strict=True):
                self._rows[keys[j]] = (f, jac)
        inverse = inverse.reshape(-1)
        f_u = np.array([self._rows[k][0] for k in keys])
        jac_u = np.stack([self._rows[k][1] for k in keys]).reshape(len(keys), len(self.names))
        result = (f_u[inverse], jac_u[inverse])
        self._cache[key] = result
        if len(self._cache) > _CACHE:
            self._cache.popitem(last=False)
        return result

    def _evaluate(self, xn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The process model at normalized recipes (n, 3): value (n,), Jacobian (n, m)."""
        raw = xn * (self.bounds[1] - self.bounds[0]) + self.bounds[0]
        m = len(self.names)
        values = self.from_z(np.vstack([self.z_star, self.z_star + _STEP * np.eye(m)]))
        batch = batched_parameters(self.params, {n: values[:, j] for j, n in enumerate(self.names)})
        with np.errstate(all="ignore"):
            out = ProcessModel(batch).predict(raw[:, 0], raw[:, 1], raw[:, 2])[self.name]
            f = np.broadcast_to(to_model_space(self.name, np.asarray(out, float)), (m + 1, len(xn)))
        jac = ((f[1:] - f[0]) / _STEP).T
        return np.array(f[0]), np.where(np.isfinite(jac), jac, 0.0)

    def mean(self, xn: np.ndarray) -> np.ndarray:
        """``phys(x; z*) + J(x) (z_lit - z*)`` at normalized recipes (n, 3) -> (n,)."""
        f, jac = self.value_and_jacobian(xn)
        return f + jac @ (self.z_ref - self.z_star)


def _flat(x: torch.Tensor) -> np.ndarray:
    return x.detach().reshape(-1, x.shape[-1]).cpu().numpy()


class PhysicsFeatureMean(Mean):
    """GPyTorch mean ``c + phys(x; z*) + J(x) (z_lit - z*)`` with a learned offset ``c``.

    Not differentiable in ``x`` (the acquisition scores a finite grid).
    """

    def __init__(self, lin: LinearizedPhysics, offset: float = 0.0) -> None:
        super().__init__()
        self.lin = lin
        self.register_parameter("constant", torch.nn.Parameter(torch.tensor(float(offset))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = torch.as_tensor(self.lin.mean(_flat(x)), dtype=x.dtype).reshape(x.shape[:-1])
        return m + self.constant.to(x)


class PhysicsFeatureKernel(Kernel):
    """``k(x, x') = lambda^2 s^2 J(x) . J(x')``: parameter uncertainty seen through the model.

    Args:
        lin: the linearized model.
        prior_sd_z: ``s``.
        scale_prior: prior of ``lambda^2``.
    """

    has_lengthscale = False

    def __init__(
        self,
        lin: LinearizedPhysics,
        prior_sd_z: float = PRIOR_SD_Z,
        scale_prior: Prior | None = None,
    ) -> None:
        super().__init__()
        self.lin = lin
        self.prior_sd_z = float(prior_sd_z)
        self.register_parameter(
            "raw_scale", torch.nn.Parameter(torch.zeros((), dtype=torch.double))
        )
        self.register_constraint("raw_scale", Positive())
        if scale_prior is not None:
            self.register_prior(
                "scale_prior", scale_prior, lambda m: m.scale, lambda m, v: m.set_scale(v)
            )

    @property
    def scale(self) -> torch.Tensor:
        """``lambda^2``."""
        return self.raw_scale_constraint.transform(self.raw_scale)

    def set_scale(self, value: Any) -> None:
        """Set ``lambda^2``."""
        value = torch.as_tensor(value, dtype=self.raw_scale.dtype)
        self.initialize(raw_scale=self.raw_scale_constraint.inverse_transform(value))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``s J(x)``, shape (..., n, m)."""
        _, jac = self.lin.value_and_jacobian(_flat(x))
        out = torch.as_tensor(jac, dtype=x.dtype) * self.prior_sd_z
        return out.reshape(*x.shape[:-1], jac.shape[-1])

    def forward(self, x1, x2, diag=False, last_dim_is_batch=False, **params):  # type: ignore[no-untyped-def]
        f1 = self.features(x1)
        f2 = f1 if x2 is x1 else self.features(x2)
        scale = self.scale.to(f1)
        if diag:
            return scale * (f1 * f2).sum(-1)
        return scale * f1 @ f2.transpose(-1, -2)


def relinearized(
    lin: LinearizedPhysics,
    kernel: PhysicsFeatureKernel,
    X: np.ndarray,
    alpha: np.ndarray,
    recenter: bool = False,
) -> LinearizedPhysics:
    """Linearize again at the posterior mean of the parameters.

    ``z_post = z_lit + lambda^2 s^2 J(X)^T alpha`` with ``alpha = K^-1 (y - m(X))`` of a GP
    fitted with ``kernel`` (the weights of the training rows); see :meth:`LinearizedPhysics.at`
    for ``recenter``.
    """
    _, jac = lin.value_and_jacobian(X)
    var = float(kernel.scale.detach()) * kernel.prior_sd_z**2
    return lin.at(lin.z_ref + var * (jac.T @ np.asarray(alpha, float)), recenter)
