"""Protocol 1.1 end to end: the client against the simulator as a 1.1 and as a 1.0 service,
over real HTTP: durations, follow-ups on one pellet, consumption, sample errors, hours."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest

from experiments.cycler.client import CyclerClient
from experiments.cycler.durations import DEFAULT_DURATIONS
from experiments.cycler.errors import (
    CyclerRejectedError,
    CyclerSampleError,
    CyclerVersionError,
    SampleConsumedError,
    SampleNotInCampaignError,
    UnknownSampleError,
)
from experiments.cycler.models import PROTOCOLS, Job
from experiments.simulator.process import running_simulator

pytestmark = pytest.mark.integration

SAFE = {"zbo_fraction": 0.0, "sinter_temperature_c": 1000.0, "dwell_h": 6.0}  # p_crack ~ 1e-9
CRACKS = {"zbo_fraction": 0.5, "sinter_temperature_c": 1300.0}  # p_crack ~ 1
TERMINAL = {"succeeded", "failed", "cancelled"}
JITTER = 0.2


class Counting(httpx.BaseTransport):
    """A real HTTP transport that records each request's method and path."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.sent: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path))
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture(scope="module")
def sim_1_1():
    with running_simulator(seed=7, job_duration_s=0.3, job_jitter=JITTER) as running:
        yield running


@pytest.fixture(scope="module")
def sim_1_0():
    with running_simulator(seed=7, job_duration_s=0.3, protocol_version="1.0") as running:
        yield running


def _client(sim, transport: httpx.BaseTransport | None = None) -> CyclerClient:
    return CyclerClient(
        sim.url, token=sim.token, backoff_base_s=0.05, backoff_max_s=0.5, transport=transport
    )


@pytest.fixture
def client(sim_1_1) -> Iterator[CyclerClient]:
    with _client(sim_1_1) as c:
        yield c


def _wait(client: CyclerClient, job_id: str, timeout_s: float = 20.0) -> Job:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get_job(job_id)
        if job.status in TERMINAL:
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} not finished after {timeout_s} s")


def _key(name: str) -> str:
    return f"{name}-{time.monotonic_ns()}"


def _sample(client: CyclerClient, campaign: str, protocols=("eis_blocking",)) -> Job:
    job = client.submit(campaign, SAFE, list(protocols), _key("make"))
    done = _wait(client, job.job_id)
    assert done.status == "succeeded", done.error
    return done


def test_1_1_service_announces_version_and_durations(client):
    assert client.health()["protocol_version"] == "1.1"
    assert client.version == (1, 1) and client.supports_followups
    durations = client.durations()
    assert durations.source == "service" and durations == DEFAULT_DURATIONS


def test_followup_happy_path_one_pellet_only_new_measurements(client):
    made = _sample(client, "happy", ["eis_blocking", "dc_polarization"])
    assert made.sample_id == "S-" + made.job_id.split("-")[1]
    follow = client.submit_followup("happy", made.sample_id, ["eis_symmetric"], _key("f"))
    assert follow.sample_id == made.sample_id and follow.recipe == SAFE
    assert follow.protocols == ["eis_symmetric"] and follow.instrument_hours is None
    done = _wait(client, follow.job_id)
    assert done.status == "succeeded"
    first, second = client.get_result(made.job_id), client.get_result(follow.job_id)
    assert second["sample"] == first["sample"] and second["recipe"] == first["recipe"] == SAFE
    assert [m["protocol"] for m in second["measurements"]] == ["eis_symmetric"]
    assert {m["protocol"] for m in first["measurements"]} == {"eis_blocking", "dc_polarization"}


def test_repeat_measurement_on_the_same_pellet(client):
    made = _sample(client, "repeat")
    again = client.submit_followup("repeat", made.sample_id, ["eis_blocking"], _key("again"))
    assert _wait(client, again.job_id).status == "succeeded"

    def z(job_id: str) -> np.ndarray:
        m = client.get_result(job_id)["measurements"][0]
        return np.array(m["z_real_ohm"]) + 1j * np.array(m["z_imag_ohm"])

    assert not np.array_equal(z(made.job_id), z(again.job_id))  # new noise
    assert float(np.median(np.abs(z(again.job_id) / z(made.job_id) - 1))) < 0.02


def test_instrument_hours_on_finished_jobs(client):
    made = _sample(client, "hours", ["eis_blocking"])
    announced = client.durations().job_hours(["eis_blocking"], dwell_h=6.0)  # 22 h
    assert announced == 22.0
    assert made.instrument_hours == pytest.approx(announced, rel=JITTER)
    assert client.job_hours(made) == made.instrument_hours  # the service's figure
    follow = client.submit_followup("hours", made.sample_id, ["dc_polarization"], _key("h"))
    assert client.job_hours(follow) == 12.0  # running: estimated, no sintering
    done = _wait(client, follow.job_id)
    assert done.instrument_hours == pytest.approx(12.0, rel=JITTER)
    cracked = _wait(client, client.submit("hours", CRACKS, None, _key("crack")).job_id)
    assert cracked.error is not None and cracked.error.code == "sample_cracked"
    assert cracked.instrument_hours == pytest.approx(16.0, rel=JITTER)  # furnace only


