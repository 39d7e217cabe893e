"""The protocol policies and the admission of their actions, on hand-made planning states."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from design.campaign.config import CampaignConfig
from design.campaign.planning import Action, Plan, PlanningState, SampleState, ServiceState
from design.campaign.policies import (
    STAGE_ONE,
    STAGE_TWO,
    all_protocols,
    dominated_2d,
    make_policy,
    staged,
    staged_dominance,
)
from experiments.cycler.durations import DEFAULT_DURATIONS
from physics.errors import ConfigError
from physics.schema import MEASUREMENT_COLUMNS, RecipeSpace
from tests.design.campaign.staged_fakes import RecipeList


def _service(name="cycler-1", staged=True, capacity=4, in_flight=0, up=True) -> ServiceState:
    return ServiceState(
        name,
        f"http://{name}",
        "1.1" if staged else "1.0",
        staged,
        up,
        capacity,
        in_flight,
        DEFAULT_DURATIONS,
        6.0,
    )


def _row(key, sigma, te, ccd=None, status="ok") -> dict:
    row = dict.fromkeys(MEASUREMENT_COLUMNS)
    row.update(
        sample_id=key,
        zbo_fraction=0.1,
        sinter_temperature_c=1000.0,
        dwell_h=6.0,
        status=status,
        sigma_total_ms_cm=sigma,
        electronic_fraction=te,
        ccd_ma_cm2=ccd,
        ccd_censored=None if ccd is None else False,
    )
    return row


def _state(rows, samples, services, **kw) -> PlanningState:
    config = CampaignConfig(name="u", cycler_url="http://cycler-1", budget=20)
    return PlanningState(
        table=pd.DataFrame(rows, columns=list(MEASUREMENT_COLUMNS)),
        samples=samples,
        pending=kw.pop("pending", []),
        services={s.name: s for s in services},
        hours_left=kw.pop("hours_left", None),
        samples_left=kw.pop("samples_left", None),
        config=config,
        space=RecipeSpace(),
        seed=0,
    )


def _sample(key, done=STAGE_ONE, service="cycler-1", **kw) -> SampleState:
    return SampleState(key, key, service, {"zbo_fraction": 0.1}, tuple(done), **kw)


def test_dominated_2d_needs_both_at_least_as_good_and_one_better():
    front = pd.DataFrame({"sigma_total_ms_cm": [1.0], "electronic_fraction": [0.02]})
    assert dominated_2d(0.9, 0.03, front) and dominated_2d(1.0, 0.03, front)
    assert not dominated_2d(1.0, 0.02, front)  # equal is not dominated
    assert not dominated_2d(1.1, 0.05, front) and not dominated_2d(0.5, 0.01, front)


def test_staged_dominance_follows_up_non_dominated_samples_only_then_fills_with_new_ones():
    rows = [
        _row("front", 1.0, 0.02, ccd=0.5),
        _row("good", 1.2, 0.03),  # better sigma: not dominated
        _row("poor", 0.8, 0.03),  # dominated
        _row("nan", math.nan, 0.01),  # sigma not computed: no follow-up
        _row("done", 0.9, 0.01, ccd=0.4),
    ]
    samples = [
        _sample("good"),
        _sample("poor"),
        _sample("nan"),
        _sample("done", done=STAGE_ONE + STAGE_TWO, consumed=True),
    ]
    recipes = RecipeList()
    plan = staged_dominance(_state(rows, samples, [_service(capacity=3)]), recipes=recipes)
    kinds = [(a.kind, a.sample, a.protocols) for a in plan.actions]
    assert kinds[0] == ("follow_up", "good", STAGE_TWO)
    assert [k[0] for k in kinds[1:]] == ["new", "new"] and recipes.calls == [2]
    assert all(a.protocols == STAGE_ONE for a in plan.actions[1:])
    assert [a.expected_hours for a in plan.actions] == pytest.approx([76, 34, 34])


def test_staged_dominance_skips_protocols_pending_or_done_and_respects_hours():
    rows = [_row("a", 1.2, 0.03)]
    pending = _sample("a", protocols_pending=("eis_symmetric",))
    state = _state(rows, [pending], [_service()], samples_left=0)
    plan = staged_dominance(state, recipes=RecipeList())
    assert [(a.sample, a.protocols) for a in plan.actions] == [("a", ("ccd_staircase",))]
    plan = staged_dominance(
        _state(rows, [_sample("a")], [_service()], samples_left=0, hours_left=50),
        recipes=RecipeList(),
    )
    assert plan.actions == []  # the follow-up needs 76 h


def test_staged_dominance_runs_everything_on_a_1_0_service_and_no_follow_ups_there():
    rows = [_row("a", 1.2, 0.03)]
    services = [_service("cycler-1", staged=False, capacity=2)]
    plan = staged_dominance(_state(rows, [_sample("a")], services), recipes=RecipeList())
    assert [(a.kind, a.protocols, a.service) for a in plan.actions] == [
        ("new", None, "cycler-1"),
        ("new", None, "cycler-1"),
    ]


def test_all_protocols_asks_for_what_capacity_samples_and_hours_allow():
    recipes = RecipeList()
    services = [_service(capacity=4, in_flight=1), _service("cycler-2", capacity=2)]
    plan = all_protocols(_state([], [], services, samples_left=10), recipes=recipes)
    assert recipes.calls == [5] and [a.service for a in plan.actions].count("cycler-2") == 2
    assert all(a.kind == "new" and a.protocols is None for a in plan.actions)
    assert all(a.expected_hours == 110 for a in plan.actions)  # default dwell: 16 + 94 h
    plan = all_protocols(_state([], [], services, hours_left=250), recipes=recipes)
    assert recipes.calls[-1] == 2  # 110 h each
    assert all_protocols(_state([], [], services, samples_left=0), recipes=recipes).actions == []
    assert len(recipes.calls) == 2  # no model asked when nothing can be admitted


def test_actions_are_checked_and_policies_named():
    with pytest.raises(ConfigError, match="needs its sample and its protocols"):
        Action("follow_up", sample="S-1")
    with pytest.raises(ConfigError, match="must be one of"):
        Action.new({"zbo_fraction": 0.1}, ["xrd"])
    with pytest.raises(ConfigError, match="not one of all, staged"):
        make_policy("greedy")
    assert isinstance(Plan(), Plan)


def test_admission_follows_capacity_service_version_and_the_hours_rule():
    from design.campaign.rounds import admit
    from design.campaign.services import ServicePool
    from tests.design.campaign.staged_fakes import StagedService

    config = CampaignConfig(
        name="u", cycler_url="http://a", other_cycler_urls=["http://b"], budget_hours=290
    )
    services = {"cycler-1": StagedService(slots=4), "cycler-2": StagedService("1", slots=2)}
    pool = ServicePool(config, services)
    for link in pool:
        link.connect()
    rows = [_row("cycler-1:S-000001", 1.2, 0.03)]
    samples = [_sample("cycler-1:S-000001")]
    state = _state(rows, samples, pool.states({}).values(), hours_left=280)
    plan = Plan(
        [
            Action.follow_up("cycler-1:S-000001", STAGE_TWO),  # 76 h, on cycler-1
            Action.new(
                {"zbo_fraction": 0.123, "sinter_temperature_c": 1001}, STAGE_ONE, service="cycler-2"
            ),  # 1.0: all protocols, 110 h
            Action.new({"zbo_fraction": 0.2, "sinter_temperature_c": 1000}, STAGE_ONE),  # 34 h
            Action.new({"zbo_fraction": 0.3, "sinter_temperature_c": 1000}, STAGE_ONE),  # 34 h
            Action.new({"zbo_fraction": 0.4, "sinter_temperature_c": 1000}, STAGE_ONE),  # over
        ]
    )
    out = admit(plan, state, pool, {"cycler-1:S-000001": 7}, committed_h=10.0, budget_h=290.0)
    got = [(a["kind"], a["service"], a["protocols"], a["expected_hours"]) for a in out.actions]
    assert got == [
        ("follow_up", "cycler-1", list(STAGE_TWO), 76.0),
        ("new", "cycler-2", None, 110.0),
        ("new", "cycler-1", list(STAGE_ONE), 34.0),
        ("new", "cycler-1", list(STAGE_ONE), 34.0),
    ]  # 10 + 76 + 110 + 34 + 34 = 264 h committed; one more stage-one sample would make 298
    assert out.actions[0]["sample_pk"] == 7
    assert out.actions[1]["recipe"] == {
        "zbo_fraction": 0.12,
        "sinter_temperature_c": 1000.0,
        "dwell_h": 6.0,
    }
    assert any("speaks protocol 1.0" in n for n in out.notes)
    assert any("needs 34 h, 26 h left of --budget-hours" in n for n in out.notes)


def test_staged_weighs_gain_per_hour_with_the_fitted_model():
    from design.campaign.proposer import default_proposer

    rows = [
        {**_row("front", 1.0, 0.03, ccd=0.6), "zbo_fraction": 0.15},
        {**_row("front2", 0.6, 0.02, ccd=0.8), "zbo_fraction": 0.05},
        {**_row("poor", 0.2, 0.09), "zbo_fraction": 0.02, "sinter_temperature_c": 920.0},
        {**_row("good", 2.5, 0.01), "zbo_fraction": 0.2, "sinter_temperature_c": 1050.0},
    ]
    recipe_cols = ("zbo_fraction", "sinter_temperature_c")
    samples = [
        SampleState(k, k, "cycler-1", {c: r[c] for c in recipe_cols}, STAGE_ONE)
        for k, r in (("poor", rows[2]), ("good", rows[3]))
    ]
    state = _state(rows, samples, [_service(capacity=3)], hours_left=400.0)
    plan = staged(state, recipes=default_proposer)
    follow = [a.sample for a in plan.actions if a.kind == "follow_up"]
    assert follow == ["good"]  # the dominated sample gets no CCD stage
    assert all(a.protocols == STAGE_ONE for a in plan.actions if a.kind == "new")
    assert sum(a.expected_hours for a in plan.actions) <= 400.0
    assert plan.surrogate is not None and all(a.reason for a in plan.actions)
