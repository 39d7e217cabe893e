"""Staged tests by expected hypervolume gain per hour, on a hand-made posterior."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from design.acquisition.staged import FollowUpOption, NewOption, front_points, plan_staged
from physics.schema import MEASUREMENT_COLUMNS, OBJECTIVES

FOLLOW_H = 76.0
NEW_H = 34.0


class FakePosterior:
    """Posterior keyed by zbo_fraction: ``{x: (sigma, ccd, t_e, sd)}`` (model-space sd)."""

    def __init__(self, points: dict[float, tuple[float, float, float, float]], pf: float = 1.0):
        self.points, self.pf = points, pf

    def predict(self, frame: pd.DataFrame) -> SimpleNamespace:
        rows = [self.points[round(float(x), 4)] for x in frame["zbo_fraction"]]
        s, c, t, sd = (np.array(v, float) for v in zip(*rows, strict=True))
        mean = {
            "sigma_total_ms_cm": np.log(s),
            "ccd_ma_cm2": np.log(c),
            "electronic_fraction": np.log(t / (1 - t)),
        }
        return SimpleNamespace(
            latent_mean=mean,
            latent_sd={n: sd for n in OBJECTIVES},
            noise_sd={n: np.zeros(len(sd)) for n in OBJECTIVES},
            p_feasible=np.full(len(sd), self.pf),
        )


def _row(key, x, sigma, te, ccd=None, censored=None, status="ok") -> dict:
    row = dict.fromkeys(MEASUREMENT_COLUMNS)
    row.update(
        sample_id=key,
        zbo_fraction=x,
        sinter_temperature_c=1000.0,
        dwell_h=6.0,
        status=status,
        sigma_total_ms_cm=sigma,
        electronic_fraction=te,
        ccd_ma_cm2=math.nan if ccd is None else ccd,
        ccd_censored=censored,
    )
    return row


def _table(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(MEASUREMENT_COLUMNS))


def _follow(key, x, sigma, te) -> FollowUpOption:
    recipe = {"zbo_fraction": x, "sinter_temperature_c": 1000.0}
    return FollowUpOption(key, recipe, sigma, te, FOLLOW_H)


def _new(x) -> NewOption:
    return NewOption({"zbo_fraction": x, "sinter_temperature_c": 1000.0}, NEW_H, FOLLOW_H)


FRONT = _row("front", 0.10, 1.0, 0.02, ccd=0.5)


def test_a_dominated_sample_gets_no_ccd_stage_and_a_front_extending_one_does():
    post = FakePosterior({0.2: (0.8, 0.3, 0.03, 0.05), 0.3: (1.5, 0.5, 0.02, 0.05)})
    table = _table(FRONT, _row("poor", 0.2, 0.8, 0.03), _row("good", 0.3, 1.5, 0.02))
    follow = [_follow("poor", 0.2, 0.8, 0.03), _follow("good", 0.3, 1.5, 0.02)]
    choices = plan_staged(table, post, follow, [], slots=4, hours_left=None)
    assert [(c.kind, follow[c.index].key) for c in choices] == [("follow_up", "good")]
    assert choices[0].expected_hvi > 0 and choices[0].value_per_hour == pytest.approx(
        choices[0].expected_hvi / FOLLOW_H
    )


def test_a_sample_dominated_in_sigma_and_te_alone_is_followed_up_when_its_ccd_should_win():
    post = FakePosterior({0.2: (0.8, 3.0, 0.03, 0.05)})  # CCD far above the front's 0.5
    table = _table(FRONT, _row("ccd", 0.2, 0.8, 0.03))
    follow = [_follow("ccd", 0.2, 0.8, 0.03)]
    choices = plan_staged(table, post, follow, [], slots=1, hours_left=None)
    assert [c.kind for c in choices] == ["follow_up"]


def test_hours_left_bound_every_choice_and_new_samples_need_room_for_their_follow_up():
    post = FakePosterior({0.3: (1.5, 0.8, 0.02, 0.1), 0.4: (2.0, 1.0, 0.01, 0.5)})
    table = _table(FRONT, _row("good", 0.3, 1.5, 0.02))
    follow = [_follow("good", 0.3, 1.5, 0.02)]
    news = [_new(0.4)]
    both = plan_staged(table, post, follow, news, slots=4, hours_left=None)
    assert sorted(c.kind for c in both) == ["follow_up", "new"]
    only = plan_staged(table, post, follow, news, slots=4, hours_left=100.0)  # 76 + 34 > 100
    assert len(only) == 1
    spent = sum(FOLLOW_H if c.kind == "follow_up" else NEW_H for c in only)
    assert spent <= 100.0
    assert plan_staged(table, post, follow, news, slots=4, hours_left=50.0) == []
    assert len(plan_staged(table, post, follow, news, slots=1, hours_left=None)) == 1


def test_cheaper_hours_win_at_equal_gain_and_pending_follow_ups_count():
    post = FakePosterior({0.3: (1.5, 0.8, 0.02, 0.05), 0.31: (1.5, 0.8, 0.02, 0.05)})
    table = _table(FRONT, _row("a", 0.3, 1.5, 0.02), _row("b", 0.31, 1.5, 0.02))
    a, b = _follow("a", 0.3, 1.5, 0.02), _follow("b", 0.31, 1.5, 0.02)
    alone = plan_staged(table, post, [a], [], slots=1, hours_left=None)[0]
    behind = plan_staged(table, post, [a], [], slots=1, hours_left=None, pending_follow_ups=[b])
    assert behind == [] or behind[0].expected_hvi < 0.2 * alone.expected_hvi
    # the same point as a new sample costs its sintering and stage one on top: the follow-up wins
    choices = plan_staged(table, post, [a], [_new(0.31)], slots=1, hours_left=None)
    assert choices[0].kind == "follow_up"


def test_new_samples_fill_the_slots_when_nothing_gains_and_cracks_lower_their_value():
    post = FakePosterior({0.05: (0.1, 0.05, 0.3, 0.01), 0.06: (0.1, 0.05, 0.3, 0.01)})
    news = [_new(0.05), _new(0.06)]
    choices = plan_staged(_table(FRONT), post, [], news, slots=2, hours_left=None)
    assert [(c.kind, c.index, c.expected_hvi) for c in choices] == [
        ("new", 0, 0.0),
        ("new", 1, 0.0),
    ]
    good = {0.4: (2.0, 1.0, 0.01, 0.1)}
    sure = plan_staged(
        _table(FRONT), FakePosterior(good), [], [_new(0.4)], slots=1, hours_left=None
    )
    risky = plan_staged(
        _table(FRONT), FakePosterior(good, pf=0.3), [], [_new(0.4)], slots=1, hours_left=None
    )
    assert risky[0].expected_hvi < 0.5 * sure[0].expected_hvi
    assert sure[0].p_follow_up == pytest.approx(1.0) and risky[0].p_follow_up < 0.5


def test_censored_ccd_is_on_the_front_and_missing_ccd_is_not():
    table = _table(
        FRONT,
        _row("cens", 0.2, 2.0, 0.01, ccd=1.2, censored=True),
        _row("half", 0.3, 5.0, 0.005),
        _row("cracked", 0.4, None, None, status="cracked"),
    )
    pts = front_points(table)
    assert pts.shape == (2, 3)
    assert pts[1] == pytest.approx([math.log(2.0), math.log(1.2), -math.log(0.01 / 0.99)])


def test_an_empty_table_has_an_empty_front_and_any_surviving_point_gains():
    post = FakePosterior({0.4: (2.0, 1.0, 0.01, 0.1)})
    empty = _table()
    assert front_points(empty).shape == (0, 3)
    choices = plan_staged(empty, post, [], [_new(0.4)], slots=1, hours_left=None)
    assert choices[0].kind == "new" and choices[0].expected_hvi > 0


def test_a_new_sample_is_worth_only_what_it_adds_to_samples_waiting_for_their_ccd():
    post = FakePosterior({0.3: (1.5, 0.8, 0.02, 0.05), 0.31: (1.5, 0.8, 0.02, 0.05)})
    table = _table(FRONT, _row("a", 0.3, 1.5, 0.02))
    recipe = {"zbo_fraction": 0.3, "sinter_temperature_c": 1000.0}
    waiting = [FollowUpOption("a", recipe, 1.5, 0.02, 1000.0)]  # too long for the hours left

    def new_gain(held: bool) -> float:
        choices = plan_staged(
            table, post, waiting, [_new(0.31)], slots=2, hours_left=200.0, options_held=held
        )
        return next(c.expected_hvi for c in choices if c.kind == "new")

    assert new_gain(True) < 0.3 * new_gain(False)
