"""The simulator's job queue with a fake clock: FIFO slots, cancellation, failures, keys."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from experiments.cycler.models import PROTOCOLS
from experiments.simulator.faults import FaultConfig, FaultInjector
from experiments.simulator.jobs import JobStore, ServiceError, iso_utc

RECIPE = {"zbo_fraction": 0.2, "sinter_temperature_c": 1000.0, "dwell_h": 6.0}


@dataclass
class _Pellet:
    cracked: bool = False
    thickness_cm: float = 0.09
    area_cm2: float = 0.785
    bulk_density_g_cm3: float = 3.2
    sigma_bulk_ms_cm: float = 2.5
    sigma_gb_ms_cm: float = 4.6
    activation_energy_ev: float = 0.28
    electronic_fraction: float = 0.02
    r_int_ohm_cm2: float = 25.0
    ccd_ma_cm2: float = 0.5


class _Landscape:
    """Cracks above 1250 C; NaN conductivity at exactly 1200 C (a broken landscape)."""

    def sample_pellet(self, recipe: dict, rng: np.random.Generator) -> _Pellet:
        t_c = recipe["sinter_temperature_c"]
        if t_c == 1200.0:
            return _Pellet(sigma_gb_ms_cm=float("nan"))
        return _Pellet(cracked=t_c > 1250.0, thickness_cm=0.09 * (1 + 0.01 * rng.standard_normal()))


class _Clock:
    def __init__(self) -> None:
        self.t_s = 1_000_000.0

    def __call__(self) -> float:
        return self.t_s


def _store(clock: _Clock, *, slots: int = 2, instrument: float = 0.0, seed: int = 0) -> JobStore:
    return JobStore(
        landscape=_Landscape(),
        faults=FaultInjector(FaultConfig(instrument=instrument), seed),
        seed=seed,
        job_duration_s=10.0,
        jitter=0.0,
        max_concurrent_jobs=slots,
        clock=clock,
    )


def _create(store: JobStore, key: str, **recipe) -> dict:
    job, created = store.create("c", {**RECIPE, **recipe}, list(PROTOCOLS), key, lambda r: r)
    assert created
    return job


def test_fifo_slots_and_lazy_progress():
    clock = _Clock()
    store = _store(clock, slots=2)
    ids = [_create(store, f"k{i}")["job_id"] for i in range(3)]
    assert [store.get(i)["status"] for i in ids] == ["running", "running", "queued"]
    clock.t_s += 9.9
    assert store.get(ids[2])["status"] == "queued"
    clock.t_s += 0.2  # first two end at +10 s; the third starts then
    assert [store.get(i)["status"] for i in ids] == ["succeeded", "succeeded", "running"]
    third = store.get(ids[2])
    assert third["updated_at"] == iso_utc(1_000_010.0)
    clock.t_s += 10.0
    assert store.get(ids[2])["status"] == "succeeded"
    assert store.get(ids[2])["updated_at"] == iso_utc(1_000_020.0)


def test_cancel_frees_the_slot_and_queued_jobs_never_start():
    clock = _Clock()
    store = _store(clock, slots=1)
    a, b, c = (_create(store, k)["job_id"] for k in "abc")
    clock.t_s += 2.0
    assert store.cancel(b)["status"] == "cancelled"  # queued
    assert store.cancel(a)["status"] == "cancelled"  # running: frees the slot at once
    assert store.get(c)["status"] == "running"
    clock.t_s += 20.0
    assert [store.get(i)["status"] for i in (a, b, c)] == ["cancelled", "cancelled", "succeeded"]
    assert store.cancel(c)["status"] == "succeeded"


def test_result_only_for_succeeded_jobs():
    clock = _Clock()
    store = _store(clock)
    ok = _create(store, "ok")["job_id"]
    cracked = _create(store, "cr", sinter_temperature_c=1300.0)["job_id"]
    with pytest.raises(ServiceError) as info:
        store.result(ok)
    assert info.value.status_code == 409
    clock.t_s += 11.0
    result = store.result(ok)
    assert result["job_id"] == ok and result["sample"]["sample_id"] == "S-000001"
    job = store.get(cracked)
    assert job["status"] == "failed" and job["error"]["code"] == "sample_cracked"
    assert job["error"]["retryable"] is False
    with pytest.raises(ServiceError, match="failed"):
        store.result(cracked)
    with pytest.raises(ServiceError) as info:
        store.get("j-000099")
    assert info.value.status_code == 404


def test_non_finite_landscape_is_an_instrument_fault_not_a_crash():
    clock = _Clock()
    store = _store(clock)
    job_id = _create(store, "nan", sinter_temperature_c=1200.0)["job_id"]
    clock.t_s += 11.0
    job = store.get(job_id)
    assert job["status"] == "failed" and job["error"]["code"] == "instrument_fault"


def test_instrument_faults_are_seeded_and_retryable():
    def outcomes(seed: int) -> list:
        clock = _Clock()
        store = _store(clock, slots=50, instrument=0.3, seed=seed)
        ids = [_create(store, f"k{i}")["job_id"] for i in range(40)]
        clock.t_s += 11.0
        return [store.get(i)["error"] for i in ids]

    first = outcomes(1)
    assert first == outcomes(1)
    faults = [e for e in first if e]
    assert 3 <= len(faults) <= 25
    assert all(e["code"] == "instrument_fault" and e["retryable"] for e in faults)


def test_key_reuse():
    clock = _Clock()
    store = _store(clock)
    job = _create(store, "k")
    same, created = store.create("c", {**RECIPE, "dwell_h": 6}, list(PROTOCOLS), "k", lambda r: r)
    assert not created and same["job_id"] == job["job_id"]
    with pytest.raises(ServiceError) as info:
        store.create("other", RECIPE, list(PROTOCOLS), "k", lambda r: r)
    assert info.value.status_code == 409 and info.value.code == "idempotency_key_reused"
    assert len(store.list("c")) == 1 and store.list("other") == []


# -- protocol 1.1: hours, samples, follow-ups ----------------------------------------------


def _follow(store: JobStore, key: str, sample_id: str, protocols: list[str], campaign="c"):
    job, created = store.create_followup(campaign, sample_id, protocols, key)
    assert created
    return job


def _made(store: JobStore, clock: _Clock, key: str = "made", **recipe) -> dict:
    """A finished new-sample job (eis_blocking only: 22 h, 2 s at 10 s per 110 h)."""
    job, _ = store.create("c", {**RECIPE, **recipe}, ["eis_blocking"], key, lambda r: r)
    clock.t_s += 2.5
    return store.get(job["job_id"])


def test_reference_job_hours_and_compression():
    from experiments.simulator.jobs import REFERENCE_JOB_HOURS

    assert REFERENCE_JOB_HOURS == 110.0  # sintering 10 + 6, then 6 + 12 + 4 + 72
    assert _store(_Clock()).hour_s == pytest.approx(10.0 / 110.0)


def test_a_job_takes_its_instrument_hours_compressed():
    clock = _Clock()
    store = _store(clock, slots=4)
    short, _ = store.create("c", RECIPE, ["eis_blocking"], "short", lambda r: r)  # 16 + 6 h
    long_dwell, _ = store.create(
        "c", {**RECIPE, "dwell_h": 24.0}, ["eis_blocking"], "long", lambda r: r
    )  # 34 + 6 h
    cracked = _create(store, "cracked", sinter_temperature_c=1300.0)  # furnace only: 16 h
    assert "instrument_hours" not in store.get(short["job_id"])  # not while running
    clock.t_s += 1.0
    assert store.get(cracked["job_id"])["status"] == "running"
    clock.t_s += 0.5  # 16 h = 1.4545 s
    assert store.get(cracked["job_id"])["status"] == "failed"
    assert store.get(cracked["job_id"])["instrument_hours"] == pytest.approx(16.0)
    assert store.get(short["job_id"])["status"] == "running"
    clock.t_s += 0.6  # 22 h = 2.0 s
    assert store.get(short["job_id"])["status"] == "succeeded"
    assert store.get(short["job_id"])["instrument_hours"] == pytest.approx(22.0)
    assert store.get(short["job_id"])["updated_at"] == iso_utc(1_000_002.0)
    assert store.get(long_dwell["job_id"])["status"] == "running"
    clock.t_s += 2.0
    assert store.get(long_dwell["job_id"])["instrument_hours"] == pytest.approx(40.0)


def test_jitter_varies_the_hours_used_around_the_announced_ones():
    clock = _Clock()
    store = JobStore(
        landscape=_Landscape(),
        faults=FaultInjector(FaultConfig(), 0),
        job_duration_s=10.0,
        jitter=0.2,
        max_concurrent_jobs=50,
        clock=clock,
    )
    ids = [_create(store, f"k{i}")["job_id"] for i in range(30)]
    clock.t_s += 20.0
    hours = [store.get(i)["instrument_hours"] for i in ids]
    assert all(88.0 <= h <= 132.0 for h in hours) and len(set(hours)) == 30
    assert 100.0 < float(np.mean(hours)) < 120.0


def test_followup_measures_the_same_pellet_again_with_new_noise():
    clock = _Clock()
    store = _store(clock)
    made = _made(store, clock)
    sample_id = made["sample_id"]
    assert made["status"] == "succeeded" and sample_id == "S-000001"
    follow = _follow(store, "f", sample_id, ["eis_blocking", "dc_polarization"])
    assert follow["sample_id"] == sample_id and follow["recipe"] == RECIPE
    clock.t_s += 18.0 / 11.0 + 0.01  # 6 + 12 h, no sintering
    done = store.get(follow["job_id"])
    assert done["status"] == "succeeded" and done["instrument_hours"] == pytest.approx(18.0)
    first, again = store.result(made["job_id"]), store.result(follow["job_id"])
    assert again["sample"] == first["sample"] and again["recipe"] == first["recipe"]
    assert [m["protocol"] for m in first["measurements"]] == ["eis_blocking"] * 3
    assert [m["protocol"] for m in again["measurements"]] == ["eis_blocking"] * 3 + [
        "dc_polarization"
    ]

    def z(result: dict) -> np.ndarray:
        m = result["measurements"][0]
        return np.array(m["z_real_ohm"]) + 1j * np.array(m["z_imag_ohm"])

    assert not np.array_equal(z(first), z(again))  # new noise
    # Same pellet, same hidden cell parameters: |Z| agrees to the noise (0.7 % per part).
    assert float(np.median(np.abs(z(again) / z(first) - 1))) < 0.02


def test_new_sample_results_are_those_of_protocol_1_0():
    from experiments.simulator.twin import measure

    clock = _Clock()
    store = _store(clock, seed=4)
    job = _create(store, "k")
    clock.t_s += 11.0
    pellet = _Landscape().sample_pellet(RECIPE, np.random.default_rng([4, 1]))
    expected = measure(pellet, list(PROTOCOLS), np.random.default_rng([4, 1, 1]))
    assert store.result(job["job_id"])["measurements"] == expected


def test_jobs_on_one_sample_run_one_at_a_time_others_overtake():
    clock = _Clock()
    store = _store(clock, slots=4)
    sample_id = _made(store, clock)["sample_id"]
    a = _follow(store, "a", sample_id, ["dc_polarization"])  # 12 h: 1.09 s
    b = _follow(store, "b", sample_id, ["eis_symmetric"])  # waits for a
    other = _create(store, "other")  # another sample: takes a free slot at once
    assert (a["status"], b["status"], other["status"]) == ("running", "queued", "running")
    clock.t_s += 1.1
    assert store.get(a["job_id"])["status"] == "succeeded"
    assert store.get(b["job_id"])["status"] == "running"
    assert store.get(b["job_id"])["updated_at"] == iso_utc(1_000_002.5 + 12 / 11)


def test_ccd_consumes_the_sample_from_acceptance_until_cancelled_before_it_starts():
    clock = _Clock()
    store = _store(clock)
    sample_id = _made(store, clock)["sample_id"]
    first = _follow(store, "eis", sample_id, ["eis_symmetric"])
    ccd = _follow(store, "ccd", sample_id, ["ccd_staircase"])  # queued behind the first
    assert (first["status"], ccd["status"]) == ("running", "queued")
    with pytest.raises(ServiceError) as info:
        store.create_followup("c", sample_id, ["eis_blocking"], "late")
    assert (info.value.status_code, info.value.code) == (409, "sample_consumed")
    assert ccd["job_id"] in info.value.message
    cancelled = store.cancel(ccd["job_id"])  # never started: used nothing, sample free again
    assert cancelled["instrument_hours"] == 0.0
    again = _follow(store, "ccd2", sample_id, ["ccd_staircase"])
    clock.t_s += 0.5  # the first (4 h) ends at +0.36 s; the CCD (72 h = 6.5 s) starts
    assert store.get(again["job_id"])["status"] == "running"
    clock.t_s += 3.0
    partial = store.cancel(again["job_id"])  # cancelled while running: stays consumed
    assert 0.0 < partial["instrument_hours"] < 72.0
    with pytest.raises(ServiceError, match="used up") as info:
        store.create_followup("c", sample_id, ["eis_blocking"], "later")
    assert info.value.code == "sample_consumed"


def test_followup_refusals_in_order():
    clock = _Clock()
    store = _store(clock)
    sample_id = _made(store, clock)["sample_id"]
    cases = [
        ("S-000099", "c", 404, "unknown_sample"),
        ("j-000001", "c", 404, "unknown_sample"),
        ("S-1", "c", 404, "unknown_sample"),
        (sample_id, "other", 409, "sample_not_in_campaign"),
    ]
    for sid, campaign, status, code in cases:
        with pytest.raises(ServiceError) as info:
            store.create_followup(campaign, sid, ["eis_blocking"], f"{sid}-{campaign}")
        assert (info.value.status_code, info.value.code) == (status, code)
    busy = _create(store, "busy")  # still running
    cracked = _create(store, "cr", sinter_temperature_c=1300.0)
    with pytest.raises(ServiceError) as info:
        store.create_followup("c", busy["sample_id"], ["eis_blocking"], "early")
    assert info.value.code == "sample_not_ready" and busy["job_id"] in info.value.message
    store.cancel(busy["job_id"])
    clock.t_s += 11.0
    for sid, what in ((busy["sample_id"], "never made"), (cracked["sample_id"], "cracked")):
        with pytest.raises(ServiceError, match=what) as info:
            store.create_followup("c", sid, ["eis_blocking"], f"after-{sid}")
        assert (info.value.status_code, info.value.code) == (409, "sample_consumed")


def test_followup_key_replay_even_after_the_sample_is_used_up():
    clock = _Clock()
    store = _store(clock)
    sample_id = _made(store, clock)["sample_id"]
    ccd = _follow(store, "ccd", sample_id, ["ccd_staircase"])
    clock.t_s += 10.0
    again, created = store.create_followup("c", sample_id, ["ccd_staircase"], "ccd")
    assert not created and again["job_id"] == ccd["job_id"] and again["status"] == "succeeded"
    with pytest.raises(ServiceError) as info:
        store.create_followup("c", sample_id, ["eis_blocking"], "ccd")
    assert info.value.code == "idempotency_key_reused"
    with pytest.raises(ServiceError) as info:  # a new-sample key reused for a follow-up
        store.create_followup("c", sample_id, ["ccd_staircase"], "made")
    assert info.value.code == "idempotency_key_reused"


def test_followups_never_crack_and_survive_instrument_faults():
    clock = _Clock()
    store = _store(clock, instrument=1.0)
    made, _ = store.create("c", RECIPE, ["eis_blocking"], "m", lambda r: r)
    clock.t_s += 3.0
    assert store.get(made["job_id"])["error"]["code"] == "instrument_fault"
    # The pellet exists (the fault was the instrument's): it may be measured again.
    follow = _follow(store, "f", made["sample_id"], ["eis_blocking"])
    clock.t_s += 1.0
    failed = store.get(follow["job_id"])
    assert failed["error"]["code"] == "instrument_fault" and failed["error"]["retryable"]
    _follow(store, "f2", made["sample_id"], ["eis_blocking"])  # not consumed


def test_a_1_0_store_has_no_samples_in_its_jobs_and_no_followups():
    clock = _Clock()
    store = JobStore(
        landscape=_Landscape(),
        faults=FaultInjector(FaultConfig(), 0),
        job_duration_s=10.0,
        jitter=0.0,
        clock=clock,
        staged=False,
    )
    job = _create(store, "k")
    clock.t_s += 11.0
    assert set(store.get(job["job_id"])) == {
        "job_id",
        "campaign",
        "status",
        "recipe",
        "protocols",
        "idempotency_key",
        "created_at",
        "updated_at",
        "error",
    }
    with pytest.raises(ServiceError) as info:
        store.create_followup("c", "S-000001", ["eis_blocking"], "f")
    assert info.value.status_code == 400
