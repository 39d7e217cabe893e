"""Surrogates of the three objectives over the recipe space.

``make_surrogate("physics-gp")``: the literature process model linearized in its parameters
plus a discrepancy GP, stacked with a data-only GP by leave-one-out predictive density, per
objective; ``"gp"``: plain BoTorch GPs; ``"sobol"``: no model.
"""

from surrogate.base import OBJECTIVES, STRATEGIES, Prediction, Surrogate
from surrogate.strategies import GPSurrogate, SobolSurrogate, make_surrogate
from surrogate.validation import ValidationReport, holdout_validate, loo_validate

__all__ = [
    "OBJECTIVES",
    "STRATEGIES",
    "GPSurrogate",
    "Prediction",
    "SobolSurrogate",
    "Surrogate",
    "ValidationReport",
    "holdout_validate",
    "loo_validate",
    "make_surrogate",
]
