"""Calibration of the process model on a measurement table (weighted, regularized least squares).

Each measured property is compared in a space where its errors are roughly homoscedastic:
``log`` for conductivities, Rint and CCD, ``logit`` for the electronic fraction, identity for
the relative density and the activation energy. Residual of row i, property k:

    r_ik = (f_k(model_k(recipe_i)) - f_k(y_ik)) / s_k

with the scale ``s_k`` of :data:`PROPERTY_SCALES`. Right-censored values (``ccd_censored``
true, or a ``lower_bounds`` entry) only count when the prediction lies below them:
``r = min(0, f(model) - f(y)) / s``. Each free parameter is mapped to ``z`` in [0, 1] across
its bounds (log scale where the lower bound is positive) and pulled towards its starting
value by a prior residual ``prior_weight * (z - z0)``, which keeps a 4-row table well posed.
If crack-hazard parameters are free, every row adds the Bernoulli deviance of its status
under ``p_crack``: ``sqrt(-2 ln(1 - p))`` (ok) or ``sqrt(-2 ln p)`` (cracked).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

from physics.errors import CalibrationError
from physics.process.model import ProcessModel
from physics.process.parameters.process_parameters import ProcessParameters
from physics.process.parameters.wang2022 import PAPER_LOWER_BOUNDS
from physics.schema import DEFAULT_DWELL_H

__all__ = [
    "DEFAULT_FREE",
    "DEFAULT_PRIOR_WEIGHT",
    "PROPERTY_SCALES",
    "CalibrationResult",
    "batched_parameters",
    "calibrate",
]

#: Dwell assumed for rows whose ``dwell_h`` is empty (the cycler's default, h).

#: Weight of the pull towards the starting parameters (per unit of the normalized range).
DEFAULT_PRIOR_WEIGHT = 0.5

#: The parameters fitted by default: those the paper's kind of data constrain.
DEFAULT_FREE: tuple[str, ...] = (
    "solid_state_rate_1000c",
    "liquid_phase_rate_1000c",
    "liquid_phase_x_exponent",
    "archie_exponent",
    "sigma_bulk_dense_ms_cm",
    "sigma_gb_open_ms_cm",
    "sigma_gb_sealed_ms_cm",
    "seal_half_x",
    "seal_hill_exponent",
    "glass_block_x",
    "zrsio4_bulk_drop",
    "sigma_e_open_ms_cm",
    "sigma_e_bulk_ms_cm",
    "r_int_open_ohm_cm2",
    "r_int_sealed_ohm_cm2",
    "r_int_density_exponent",
    "ccd_max_ma_cm2",
    "ccd_r_int_exponent",
    "ea_bulk_ev",
    "ea_gb_sealed_ev",
)

#: ``{property: (transform, scale)}``: the residual space and the error scale in it.
PROPERTY_SCALES: dict[str, tuple[str, float]] = {
    "relative_density": ("identity", 0.01),
    "sigma_total_ms_cm": ("log", 0.03),
    "sigma_bulk_ms_cm": ("log", 0.05),
    "sigma_gb_ms_cm": ("log", 0.05),
    "electronic_fraction": ("logit", 0.05),
    "r_int_ohm_cm2": ("log", 0.05),
    "ccd_ma_cm2": ("log", 0.05),
    "activation_energy_ev": ("identity", 0.01),
}

_EPS = 1e-12
#: Finite-difference step of the Jacobian, in the unit interval of each parameter.
_FD_STEP = 1.49e-8


@dataclass
class CalibrationResult:
    """Outcome of :func:`calibrate`.

    Attributes:
        params: the calibrated parameters.
        model: a :class:`ProcessModel` built on them.
        rmse: root-mean-square residual per property in its transformed space (log units
            for conductivities, Rint and CCD, i.e. ~relative error; logit for t_e; absolute
            for density and Ea), over the rows that measured it (satisfied bounds count 0).
        n_rows: number of table rows used (status ok or cracked, with finite recipes).
        success: whether the optimizer converged to finite residuals.
        message: the optimizer's message, or why the fit is doubtful.
    """

    params: ProcessParameters
    model: ProcessModel
    rmse: dict[str, float]
    n_rows: int
    success: bool
    message: str


def batched_parameters(
    params: ProcessParameters, values: Mapping[str, np.ndarray]
) -> ProcessParameters:
    """``m`` parameter sets in one: each named parameter becomes an (m, 1) array.

    The process model broadcasts them against recipes of shape (n,) and returns (m, n)
    properties: the calibration evaluates all columns of its finite-difference Jacobian
    in one call this way. Only for that use: the arrays bypass the scalar validation.
    """
    batched = copy.copy(params)
    for name, value in values.items():
        object.__setattr__(batched, name, np.asarray(value, float).reshape(-1, 1))
    return batched


def _transform(kind: str, values: np.ndarray) -> np.ndarray:
    if kind == "log":
        return np.log(np.maximum(values, _EPS))
    if kind == "logit":
        v = np.clip(values, 1e-9, 1.0 - 1e-9)
        return np.log(v) - np.log1p(-v)
    return values


def _to_unit(name: str, value: float, lo: float, hi: float) -> float:
    if lo > 0:
        return (np.log(value) - np.log(lo)) / (np.log(hi) - np.log(lo))
    return (value - lo) / (hi - lo)


def _from_unit(z: Any, lo: float, hi: float) -> Any:
    """Unit interval -> parameter value (log scale when ``lo > 0``); scalar or array."""
    if lo > 0:
        out = np.exp(np.log(lo) + z * (np.log(hi) - np.log(lo)))
    else:
        out = lo + z * (hi - lo)
    return float(out) if np.ndim(out) == 0 else out


def calibrate(
    table: pd.DataFrame,
    params: ProcessParameters | None = None,
    free: Sequence[str] | None = None,
    prior_weight: float = DEFAULT_PRIOR_WEIGHT,
    *,
    lower_bounds: Mapping[str, Sequence[str]] | None = None,
    default_dwell_h: float = DEFAULT_DWELL_H,
    max_nfev: int = 2000,
    start: ProcessParameters | None = None,
    tol: float = 1e-10,
) -> CalibrationResult:
    """Fit the free parameters of the process model to a measurement table.

    Args:
        table: a measurement table (:func:`physics.table.validate_table` form).
        params: starting values and prior centre; default :class:`ProcessParameters`.
        free: names of the parameters to fit; default :data:`DEFAULT_FREE`.
        prior_weight: pull towards the starting values (0 = none).
        lower_bounds: ``{sample_id: (property, ...)}``: measured values that are only lower
            bounds (e.g. "Rint over 582 ohm cm2"); censored CCDs need no entry. Default:
            the known bounds of the bundled paper table
            (:data:`physics.process.parameters.wang2022.PAPER_LOWER_BOUNDS`); ``{}`` for none.
        default_dwell_h: dwell used for rows with an empty ``dwell_h``.
        max_nfev: cap on model evaluations.
        start: where the optimizer starts (e.g. a previous calibration, to warm-start
            cross-validation folds); default ``params``. The prior still pulls towards
            ``params``.
        tol: the optimizer's ``xtol``, ``ftol`` and ``gtol`` (looser is faster, e.g. for
            cross-validation folds that start from a converged calibration).

    Returns:
        A :class:`CalibrationResult`.

    Raises:
        CalibrationError: unknown free names, bad prior weight, or no usable measurement.
    """
    params = ProcessParameters() if params is None else params
    free = list(DEFAULT_FREE if free is None else free)
    bounds = ProcessParameters.bounds()
    unknown = [n for n in free if n not in bounds]
    if unknown:
        raise CalibrationError(
            f"unknown free parameter(s) {unknown}; valid names: {', '.join(bounds)}"
        )
    if not (np.isfinite(prior_weight) and prior_weight >= 0):
        raise CalibrationError(f"prior_weight must be a finite number >= 0, got {prior_weight!r}")
    if lower_bounds is None:
        lower_bounds = PAPER_LOWER_BOUNDS
    data = _prepare(table, lower_bounds, default_dwell_h)
    use_crack = any(n.startswith("crack_") for n in free)
    if not data["targets"] and not (use_crack and data["n_rows"]):
        raise CalibrationError(
            "no usable measurement to calibrate on: the table has no 'ok' rows with "
            f"any of {', '.join(PROPERTY_SCALES)}"
        )
    if not free:
        model = ProcessModel(params)
        rmse = _rmse(model, data)
        return CalibrationResult(params, model, rmse, data["n_rows"], True, "nothing free")

    los = np.array([bounds[n][0] for n in free])
    his = np.array([bounds[n][1] for n in free])

    def to_z(p: ProcessParameters) -> np.ndarray:
        return np.array(
            [
                np.clip(_to_unit(n, float(getattr(p, n)), lo, hi), 0.0, 1.0)
                for n, lo, hi in zip(free, los, his, strict=True)
            ]
        )

    z0 = to_z(params)
    z_start = z0 if start is None else to_z(start)

    def build(z: np.ndarray) -> ProcessParameters:
        values = {
            n: _from_unit(zi, lo, hi) for n, zi, lo, hi in zip(free, z, los, his, strict=True)
        }
        return params.replace(**values)

    def batch_residuals(zs: np.ndarray) -> np.ndarray:
        # the model broadcasts: parameters of shape (m, 1) against rows of shape (n,)
        values = {
            n: _from_unit(zs[:, j], lo, hi)
            for j, (n, lo, hi) in enumerate(zip(free, los, his, strict=True))
        }
        parts = _data_residuals(ProcessModel(batched_parameters(params, values)), data, use_crack)
        parts = [np.broadcast_to(p, (len(zs), np.shape(p)[-1])) for p in parts]
        parts.append(prior_weight * (zs - z0))
        out = np.concatenate(parts, axis=1)
        return np.where(np.isfinite(out), out, 1e6)

    def residuals(z: np.ndarray) -> np.ndarray:
        return batch_residuals(z[None, :])[0]

    def jacobian(z: np.ndarray) -> np.ndarray:
        # forward differences (backward at the upper bound): z and its m steps in one call
        step = np.where(z + _FD_STEP > 1.0, -_FD_STEP, _FD_STEP)
        f = batch_residuals(np.vstack([z, z[None, :] + np.diag(step)]))
        return ((f[1:] - f[0]) / step[:, None]).T

    try:
        fit = least_squares(
            residuals,
            z_start,
            jac=jacobian,
            bounds=(0.0, 1.0),
            method="trf",
            x_scale=1.0,
            max_nfev=max_nfev,
            xtol=tol,
            ftol=tol,
            gtol=tol,
        )
    except (ValueError, FloatingPointError) as exc:
        raise CalibrationError(f"calibration failed: {exc}") from exc
    best = build(fit.x)
    model = ProcessModel(best)
    rmse = _rmse(model, data)
    finite = bool(np.all(np.isfinite(fit.fun)))
    success = bool(fit.status > 0 and finite)
    message = str(fit.message) if finite else "non-finite residuals at the optimum"
    return CalibrationResult(best, model, rmse, data["n_rows"], success, message)


def _prepare(
    table: pd.DataFrame, lower_bounds: Mapping[str, Sequence[str]], default_dwell_h: float
) -> dict:
    """Recipes, targets (transformed) and censoring masks of the usable rows."""
    missing = [c for c in ("zbo_fraction", "sinter_temperature_c") if c not in table.columns]
    if missing:
        raise CalibrationError(f"table lacks recipe column(s) {missing}")
    frame = table.reset_index(drop=True)
    x = pd.to_numeric(frame["zbo_fraction"], errors="coerce").to_numpy(float)
    t = pd.to_numeric(frame["sinter_temperature_c"], errors="coerce").to_numpy(float)
    if "dwell_h" in frame.columns:
        d = pd.to_numeric(frame["dwell_h"], errors="coerce").to_numpy(float)
    else:
        d = np.full(len(frame), np.nan)
    d = np.where(np.isfinite(d), d, default_dwell_h)
    status = (
        frame["status"].fillna("ok").astype(str).str.lower().to_numpy()
        if "status" in frame.columns
        else np.full(len(frame), "ok")
    )
    usable = np.isfinite(x) & np.isfinite(t) & np.isin(status, ["ok", "cracked"])
    ok = usable & (status == "ok")
    ids = frame["sample_id"].astype(str).to_numpy() if "sample_id" in frame.columns else None
    targets = {}
    for prop, (kind, scale) in PROPERTY_SCALES.items():
        if prop not in frame.columns:
            continue
        y = pd.to_numeric(frame[prop], errors="coerce").to_numpy(float)
        rows = np.flatnonzero(ok & np.isfinite(y))
        if rows.size == 0:
            continue
        lower = np.zeros(rows.size, dtype=bool)
        if prop == "ccd_ma_cm2" and "ccd_censored" in frame.columns:
            cens = frame["ccd_censored"].to_numpy(dtype=object)
            lower |= np.array([bool(cens[i]) if cens[i] is not pd.NA else False for i in rows])
        if ids is not None:
            lower |= np.array([prop in tuple(lower_bounds.get(ids[i], ())) for i in rows])
        targets[prop] = (rows, _transform(kind, y[rows]), lower, kind, scale)
    idx = np.flatnonzero(usable)
    return {
        "x": x[idx],
        "t": t[idx],
        "d": d[idx],
        "cracked": status[idx] == "cracked",
        "pos": {int(r): k for k, r in enumerate(idx)},
        "targets": targets,
        "n_rows": int(idx.size),
    }


def _residual_blocks(model: ProcessModel, data: dict) -> dict[str, np.ndarray]:
    pred = model.predict(data["x"], data["t"], data["d"])
    out = {}
    for prop, (rows, y_t, lower, kind, scale) in data["targets"].items():
        at = np.array([data["pos"][int(r)] for r in rows])
        diff = (_transform(kind, np.asarray(pred[prop])[..., at]) - y_t) / scale
        out[prop] = np.where(lower, np.minimum(diff, 0.0), diff)
    out["_p_crack"] = np.asarray(pred["p_crack"])
    return out


def _data_residuals(model: ProcessModel, data: dict, use_crack: bool) -> list[np.ndarray]:
    blocks = _residual_blocks(model, data)
    p_crack = blocks.pop("_p_crack")
    parts = list(blocks.values())
    if use_crack:
        p = np.clip(p_crack, 1e-12, 1.0 - 1e-12)
        nll = np.where(data["cracked"], -np.log(p), -np.log1p(-p))
        parts.append(np.sqrt(2.0 * nll))
    return parts


def _rmse(model: ProcessModel, data: dict) -> dict[str, float]:
    blocks = _residual_blocks(model, data)
    blocks.pop("_p_crack")
    return {
        prop: float(np.sqrt(np.mean((r * PROPERTY_SCALES[prop][1]) ** 2)))
        for prop, r in blocks.items()
    }
