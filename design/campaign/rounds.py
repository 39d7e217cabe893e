"""One proposal round: what the policy is told, and which of its actions the loop admits.

:func:`planning_state` gathers the :class:`design.campaign.planning.PlanningState` from the
campaign database and the services; :func:`admit` turns the policy's actions into proposals
the ledger records (:func:`design.store.actions.add_actions`), in the policy's order:

- a follow-up runs on the service holding its sample, which must speak protocol 1.1 and not
  be used up; its hours are its protocols' (no sintering);
- a new sample runs on the service the action names if that one has a free slot, else on the
  service with most free slots; its recipe is snapped to that service's grid; a 1.0 service
  runs every protocol (the job's body names none) whatever the action asked, and the round's
  notes say so;
- **the hours rule** (``--budget-hours H``): an action is admitted only if the hours committed
  so far (used by finished jobs, plus the expected hours of live ones) plus its expected hours
  stay within H. Re-runs of an admitted action (after an instrument fault or a result that
  failed analysis) are always sent, since they finish work already paid for, and a job may
  use more or fewer hours than expected (a service reports what it used); so the hours spent
  may end above H by those amounts, and the display shows the exact figure.
- the sample budget (``--budget N``) counts new samples only; follow-ups do not use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from design.campaign.config import CampaignConfig
from design.campaign.planning import (
    Action,
    PendingAction,
    Plan,
    PlanningState,
    SampleState,
)
from design.campaign.services import ServicePool
from design.store.database import CampaignRecord, Store
from design.store.hours import HoursSummary
from design.store.ledger import measurement_table
from design.store.samples import samples_of
from design.store.states import JobKind, ProposalStatus
from experiments.cycler.models import PROTOCOLS
from physics.errors import GBSError
from physics.jsonsafe import finite_or_none

__all__ = ["Admitted", "admit", "planning_state"]

_EPS_H = 1e-9


def planning_state(
    store: Store,
    record: CampaignRecord,
    pool: ServicePool,
    config: CampaignConfig,
    hours: HoursSummary,
    seed: int,
) -> tuple[PlanningState, dict[str, int]]:
    """The state a policy decides from, and the database id of each sample by its key."""
    props = store.proposals(record.id)
    open_props = [p for p in props if p.status == ProposalStatus.OPEN]
    records = samples_of(store, record.id)
    key_of = {rec.id: rec.key for rec in records}
    pending_by_sample: dict[int, list[str]] = {}
    pending = []
    for prop in open_props:
        protocols = tuple(prop.protocols or PROTOCOLS)
        if prop.kind == JobKind.FOLLOW_UP and prop.sample_pk is not None:
            pending_by_sample.setdefault(prop.sample_pk, []).extend(protocols)
        pending.append(
            PendingAction(
                kind=prop.kind,
                service=prop.service,
                protocols=protocols,
                recipe=prop.recipe,
                sample=key_of.get(prop.sample_pk or -1),
                expected_hours=prop.expected_hours,
            )
        )
    samples = [
        SampleState(
            key=rec.key,
            sample_id=rec.sample_id,
            service=rec.service,
            recipe=rec.recipe,
            protocols_done=tuple(rec.protocols),
            protocols_pending=tuple(pending_by_sample.get(rec.id, ())),
            consumed=bool(rec.consumed),
            consumed_reason=rec.consumed_reason,
        )
        for rec in records
    ]
    in_flight: dict[str, int] = {}
    for prop in open_props:
        in_flight[prop.service] = in_flight.get(prop.service, 0) + 1
    n_new = sum(p.kind == JobKind.NEW for p in props)
    state = PlanningState(
        table=measurement_table(store, record.id),
        samples=samples,
        pending=pending,
        services=pool.states(in_flight),
        hours_left=hours.left_h,
        samples_left=None if config.budget is None else max(config.budget - n_new, 0),
        config=config,
        space=pool.first_space(),
        seed=seed,
    )
    return state, {rec.key: rec.id for rec in records}


@dataclass
class Admitted:
    """The actions of a round the loop carries out, and what it says about the others.

    Attributes:
        actions: dicts for :func:`design.store.actions.add_actions`.
        notes: one line per action left out or changed (why).
    """

    actions: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def admit(
    plan: Plan,
    state: PlanningState,
    pool: ServicePool,
    sample_pks: dict[str, int],
    *,
    committed_h: float,
    budget_h: float | None,
) -> Admitted:
    """The plan's actions that fit, in order (see the module docstring for the rules)."""
    out = Admitted()
    free = {name: s.free for name, s in state.services.items()}
    samples_left = state.samples_left
    for action in plan.actions:
        spec = _spec(action, state, pool, sample_pks, free, out.notes)
        if spec is None:
            continue
        if action.kind == JobKind.NEW and samples_left is not None and samples_left <= 0:
            out.notes.append("sample budget spent: no more new samples")
            continue
        hours = float(spec["expected_hours"])
        if budget_h is not None and committed_h + hours > budget_h + _EPS_H:
            out.notes.append(
                f"{_what(action)} needs {hours:.0f} h, {budget_h - committed_h:.0f} h left "
                "of --budget-hours: not started"
            )
            continue
        free[spec["service"]] -= 1
        committed_h += hours
        if action.kind == JobKind.NEW and samples_left is not None:
            samples_left -= 1
        out.actions.append(spec)
    return out


