"""The protocol policies of ``--protocols``: ``all`` (every test on every sample) and ``staged``.

Both implement :class:`design.campaign.planning.Policy` and take their new recipes from the
campaign's recipe proposer (the configured strategy, with its Sobol fallback).

- :func:`all_protocols` (``all``): today's loop. One job per new sample with the configured
  protocols (every protocol by default); no follow-ups.
- :func:`staged` (``staged``): **a placeholder**, simple and predictable, until the
  value-per-instrument-hour policy of ``design.acquisition`` replaces it. New samples get
  impedance and DC polarization only (:data:`STAGE_ONE`); a sample whose measured
  ``(sigma_total, t_e)`` is not dominated (sigma higher is better, t_e lower is better) by the
  rows that have every objective measured gets :data:`STAGE_TWO` (symmetric impedance and the
  CCD staircase) as a follow-up, before any new sample is proposed. It does not weigh the
  value of a test against its hours, does not use the model's uncertainty, and gives a sample
  whose sigma or t_e could not be computed no follow-up. On a 1.0 service it runs every
  protocol of a new sample (the service cannot do otherwise) and proposes no follow-ups there.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from design.campaign.planning import Action, Plan, PlanningState, Policy, ServiceState
from design.campaign.proposer import Proposed, Proposer, propose_with_fallback
from design.errors import CampaignError
from physics.errors import ConfigError
from physics.schema import OBJECTIVES

__all__ = [
    "POLICIES",
    "STAGE_ONE",
    "STAGE_TWO",
    "all_protocols",
    "assign_services",
    "dominated_2d",
    "make_policy",
    "staged",
]

#: What a staged new sample runs: the Au-electrode tests (sigma, Ea, t_e).
STAGE_ONE: tuple[str, ...] = ("eis_blocking", "dc_polarization")
#: What a staged follow-up runs: the Na-metal tests (r_int, CCD; the CCD consumes the sample).
STAGE_TWO: tuple[str, ...] = ("eis_symmetric", "ccd_staircase")


def _recipes(state: PlanningState, recipes: Proposer, n: int) -> Proposed:
    """``n`` new recipes from the campaign's proposer.

    Raises:
        CampaignError: the proposer gave none (from the proposer, or the recipe space).
    """
    proposed = propose_with_fallback(
        recipes,
        state.table,
        batch_size=n,
        pending=state.pending_recipes,
        config=state.config,
        space=state.space,
        seed=state.seed,
    )
    if not proposed.suggestions:
        raise CampaignError("the acquisition proposed no recipe; check the recipe space")
    return proposed


def _action_fields(sug: object) -> dict[str, object]:
    return {
        "prediction": {
            "mean": getattr(sug, "mean", {}),
            "sd": getattr(sug, "sd", {}),
            "p_feasible": getattr(sug, "p_feasible", None),
        },
        "acquisition_value": getattr(sug, "acquisition_value", None),
    }


def assign_services(actions: list[Action], free: dict[str, int]) -> None:
    """Give each new-sample action without a service the one with most free slots left.

    ``free`` (service -> free slots) is decreased as slots are given; ties go to the
    service listed first. Actions that find no free slot keep ``service`` ``None``.
    """
    for action in actions:
        if action.service is not None or action.kind != "new":
            continue
        best = max(free, key=lambda name: free[name], default=None)
        if best is None or free[best] <= 0:
            return
        action.service = best
        free[best] -= 1


def _price(actions: list[Action], state: PlanningState) -> None:
    """Each new-sample action's expected hours on the service it was given."""
    for action in actions:
        if action.kind == "new" and action.service in state.services:
            service = state.services[action.service]
            action.expected_hours = service.new_sample_hours(action.recipe, action.protocols)


def _cheapest(services: dict[str, ServiceState], cost: Callable[[ServiceState], float]) -> float:
    up = [cost(s) for s in services.values() if s.up]
    return min(up) if up else math.inf


