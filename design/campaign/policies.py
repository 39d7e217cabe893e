"""The protocol policies of ``--protocols``: ``all`` (every test on every sample) and ``staged``.

Both implement :class:`design.campaign.planning.Policy` and take their new recipes from the
campaign's recipe proposer (the configured strategy, with its Sobol fallback).

- :func:`all_protocols` (``all``): one job per new sample with the configured protocols
  (every protocol by default); no follow-ups.
- :func:`staged` (``staged``): new samples get impedance and DC polarization only
  (:data:`STAGE_ONE`); samples already made may get :data:`STAGE_TWO` (symmetric impedance and
  the CCD staircase, which uses up the pellet) as a follow-up. Each round it chooses among
  the two by **expected hypervolume gain per instrument-hour**
  (:func:`design.acquisition.staged.plan_staged`, on the posterior of the surrogate the
  recipe proposer fitted): a follow-up is worth its stage-two hours when the sample's
  measured (sigma, t_e) with a CCD from the posterior is expected to extend the front of the
  fully measured rows; a new sample is worth its sintering and stage-one hours plus its
  likely follow-up. A dominated sample never gets the CCD stage; a new sample is only started
  while the hours left also cover its follow-up.
- :func:`staged_dominance`: the model-free rule ``staged`` uses with the ``sobol`` strategy
  or when the proposer fell back to Sobol points (no posterior): a sample whose measured
  ``(sigma_total, t_e)`` is not dominated by the fully measured rows gets the follow-up, before
  any new sample; it does not weigh value against hours.

On a 1.0 service both staged rules run every protocol of a new sample (the service cannot do
otherwise) and propose no follow-ups there.
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
    "staged_dominance",
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


def staged_dominance(state: PlanningState, *, recipes: Proposer) -> Plan:
    """Follow-ups on every sample not dominated in (sigma, t_e) first, then new samples.

    The model-free rule :func:`staged` uses with the ``sobol`` strategy (see the module
    docstring).
    """
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


def _row_values(state: PlanningState) -> dict[str, tuple[float, float]]:
    """sample key -> measured (sigma, t_e), for rows where both are finite."""
    out: dict[str, tuple[float, float]] = {}
    if not len(state.table):
        return out
    for _, row in state.table.iterrows():
        try:
            sigma = float(row["sigma_total_ms_cm"])
            te = float(row["electronic_fraction"])
        except (TypeError, ValueError):
            continue
        if row["status"] == "ok" and math.isfinite(sigma) and math.isfinite(te):
            out[str(row["sample_id"])] = (sigma, te)
    return out


def staged(state: PlanningState, *, recipes: Proposer) -> Plan:
    """``staged``: new samples or CCD follow-ups by expected gain per hour (module docstring)."""
    from design.acquisition.staged import FollowUpOption, NewOption, plan_staged

    if state.config.strategy == "sobol":
        return staged_dominance(state, recipes=recipes)
    free = {name: s.free for name, s in state.services.items()}
    values = _row_values(state)
    follow_ups: list[FollowUpOption] = []
    pending: list[FollowUpOption] = []
    for sample in state.samples:
        service = state.services.get(sample.service)
        if sample.consumed or service is None or not service.staged:
            continue
        if sample.key not in values or not all(p in sample.protocols_done for p in STAGE_ONE):
            continue
        missing = [p for p in STAGE_TWO if p not in sample.protocols_done]
        if not missing:
            continue
        sigma, te = values[sample.key]
        option = FollowUpOption(
            sample.key, dict(sample.recipe), sigma, te, service.follow_up_hours(missing)
        )
        if any(p in sample.protocols_pending for p in missing):
            pending.append(option)
        elif free[service.name] > 0:
            follow_ups.append(option)
    slots = sum(free.values())
    if slots <= 0:
        return Plan()
    n_new = slots if state.samples_left is None else min(slots, state.samples_left)
    staged_up = [s for s in state.services.values() if s.up and s.staged]
    stage_two_h = _cheapest(state.services, lambda s: s.follow_up_hours(STAGE_TWO))
    whole_h = _cheapest(state.services, lambda s: s.new_sample_hours(None, STAGE_ONE))
    if state.hours_left is not None and state.hours_left < whole_h + stage_two_h:
        n_new = 0  # a new sample could not get its follow-up: worth nothing now
    proposed = _recipes(state, recipes, n_new) if n_new > 0 else None
    surrogate = None if proposed is None else proposed.surrogate
    if proposed is not None and (surrogate is None or not hasattr(surrogate, "posterior_model")):
        return _dominance_with(state, proposed)
    news = []
    suggestions = [] if proposed is None else list(proposed.suggestions)[:n_new]
    for sug in suggestions:
        recipe = dict(sug.recipe)
        if staged_up:
            hours = staged_up[0].new_sample_hours(recipe, STAGE_ONE)
            news.append(NewOption(recipe, hours, stage_two_h))
        else:  # only 1.0 services: every protocol at once, no follow-up
            hours = _cheapest(state.services, lambda s, r=recipe: s.new_sample_hours(r, None))
            news.append(NewOption(recipe, hours, 0.0))
    if surrogate is None:  # no new sample allowed: a model for the follow-ups alone
        from surrogate import make_surrogate

        surrogate = make_surrogate(
            state.config.strategy,
            seed=state.seed,
            bounds=state.space.bounds,
            default_dwell_h=state.space.default_dwell_h,
        ).fit(state.table)
    choices = plan_staged(
        state.table,
        surrogate,
        follow_ups,
        news,
        slots=slots,
        hours_left=state.hours_left,
        pending_follow_ups=pending,
        thresholds=state.config.thresholds or None,
        seed=state.seed,
    )
    actions: list[Action] = []
    for choice in choices:
        if choice.kind == "follow_up":
            option = follow_ups[choice.index]
            holder = state.sample(option.key)
            if holder is None:
                raise CampaignError(
                    f"a CCD follow-up was chosen for sample {option.key}, which the campaign "
                    "does not hold; resume the campaign to reconcile its samples"
                )
            if free.get(holder.service, 0) <= 0:
                continue
            missing = [p for p in STAGE_TWO if p not in holder.protocols_done]
            actions.append(
                Action.follow_up(
                    option.key,
                    missing,
                    service=holder.service,
                    expected_hours=option.hours,
                    acquisition_value=choice.value_per_hour,
                    prediction={"mean": {"ccd_ma_cm2": choice.ccd_mean_ma_cm2}},
                    reason=choice.reason,
                )
            )
            free[holder.service] -= 1
        else:
            sug = suggestions[choice.index]
            fields = _action_fields(sug)
            fields["acquisition_value"] = choice.value_per_hour
            action = Action.new(
                sug.recipe,  # type: ignore[attr-defined]
                None,
                reason=choice.reason,
                **fields,  # type: ignore[arg-type]
            )
            assign_services([action], free)
            if action.service is None:
                continue
            action.protocols = STAGE_ONE if state.services[action.service].staged else None
            actions.append(action)
    _price(actions, state)
    if proposed is None:
        return Plan(actions, surrogate, state.config.strategy)
    return Plan(
        actions,
        proposed.surrogate,
        proposed.strategy,
        proposed.fallback_reason,
        list(proposed.suggestions),
        notes=[c.reason for c in choices],
    )


def _dominance_with(state: PlanningState, proposed: Proposed) -> Plan:
    """:func:`staged_dominance` on recipes already proposed (the proposer fell back to Sobol)."""
    used = iter(proposed.suggestions)

    def again(table, *, batch_size, pending, config, space, seed):  # type: ignore[no-untyped-def]
        return Proposed([s for _, s in zip(range(batch_size), used, strict=False)])

    plan = staged_dominance(state, recipes=again)
    plan.surrogate, plan.strategy = proposed.surrogate, proposed.strategy
    plan.fallback_reason = proposed.fallback_reason
    return plan


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
