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