def all_protocols(state: PlanningState, *, recipes: Proposer) -> Plan:
    """``all``: new samples only, each running the configured protocols (all by default)."""
    protocols = state.config.protocols
    hours_each = _cheapest(state.services, lambda s: s.new_sample_hours(None, protocols))
    n = state.new_sample_room(hours_each)
    if n <= 0:
        return Plan()
    proposed = _recipes(state, recipes, n)
    actions = [
        Action.new(sug.recipe, protocols, **_action_fields(sug))  # type: ignore[arg-type]
        for sug in proposed.suggestions[:n]
    ]
    assign_services(actions, {name: s.free for name, s in state.services.items()})
    _price(actions, state)
    return Plan(
        actions,
        proposed.surrogate,
        proposed.strategy,
        proposed.fallback_reason,
        list(proposed.suggestions),
    )


def dominated_2d(sigma_ms_cm: float, te: float, front: pd.DataFrame) -> bool:
    """Whether a row of ``front`` dominates ``(sigma, t_e)``: sigma >= and t_e <=, one strictly.

    Args:
        sigma_ms_cm: total conductivity, mS/cm (higher is better).
        te: electronic transference number (lower is better).
        front: rows with ``sigma_total_ms_cm`` and ``electronic_fraction``.
    """
    s = front["sigma_total_ms_cm"].to_numpy(float)
    t = front["electronic_fraction"].to_numpy(float)
    at_least = (s >= sigma_ms_cm) & (t <= te)
    strictly = (s > sigma_ms_cm) | (t < te)
    return bool(np.any(at_least & strictly))


def _complete_rows(table: pd.DataFrame) -> pd.DataFrame:
    ok = table[table["status"] == "ok"]
    return ok.dropna(subset=list(OBJECTIVES))


def staged(state: PlanningState, *, recipes: Proposer) -> Plan:
    """``staged`` (placeholder, see the module docstring): follow-ups first, then new samples."""
    free = {name: s.free for name, s in state.services.items()}
    hours_left = math.inf if state.hours_left is None else state.hours_left
    front = _complete_rows(state.table)
    by_key = state.table.set_index("sample_id", drop=False) if len(state.table) else None
    actions: list[Action] = []
    for sample in state.samples:
        service = state.services.get(sample.service)
        if sample.consumed or service is None or not service.staged or free[service.name] <= 0:
            continue
        if not all(p in sample.protocols_done for p in STAGE_ONE):
            continue
        missing = [p for p in STAGE_TWO if not sample.has(p)]
        if not missing or by_key is None or sample.key not in by_key.index:
            continue
        row = by_key.loc[sample.key]
        sigma = float(row["sigma_total_ms_cm"]) if pd.notna(row["sigma_total_ms_cm"]) else None
        te = float(row["electronic_fraction"]) if pd.notna(row["electronic_fraction"]) else None
        if sigma is None or te is None or dominated_2d(sigma, te, front):
            continue
        hours = service.follow_up_hours(missing)
        if hours > hours_left:
            continue
        actions.append(
            Action.follow_up(
                sample.key,
                missing,
                service=service.name,
                expected_hours=hours,
                reason="(sigma, t_e) not dominated by the fully measured rows",
            )
        )
        free[service.name] -= 1
        hours_left -= hours
    room = sum(free.values())
    if state.samples_left is not None:
        room = min(room, state.samples_left)
    stage_one_h = _cheapest(
        state.services,
        lambda s: s.new_sample_hours(None, STAGE_ONE if s.staged else None),
    )
    if math.isfinite(hours_left):
        room = min(room, math.floor(max(hours_left, 0.0) / max(stage_one_h, 1e-9) + 1e-9))
    if room <= 0:
        return Plan(actions)
    proposed = _recipes(state, recipes, room)
    news = [Action.new(sug.recipe, None, **_action_fields(sug)) for sug in proposed.suggestions]
    assign_services(news[:room], free)
    for action in news[:room]:
        if action.service is not None:
            action.protocols = STAGE_ONE if state.services[action.service].staged else None
            actions.append(action)
    _price(actions, state)
    return Plan(
        actions,
        proposed.surrogate,
        proposed.strategy,
        proposed.fallback_reason,
        list(proposed.suggestions),
    )


#: ``--protocols`` name -> policy.
POLICIES: dict[str, Policy] = {"all": all_protocols, "staged": staged}


def make_policy(name: str) -> Policy:
    """The policy called ``name``.

    Raises:
        ConfigError: unknown name (the message lists the known ones).
    """
    try:
        return POLICIES[name]
    except KeyError:
        raise ConfigError(f"--protocols {name!r} is not one of {', '.join(POLICIES)}") from None
