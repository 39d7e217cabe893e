"""Staged tests by expected hypervolume gain per instrument-hour: new samples or CCD follow-ups.

In a staged campaign a new sample runs the stage-one tests only (impedance and DC
polarization: sigma and t_e, about a day with sintering) and a follow-up on a sample already
made runs stage two (symmetric impedance and the CCD staircase: three days or more, and the
CCD uses up the pellet). Each round :func:`plan_staged` ranks the two kinds of action by

    value_per_hour = E[hypervolume improvement] / expected instrument-hours

in the acquisition's model space (``log sigma``, ``log CCD``, ``-logit t_e``, reference point
at the thresholds, :func:`design.acquisition.hypervolume.reference_point`), against the front of
the **fully measured** ok rows (every objective measured; a censored CCD counts as its bound,
as in :func:`design.acquisition.hypervolume.hypervolume`; a missing one is NaN and the row is not on
the front):

- **follow-up** on sample ``s`` (stage one measured): the point ``(measured sigma, CCD ~
  posterior at s's recipe, measured t_e)``; the CCD draws are the surrogate's posterior at the
  recipe with its pellet-to-pellet noise. Hours: the stage-two hours. A sample that stays
  dominated by the front for every CCD the posterior allows gains nothing and is never
  followed up (one dominated in (sigma, t_e) alone still may be, when its CCD is likely to
  beat the front's).
- **new sample** at a recipe from the batch acquisition: its full point drawn from the
  posterior (every objective, with noise) and a furnace survival draw from ``p_feasible``.
  Hours: sintering + stage one + ``P(follow-up) x`` stage-two hours, with ``P(follow-up)``
  the probability that the drawn point improves the front (then it would be followed up). A
  new sample is only chosen when the hours left also cover its follow-up (a sample without a
  CCD adds no hypervolume).

A new sample is scored against the front **and the samples waiting for their CCD stage**
(measured sigma and t_e, CCD draws): it is worth what it adds to what the campaign already
holds, so a recipe beside a promising sample not yet followed up does not outbid that sample's
cheaper follow-up. Pending work counts per objective: a sample whose follow-up is in flight
enters the front with its measured sigma and t_e and CCD draws from the posterior; each chosen
action enters it the same way (a chosen new sample with its drawn point), so the next choice of
the round is scored
against what the round already bought (sequential greedy, as in batch acquisition). The draws
are independent between recipes (marginal posteriors), which ignores the correlation between
nearby recipes.

The value ignores what a measurement teaches the model beyond its own point (a stage-one
result also sharpens the sigma and t_e posteriors nearby); slots with nothing of positive value
are filled with new samples in the batch acquisition's order, never with a follow-up.

With the temperature objective (``--minimize-temperature``) the new samples' recipes come from
the 4-D batch acquisition, but the value per hour here stays 3-D: the sintering temperature
does not enter the comparison of new samples with follow-ups.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from design.acquisition.hypervolume import hvi, reference_point
from physics.schema import MAXIMIZE, OBJECTIVES
from surrogate.base import to_model_space

__all__ = [
    "FollowUpOption",
    "NewOption",
    "StagedChoice",
    "front_points",
    "plan_staged",
]

N_DRAWS = 256
_DTYPE = torch.double
_SIGN = np.array([1.0 if MAXIMIZE[n] else -1.0 for n in OBJECTIVES])
_CCD = OBJECTIVES.index("ccd_ma_cm2")


@dataclass(frozen=True)
class FollowUpOption:
    """A sample that could get the CCD stage.

    Attributes:
        key: the sample's name (its row's ``sample_id``).
        recipe: its recipe (``zbo_fraction``, ``sinter_temperature_c``, ``dwell_h``).
        sigma_total_ms_cm: its measured total conductivity, mS/cm.
        electronic_fraction: its measured t_e.
        hours: expected instrument-hours of the follow-up, h.
    """

    key: str
    recipe: Mapping[str, float]
    sigma_total_ms_cm: float
    electronic_fraction: float
    hours: float


@dataclass(frozen=True)
class NewOption:
    """A recipe for a new sample (from the batch acquisition, in its order).

    Attributes:
        recipe: the recipe.
        hours: expected hours of sintering and stage one, h.
        follow_up_hours: expected hours of its follow-up if it gets one, h.
    """

    recipe: Mapping[str, float]
    hours: float
    follow_up_hours: float


@dataclass
class StagedChoice:
    """One chosen action with its value.

    Attributes:
        kind: ``new`` or ``follow_up``.
        index: position of the option in the list given (``news`` or ``follow_ups``).
        expected_hvi: expected hypervolume improvement (model space; crack draws count 0).
        hours: hours the value is divided by, h (a new sample's includes
            ``p_follow_up x follow_up_hours``).
        value_per_hour: ``expected_hvi / hours``.
        p_follow_up: new samples: the probability its point improves the front.
        ccd_mean_ma_cm2: follow-ups: the posterior median CCD at the sample's recipe.
        reason: one line for the log.
    """

    kind: str
    index: int
    expected_hvi: float
    hours: float
    value_per_hour: float
    p_follow_up: float | None = None
    ccd_mean_ma_cm2: float | None = None
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def front_points(table: pd.DataFrame) -> np.ndarray:
    """Model-space points (maximization form, (m, 3)) of the fully measured ok rows.

    A censored CCD is a value (its bound); a row with any objective NaN is left out.
    """
    if table is None or len(table) == 0:
        return np.zeros((0, 3))
    ok = table[table["status"] == "ok"]
    values = ok[list(OBJECTIVES)].apply(pd.to_numeric, errors="coerce").to_numpy(float)
    values = values[np.isfinite(values).all(1)]
    if len(values) == 0:
        return np.zeros((0, 3))
    cols = [to_model_space(n, values[:, i]) for i, n in enumerate(OBJECTIVES)]
    return np.column_stack(cols) * _SIGN


def _point(sigma_ms_cm: float, te: float) -> np.ndarray:
    """Model-space (maximization) sigma and t_e coordinates; CCD left 0."""
    out = np.zeros(3)
    out[0] = float(to_model_space("sigma_total_ms_cm", np.float64(sigma_ms_cm)))
    out[2] = -float(to_model_space("electronic_fraction", np.float64(te)))
    return out


def _draws(mean: np.ndarray, sd: np.ndarray, gen: torch.Generator, n: int) -> torch.Tensor:
    """(n, k) normal draws of k independent marginals."""
    z = torch.randn((n, len(mean)), generator=gen, dtype=_DTYPE)
    return torch.as_tensor(mean, dtype=_DTYPE) + z * torch.as_tensor(sd, dtype=_DTYPE)


def _posterior(surrogate: Any, recipes: Sequence[Mapping[str, float]]) -> tuple[Any, Any, Any]:
    """Model-space (maximization) mean and predictive sd (latent + noise), and p_feasible."""
    frame = pd.DataFrame([dict(r) for r in recipes])
    pred = surrogate.predict(frame)
    mean = np.column_stack([np.asarray(pred.latent_mean[n], float) for n in OBJECTIVES]) * _SIGN
    sd = np.column_stack(
        [
            np.sqrt(
                np.asarray(pred.latent_sd[n], float) ** 2
                + np.asarray(pred.noise_sd.get(n, np.zeros(len(frame))), float) ** 2
            )
            for n in OBJECTIVES
        ]
    )
    return mean, sd, np.asarray(pred.p_feasible, float)


def plan_staged(
    table: pd.DataFrame,
    surrogate: Any,
    follow_ups: Sequence[FollowUpOption],
    news: Sequence[NewOption],
    *,
    slots: int,
    hours_left: float | None,
    pending_follow_ups: Sequence[FollowUpOption] = (),
    thresholds: dict[str, float] | None = None,
    seed: int = 0,
    n_draws: int = N_DRAWS,
    options_held: bool = True,
) -> list[StagedChoice]:
    """The round's actions, best value per hour first (see the module docstring).

    Args:
        table: the measurement table (one row per sample; NaN where not measured).
        surrogate: a fitted surrogate (``predict`` with latent mean/sd and noise sd).
        follow_ups: samples that could get the CCD stage now.
        news: recipes for new samples, in the batch acquisition's order.
        slots: how many actions the round may start.
        hours_left: instrument-hours still uncommitted (``None``: no hours budget).
        pending_follow_ups: samples whose follow-up is in flight.
        thresholds: the acquisition's thresholds (reference point).
        seed: seeds the draws.
        n_draws: Monte Carlo draws.
        options_held: score new samples against the front plus the samples that could get
            their CCD stage now (module docstring); ``False`` scores them against the front
            (fully measured and pending) alone.

    Returns:
        At most ``slots`` choices; their hours (a new sample's stage one plus, for the budget,
        its follow-up) fit in ``hours_left``.
    """
    if slots <= 0:
        return []
    left = math.inf if hours_left is None else float(hours_left)
    gen = torch.Generator().manual_seed(int(seed))
    ref = reference_point(thresholds)
    base = torch.as_tensor(front_points(table), dtype=_DTYPE).reshape(-1, 3)
    base = torch.cat([ref.reshape(1, 3), base])  # the reference: an empty front is harmless
    front = base.expand(n_draws, -1, -1).clone()

    def follow_points(options: Sequence[FollowUpOption]) -> tuple[torch.Tensor, np.ndarray]:
        if not options:
            return torch.zeros((n_draws, 0, 3), dtype=_DTYPE), np.zeros(0)
        mean, sd, _ = _posterior(surrogate, [o.recipe for o in options])
        fixed = np.stack([_point(o.sigma_total_ms_cm, o.electronic_fraction) for o in options])
        pts = torch.as_tensor(fixed, dtype=_DTYPE).expand(n_draws, -1, -1).clone()
        pts[..., _CCD] = _draws(mean[:, _CCD], sd[:, _CCD], gen, n_draws)
        return pts, np.exp(mean[:, _CCD])

    pend, _ = follow_points(pending_follow_ups)
    front = torch.cat([front, pend], 1)
    fu_pts, fu_ccd = follow_points(follow_ups)
    if news:
        mean, sd, pf = _posterior(surrogate, [o.recipe for o in news])
        new_pts = torch.stack([_draws(mean[i], sd[i], gen, n_draws) for i in range(len(news))], 1)
        survives = torch.rand((n_draws, len(news)), generator=gen, dtype=_DTYPE) < torch.as_tensor(
            pf, dtype=_DTYPE
        )
        new_pts = torch.where(survives[..., None], new_pts, ref)
    else:
        new_pts = torch.zeros((n_draws, 0, 3), dtype=_DTYPE)

    fu_open = list(range(len(follow_ups)))
    new_open = list(range(len(news)))
    chosen: list[StagedChoice] = []
    while len(chosen) < slots and (fu_open or new_open):
        best: StagedChoice | None = None
        if fu_open:
            gain = hvi(fu_pts[:, fu_open], front, ref).mean(0).numpy()
            for j, i in enumerate(fu_open):
                opt = follow_ups[i]
                if gain[j] <= 0 or opt.hours > left:
                    continue
                c = StagedChoice(
                    "follow_up",
                    i,
                    float(gain[j]),
                    opt.hours,
                    float(gain[j]) / max(opt.hours, 1e-9),
                    ccd_mean_ma_cm2=float(fu_ccd[i]),
                )
                if best is None or c.value_per_hour > best.value_per_hour:
                    best = c
        if new_open:
            held = torch.cat([front, fu_pts[:, fu_open]], 1) if options_held else front
            gain_new = hvi(new_pts[:, new_open], held, ref)
            gain = gain_new.mean(0).numpy()
            p_up = (gain_new > 0).double().mean(0).numpy()
            for j, i in enumerate(new_open):
                opt = news[i]
                if opt.hours + opt.follow_up_hours > left:
                    continue
                hours = opt.hours + float(p_up[j]) * opt.follow_up_hours
                c = StagedChoice(
                    "new",
                    i,
                    float(gain[j]),
                    hours,
                    float(gain[j]) / max(hours, 1e-9),
                    p_follow_up=float(p_up[j]),
                )
                # nothing of value anywhere: the acquisition's first recipe still explores
                if best is None or c.value_per_hour > best.value_per_hour:
                    best = c
        if best is None:
            break
        if best.kind == "follow_up":
            fu_open.remove(best.index)
            left -= follow_ups[best.index].hours
            front = torch.cat([front, fu_pts[:, best.index : best.index + 1]], 1)
            best.reason = (
                f"CCD stage: E[HV gain] {best.expected_hvi:.3g} / {best.hours:.0f} h "
                f"(posterior CCD ~{best.ccd_mean_ma_cm2:.2g} mA/cm2)"
            )
        else:
            new_open.remove(best.index)
            left -= news[best.index].hours
            front = torch.cat([front, new_pts[:, best.index : best.index + 1]], 1)
            best.reason = (
                f"new sample: E[HV gain] {best.expected_hvi:.3g} / {best.hours:.0f} h "
                f"(P(follow-up) {best.p_follow_up:.2f})"
            )
        chosen.append(best)
    return chosen