def test_consumed_sample_one_request_one_clear_error(sim_1_1):
    transport = Counting()
    with _client(sim_1_1, transport) as client:
        made = _sample(client, "consume")
        ccd = client.submit_followup("consume", made.sample_id, ["ccd_staircase"], _key("ccd"))
        assert _wait(client, ccd.job_id).status == "succeeded"
        before = len(transport.sent)
        with pytest.raises(SampleConsumedError, match="used up") as info:
            client.submit_followup("consume", made.sample_id, ["eis_blocking"], _key("late"))
        assert (info.value.status_code, info.value.code) == (409, "sample_consumed")
        assert transport.sent[before:] == [("POST", "/v1/jobs")]  # no retry loop
        # A cracked pellet is gone too.
        cracked = _wait(client, client.submit("consume", CRACKS, None, _key("cr")).job_id)
        with pytest.raises(SampleConsumedError, match="cracked"):
            client.submit_followup("consume", cracked.sample_id, ["eis_blocking"], _key("x"))


def test_foreign_unknown_and_unready_samples(client):
    made = _sample(client, "mine")
    with pytest.raises(SampleNotInCampaignError) as info:
        client.submit_followup("theirs", made.sample_id, ["eis_blocking"], _key("foreign"))
    assert (info.value.status_code, info.value.code) == (409, "sample_not_in_campaign")
    with pytest.raises(UnknownSampleError) as info:
        client.submit_followup("mine", "S-999999", ["eis_blocking"], _key("unknown"))
    assert (info.value.status_code, info.value.code) == (404, "unknown_sample")
    busy = client.submit("mine", SAFE, None, _key("busy"))  # 110 h: about 0.3 s
    with pytest.raises(CyclerSampleError) as info:
        client.submit_followup("mine", busy.sample_id, ["eis_blocking"], _key("early"))
    assert info.value.code == "sample_not_ready"


def test_idempotent_replay_of_a_followup(client):
    made = _sample(client, "replay")
    key = _key("replay")
    first = client.submit_followup("replay", made.sample_id, ["ccd_staircase"], key)
    _wait(client, first.job_id)
    # The answer was lost, say: the same request again gives the same job, even though
    # that job has used the sample up since.
    again = client.submit_followup("replay", made.sample_id, ["ccd_staircase"], key)
    assert again.job_id == first.job_id and again.status == "succeeded"
    with pytest.raises(CyclerRejectedError) as info:
        client.submit_followup("replay", made.sample_id, ["eis_blocking"], key)
    assert info.value.code == "idempotency_key_reused"
    assert [j.idempotency_key for j in client.list_jobs("replay")].count(key) == 1


def test_all_protocols_in_one_job_still_work_on_1_1(client):
    job = _wait(client, client.submit("whole", SAFE, None, _key("whole")).job_id)
    result = client.get_result(job.job_id)
    assert {m["protocol"] for m in result["measurements"]} == set(PROTOCOLS)
    assert job.instrument_hours == pytest.approx(110.0, rel=JITTER)


def test_1_0_service_client_falls_back(sim_1_0):
    transport = Counting()
    with _client(sim_1_0, transport) as client:
        assert client.health()["protocol_version"] == "1"
        assert client.version == (1, 0) and not client.supports_followups
        assert client.durations().source == "default"
        assert "sintering_hours" not in client.capabilities().raw
        job = _wait(client, client.submit("old", SAFE, ["eis_blocking"], _key("old")).job_id)
        assert job.sample_id is None and job.instrument_hours is None
        assert client.job_hours(job) == 22.0  # from the configured durations
        sample_id = client.get_result(job.job_id)["sample"]["sample_id"]
        sent = len(transport.sent)
        with pytest.raises(CyclerVersionError, match=r"speaks protocol 1\.0"):
            client.submit_followup("old", sample_id, ["dc_polarization"], _key("f"))
        assert transport.sent[sent:] == []  # refused before sending


def test_1_0_service_refuses_a_followup_body(sim_1_0):
    headers = {"Authorization": f"Bearer {sim_1_0.token}", "Idempotency-Key": _key("raw")}
    body = {"campaign": "old", "sample_id": "S-000001", "protocols": ["eis_blocking"]}
    response = httpx.post(f"{sim_1_0.url}/v1/jobs", json=body, headers=headers, timeout=10)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert "sample_id" in response.json()["error"]["message"]


def test_1_1_service_refuses_a_body_with_recipe_and_sample(sim_1_1):
    headers = {"Authorization": f"Bearer {sim_1_1.token}", "Idempotency-Key": _key("both")}
    body = {"campaign": "c", "sample_id": "S-000001", "recipe": SAFE}
    response = httpx.post(f"{sim_1_1.url}/v1/jobs", json=body, headers=headers, timeout=10)
    assert response.status_code == 400 and "recipe" in response.json()["error"]["message"]


def test_1_1_followup_bodies_empty_or_left_out_protocols(sim_1_1, client):
    made = _sample(client, "bodies")
    headers = {"Authorization": f"Bearer {sim_1_1.token}"}

    def post(body: dict) -> httpx.Response:
        return httpx.post(
            f"{sim_1_1.url}/v1/jobs",
            json=body,
            headers={**headers, "Idempotency-Key": _key("body")},
            timeout=10,
        )

    empty = post({"campaign": "bodies", "sample_id": made.sample_id, "protocols": []})
    assert empty.status_code == 400 and "protocols" in empty.json()["error"]["message"]
    # Left out means all of them, as for any job (the client never sends that).
    everything = post({"campaign": "bodies", "sample_id": made.sample_id})
    assert everything.status_code == 201 and everything.json()["protocols"] == list(PROTOCOLS)
