"""How a campaign chooses recipes and analyses results: the default hooks and their contracts.

:class:`design.campaign.runner.CampaignRunner` takes a :class:`Proposer` and an analyzer; tests and
benchmarks pass their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from design.campaign.config import CampaignConfig
from physics.schema import RecipeSpace

__all__ = ["Proposed", "Proposer", "default_analyzer", "default_proposer"]


@dataclass
class Proposed:
    """One proposal round: the suggestions and (optionally) the fitted surrogate for plots."""

    suggestions: list[Any]
    surrogate: Any = None


class Proposer(Protocol):
    """Chooses the next recipes given the table and the pending (in-flight) recipes."""

    def __call__(
        self,
        table: pd.DataFrame,
        *,
        batch_size: int,
        pending: list[dict[str, float]],
        config: CampaignConfig,
        space: RecipeSpace,
        seed: int,
    ) -> Proposed: ...


def default_proposer(
    table: pd.DataFrame,
    *,
    batch_size: int,
    pending: list[dict[str, float]],
    config: CampaignConfig,
    space: RecipeSpace,
    seed: int,
) -> Proposed:
    """``design.acquisition.batch.suggest`` with the campaign's strategy and thresholds.

    The surrogate is built here and handed to ``suggest`` (which fits it), so that the
    iteration's plots show the very model that chose the recipes.
    """
    from design.acquisition.batch import suggest
    from surrogate import make_surrogate

    model = make_surrogate(
        config.strategy, seed=seed, bounds=space.bounds, default_dwell_h=space.default_dwell_h
    )
    suggestions = suggest(
        table,
        space=space,
        batch_size=batch_size,
        strategy=config.strategy,
        thresholds=config.thresholds or None,
        pending=pending or None,
        seed=seed,
        surrogate=model,
    )
    return Proposed(list(suggestions), model)


def default_analyzer(raw: dict[str, Any], theoretical_density_g_cm3: float) -> Any:
    """``physics.measurements.results.analyze_result``."""
    from physics.measurements.results import analyze_result

    return analyze_result(raw, theoretical_density_g_cm3=theoretical_density_g_cm3)