def _what(action: Action) -> str:
    if action.kind == JobKind.FOLLOW_UP:
        return f"follow-up {'+'.join(action.protocols or ())} on {action.sample}"
    return f"new sample {action.recipe}"


def _spec(
    action: Action,
    state: PlanningState,
    pool: ServicePool,
    sample_pks: dict[str, int],
    free: dict[str, int],
    notes: list[str],
) -> dict[str, Any] | None:
    record = {
        "prediction": action.prediction,
        "acquisition_value": finite_or_none(action.acquisition_value),
    }
    if action.kind == JobKind.FOLLOW_UP:
        sample = state.sample(action.sample or "")
        if sample is None or sample.consumed:
            why = "unknown" if sample is None else f"used up ({sample.consumed_reason})"
            notes.append(f"{_what(action)}: the sample is {why}; skipped")
            return None
        service = state.services[sample.service]
        if not service.staged:
            notes.append(f"{_what(action)}: {service.name} speaks protocol 1.0; skipped")
            return None
        if free.get(service.name, 0) <= 0:
            return None
        follow = list(action.protocols or ())
        return {
            **record,
            "kind": JobKind.FOLLOW_UP,
            "recipe": sample.recipe,
            "protocols": follow,
            "service": service.name,
            "sample_pk": sample_pks[sample.key],
            "expected_hours": service.follow_up_hours(follow),
        }
    name = action.service if free.get(action.service or "", 0) > 0 else None
    if name is None:
        name = max(free, key=lambda n: free[n], default=None)
        if name is None or free[name] <= 0:
            return None
    link, service = pool[name], state.services[name]
    space = link.space or state.space
    try:
        recipe = space.validate(space.snap(dict(action.recipe or {})))
    except GBSError as exc:
        notes.append(f"{_what(action)}: outside {name}'s recipe space ({exc}); skipped")
        return None
    protocols: list[str] | None = list(action.protocols) if action.protocols else None
    if not service.staged and protocols is not None and sorted(protocols) != sorted(PROTOCOLS):
        notes.append(
            f"{name} speaks protocol 1.0: it runs every protocol of a new sample "
            f"(asked: {'+'.join(protocols)})"
        )
        protocols = None
    return {
        **record,
        "kind": JobKind.NEW,
        "recipe": recipe,
        "protocols": protocols,
        "service": name,
        "expected_hours": service.new_sample_hours(recipe, protocols),
    }
