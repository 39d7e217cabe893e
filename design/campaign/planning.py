"""What the loop asks a policy and what a policy answers: actions on samples, with their hours.

An :class:`Action` is either a *new sample* (a recipe and the protocols to run on the fresh
pellet) or a *follow-up* (further protocols on a sample the campaign already holds; protocol
1.1). Each round the loop hands the policy a :class:`PlanningState`:

- ``table``: the measurement table, one row per sample. A property not measured (yet) is NaN;
  a censored CCD is a value with ``ccd_censored`` True, not NaN.
- ``samples``: the campaign's samples (:class:`SampleState`): service, recipe, protocols
  measured and pending, consumed or not.
- ``pending``: the actions still open (:class:`PendingAction`).
- ``services``: per service (:class:`ServiceState`): protocol version, free capacity and
  durations (the client's ``durations()``: a 1.1 service's own, else the configured table).
- ``hours_left`` / ``samples_left``: what the budgets still allow (``None``: no such budget).

and the policy (:class:`Policy`) returns a :class:`Plan`: actions, best first, each with its
expected instrument-hours. The loop then admits them in order (see
:mod:`design.campaign.runner`): a follow-up goes to the service holding its sample; a new
sample to the service the action names, else the one with most free capacity; a 1.0 service
runs every protocol of a new sample in one job and takes no follow-ups; an action is admitted
only while its service has a free slot, the sample budget allows a new sample, and the hours
committed plus its expected hours stay within ``--budget-hours``.

The policies shipped today are in :mod:`design.campaign.policies`; ``staged`` decides by
expected hypervolume gain per instrument-hour with :mod:`design.acquisition.staged`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from design.campaign.config import CampaignConfig
from design.campaign.proposer import Proposer
from design.store.hours import estimate_hours
from design.store.states import JobKind
from experiments.cycler.durations import Durations
from experiments.cycler.models import PROTOCOLS
from physics.errors import ConfigError
from physics.schema import RecipeSpace

__all__ = [
    "Action",
    "PendingAction",
    "Plan",
    "PlanningState",
    "Policy",
    "SampleState",
    "ServiceState",
]


@dataclass(frozen=True)
class ServiceState:
    """One cycler service as a policy sees it.

    Attributes:
        name: ``cycler-1``, ``cycler-2``... (the order of ``--cycler-url``).
        url: its address without credentials.
        version: protocol version, ``"1.0"`` or ``"1.1"``.
        staged: whether it takes follow-ups and partial protocol sets (protocol 1.1).
        up: reachable now (a service that went away takes no new work; its jobs wait).
        capacity: jobs it may hold at once (``--batch-size`` or its ``max_concurrent_jobs``).
        in_flight: open actions on it now.
        durations: its instrument-hours table.
        default_dwell_h: its recipe space's default dwell, h.
    """

    name: str
    url: str
    version: str
    staged: bool
    up: bool
    capacity: int
    in_flight: int
    durations: Durations
    default_dwell_h: float

    @property
    def free(self) -> int:
        """Slots free for new work now (0 while the service is away)."""
        return max(self.capacity - self.in_flight, 0) if self.up else 0

    def new_sample_hours(
        self, recipe: Mapping[str, Any] | None, protocols: Sequence[str] | None
    ) -> float:
        """Expected hours of a new sample: sintering at the recipe's dwell + its protocols.

        ``protocols`` ``None`` means every protocol.
        """
        dwell = (recipe or {}).get("dwell_h")
        dwell_h = self.default_dwell_h if dwell is None else float(dwell)
        return estimate_hours(self.durations, JobKind.NEW, protocols or PROTOCOLS, dwell_h)

    def follow_up_hours(self, protocols: Sequence[str]) -> float:
        """Expected hours of a follow-up: its protocols only (no sintering)."""
        return estimate_hours(self.durations, JobKind.FOLLOW_UP, protocols, None)


@dataclass(frozen=True)
class SampleState:
    """A sample the campaign holds.

    Attributes:
        key: the campaign's name of it (its row's ``sample_id``).
        sample_id: the service's name of it.
        service: the service holding it.
        recipe: its recipe.
        protocols_done: protocols measured on it (a repeat appears twice).
        protocols_pending: protocols asked for by open follow-ups.
        consumed: it can be measured no more (``consumed_reason`` says why).
    """

    key: str
    sample_id: str
    service: str
    recipe: dict[str, float]
    protocols_done: tuple[str, ...]
    protocols_pending: tuple[str, ...] = ()
    consumed: bool = False
    consumed_reason: str | None = None

    def has(self, protocol: str) -> bool:
        """Whether ``protocol`` was measured on it or is pending."""
        return protocol in self.protocols_done or protocol in self.protocols_pending


@dataclass(frozen=True)
class PendingAction:
    """An open action (its job queued, running or about to be sent)."""

    kind: str
    service: str
    protocols: tuple[str, ...]
    recipe: dict[str, float]
    sample: str | None = None
    expected_hours: float | None = None


@dataclass
class PlanningState:
    """Everything a policy decides from (see the module docstring)."""

    table: pd.DataFrame
    samples: list[SampleState]
    pending: list[PendingAction]
    services: dict[str, ServiceState]
    hours_left: float | None
    samples_left: int | None
    config: CampaignConfig
    space: RecipeSpace
    seed: int

    @property
    def pending_recipes(self) -> list[dict[str, float]]:
        """Recipes of the open new-sample actions (the BO's pending points)."""
        return [dict(p.recipe) for p in self.pending if p.kind == JobKind.NEW]

    @property
    def free_slots(self) -> int:
        """Free capacity over every service that is up."""
        return sum(s.free for s in self.services.values())

    def sample(self, key: str) -> SampleState | None:
        """The sample called ``key`` (``None`` if the campaign holds none such)."""
        return next((s for s in self.samples if s.key == key), None)

    def new_sample_room(self, hours_each: float) -> int:
        """How many new samples of ``hours_each`` h the capacity and budgets allow now."""
        room = self.free_slots
        if self.samples_left is not None:
            room = min(room, self.samples_left)
        if self.hours_left is not None:
            each = max(hours_each, 1e-9)
            room = min(room, math.floor(max(self.hours_left, 0.0) / each + 1e-9))
        return max(room, 0)


@dataclass
class Action:
    """One thing to do: a new sample, or a follow-up on a sample the campaign holds.

    Attributes:
        kind: ``new`` or ``follow_up``.
        protocols: protocols to run (``None``: every protocol; a follow-up must list them).
        recipe: a new sample's recipe (snapped to the service's grid by the loop).
        sample: a follow-up's sample (:attr:`SampleState.key`).
        service: where to run it (``None``: the loop chooses; a follow-up always runs on the
            service holding its sample).
        expected_hours: the policy's estimate of its instrument-hours (the loop recomputes it
            from the chosen service's durations for the budget).
        prediction: what the model expects (``mean``, ``sd``, ``p_feasible``), for the record.
        acquisition_value: the policy's value of the action, for the record.
        reason: why the policy chose it (one line, for the log and MLflow).

    Raises:
        ConfigError: a new sample without a recipe, a follow-up without sample or protocols,
            or an unknown protocol.
    """

    kind: str
    protocols: tuple[str, ...] | None = None
    recipe: dict[str, float] | None = None
    sample: str | None = None
    service: str | None = None
    expected_hours: float | None = None
    prediction: dict[str, Any] = field(default_factory=dict)
    acquisition_value: float | None = None
    reason: str = ""

    def __post_init__(self) -> None:
        if self.kind not in (JobKind.NEW, JobKind.FOLLOW_UP):
            raise ConfigError(f"action kind {self.kind!r} is not 'new' or 'follow_up'")
        if self.protocols is not None:
            self.protocols = tuple(self.protocols)
            unknown = [p for p in self.protocols if p not in PROTOCOLS]
            if unknown or not self.protocols:
                raise ConfigError(
                    f"action protocols {list(self.protocols)!r}: each must be one of "
                    f"{', '.join(PROTOCOLS)}, at least one"
                )
        if self.kind == JobKind.NEW and self.recipe is None:
            raise ConfigError("a new-sample action needs a recipe")
        if self.kind == JobKind.FOLLOW_UP and (not self.sample or not self.protocols):
            raise ConfigError("a follow-up action needs its sample and its protocols")

    @classmethod
    def new(
        cls, recipe: Mapping[str, float], protocols: Sequence[str] | None = None, **kw: Any
    ) -> Action:
        """A new sample from ``recipe`` running ``protocols`` (``None``: all)."""
        chosen = None if protocols is None else tuple(protocols)
        return cls(JobKind.NEW, chosen, dict(recipe), **kw)

    @classmethod
    def follow_up(cls, sample: str, protocols: Sequence[str], **kw: Any) -> Action:
        """Further ``protocols`` on the campaign's sample ``sample``."""
        return cls(JobKind.FOLLOW_UP, tuple(protocols), None, sample, **kw)


@dataclass
class Plan:
    """A policy's answer for one round.

    Attributes:
        actions: best first; the loop admits them in this order while they fit.
        surrogate: the fitted model that chose the new recipes (``None`` for Sobol points).
        strategy: the recipe strategy that actually proposed (after any Sobol fallback).
        fallback_reason: why the configured strategy did not propose, else ``None``.
        suggestions: the recipe proposer's suggestions (for the round's MLflow plots).
        notes: what the policy wants said about the round (logged).
    """

    actions: list[Action] = field(default_factory=list)
    surrogate: Any = None
    strategy: str | None = None
    fallback_reason: str | None = None
    suggestions: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Policy(Protocol):
    """Chooses the round's actions; ``recipes`` proposes new recipes when the policy wants some.

    ``recipes`` is the campaign's recipe proposer (:class:`design.campaign.proposer.Proposer`,
    called through :func:`design.campaign.proposer.propose_with_fallback`), so a policy that
    only decides *which tests* reuses the configured strategy for *which recipes*.
    """

    def __call__(self, state: PlanningState, *, recipes: Proposer) -> Plan: ...
