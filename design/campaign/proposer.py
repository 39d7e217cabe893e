"""How a campaign chooses recipes and analyses results: the default hooks and their contracts.

:class:`design.campaign.runner.CampaignRunner` takes a :class:`Proposer` and an analyzer; tests and
benchmarks pass their own. :func:`propose_with_fallback` is how the runner calls the proposer:
a model-based strategy that fails hands the round to Sobol points, and the round says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd

from design.campaign.config import CampaignConfig
from design.errors import CampaignError
from physics.errors import ConfigError, GBSError
from physics.schema import RecipeSpace

__all__ = [
    "FALLBACK_ERRORS",
    "Proposed",
    "Proposer",
    "default_analyzer",
    "default_proposer",
    "propose_with_fallback",
]

#: Errors of a model-based proposer after which the round is proposed by Sobol points instead
#: (a failed fit, a singular matrix...). A ConfigError is not among them: Sobol would fail too.
FALLBACK_ERRORS: tuple[type[Exception], ...] = (GBSError, ValueError, RuntimeError, ArithmeticError)
_MAX_REASON_CHARS = 500


@dataclass
class Proposed:
    """One proposal round: the suggestions and (optionally) the fitted surrogate for plots.

    Attributes:
        suggestions: objects with ``recipe`` (and optionally ``mean``, ``sd``,
            ``p_feasible``, ``acquisition_value``), best first.
        surrogate: the fitted model that chose them (``None`` for Sobol points).
        strategy: the strategy that actually proposed this round (the runner sets it: the
            configured one, or ``"sobol"`` after a fallback).
        fallback_reason: why the configured strategy did not propose (the error that forced
            the Sobol fallback), ``None`` when it did.
    """

    suggestions: list[Any]
    surrogate: Any = None
    strategy: str | None = None
    fallback_reason: str | None = None


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
    """``design.acquisition.batch.suggest`` with the campaign's strategy, thresholds and
    temperature objective.

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
        minimize_temperature=config.minimize_temperature,
    )
    return Proposed(list(suggestions), model)


def propose_with_fallback(
    proposer: Proposer,
    table: pd.DataFrame,
    *,
    batch_size: int,
    pending: list[dict[str, float]],
    config: CampaignConfig,
    space: RecipeSpace,
    seed: int,
) -> Proposed:
    """One round's proposals, stamped with the strategy that made them and why.

    The configured strategy proposes; if it fails with one of :data:`FALLBACK_ERRORS`, Sobol
    points do, and the result carries ``strategy="sobol"`` and ``fallback_reason`` (the
    error, one line, at most 500 characters). Otherwise ``strategy`` is the configured one.

    Raises:
        CampaignError: nothing could propose: a configuration error, a failing ``sobol``
            strategy, or a fallback that failed too.
    """

    def call(strategy_config: CampaignConfig) -> Proposed:
        return proposer(
            table,
            batch_size=batch_size,
            pending=pending,
            config=strategy_config,
            space=space,
            seed=seed,
        )

    configured = config.strategy
    try:
        proposed, reason = call(config), None
    except ConfigError as exc:
        raise CampaignError(f"cannot propose recipes: {exc}") from exc
    except FALLBACK_ERRORS as exc:
        if configured == "sobol":
            raise CampaignError(f"cannot propose recipes: {exc}") from exc
        reason = " ".join(f"{configured} failed: {type(exc).__name__}: {exc}".split())
        reason = reason[:_MAX_REASON_CHARS]
        try:
            proposed = call(CampaignConfig.from_json({**config.to_json(), "strategy": "sobol"}))
        except FALLBACK_ERRORS as again:
            raise CampaignError(
                f"cannot propose recipes: {reason}; the Sobol fallback failed too: {again}"
            ) from again
    proposed.strategy = configured if reason is None else "sobol"
    proposed.fallback_reason = reason
    return proposed


def default_analyzer(raw: dict[str, Any], theoretical_density_g_cm3: float) -> Any:
    """``physics.measurements.results.analyze_result``."""
    from physics.measurements.results import analyze_result

    return analyze_result(raw, theoretical_density_g_cm3=theoretical_density_g_cm3)
