"""Surrogates of the three objectives over the recipe space.

``make_surrogate("physics-gp")``: the literature process model linearized in its parameters
plus a discrepancy GP, stacked with a data-only GP by leave-one-out predictive density, per
objective; ``"gp"``: plain BoTorch GPs; ``"sobol"``: no model.

The names below are loaded on first use, so ``import surrogate.base`` (strategy names,
transforms) stays light and does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "STRATEGIES",
    "AcquisitionSurrogate",
    "GPSurrogate",
    "Prediction",
    "SobolSurrogate",
    "Surrogate",
    "ValidationReport",
    "holdout_validate",
    "loo_validate",
    "make_surrogate",
]

_WHERE = {
    "STRATEGIES": "surrogate.base",
    "AcquisitionSurrogate": "surrogate.base",
    "Prediction": "surrogate.base",
    "Surrogate": "surrogate.base",
    "GPSurrogate": "surrogate.strategies",
    "SobolSurrogate": "surrogate.strategies",
    "make_surrogate": "surrogate.strategies",
    "ValidationReport": "surrogate.validation",
    "holdout_validate": "surrogate.validation",
    "loo_validate": "surrogate.validation",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'surrogate' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)


def __dir__() -> list[str]:
    return sorted(__all__)
