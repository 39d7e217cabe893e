"""CyclerClient against scripted answers (httpx.MockTransport): errors, retries, checks.

Malformed server behaviour is easiest to script here; tests/integration/test_cycler_service.py
repeats the important cases against real misbehaving HTTP servers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx
import pytest

from experiments.cycler.client import CyclerClient
from experiments.cycler.errors import (
    CyclerAuthError,
    CyclerProtocolError,
    CyclerRejectedError,
    CyclerUnavailableError,
)
from physics.schema import RecipeSpace

URL = "http://cycler.test"
JOB = {
    "job_id": "j-000001",
    "campaign": "c",
    "status": "queued",
    "recipe": {"zbo_fraction": 0.2, "sinter_temperature_c": 1000.0, "dwell_h": 6.0},
    "protocols": ["eis_blocking"],
    "idempotency_key": "k1",
    "created_at": "2026-11-25T12:00:00.000Z",
    "updated_at": "2026-11-25T12:00:00.000Z",
    "error": None,
}
CAPS = {
    "protocol_version": "1",
    "recipe_space": {
        "zbo_fraction": {"min": 0.0, "max": 0.5, "step": 0.01},
        "sinter_temperature_c": {"min": 900.0, "max": 1300.0, "step": 10.0},
        "dwell_h": {"min": 1.0, "max": 24.0, "step": 0.5, "default": 6.0},
    },
    "protocols": ["eis_blocking", "dc_polarization", "eis_symmetric", "ccd_staircase"],
    "max_concurrent_jobs": 4,
    "theoretical_density_g_cm3": 3.244,
}


def _result(**measurement_changes) -> dict:
    meas = {
        "protocol": "dc_polarization",
        "temperature_c": 25.0,
        "electrodes": "Au",
        "voltage_v": 0.5,
        "time_s": [0.1, 1.0, 10.0],
        "current_a": [1e-3, 5e-4, 1e-5],
    }
    meas.update(measurement_changes)
    return {
        "job_id": "j-000001",
        "recipe": JOB["recipe"],
        "sample": {
            "sample_id": "S-1",
            "thickness_cm": 0.09,
            "area_cm2": 0.785,
            "bulk_density_g_cm3": 3.2,
        },
        "measurements": [meas],
    }


class Script:
    """A MockTransport handler answering from a list (the last answer repeats)."""

    def __init__(
        self, *answers: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]
    ):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer(request)
        return answer


def _client(script: Script, sleeps: list[float] | None = None, **kwargs) -> CyclerClient:
    kwargs.setdefault("max_retries", 4)
    return CyclerClient(
        URL,
        token="secret",
        transport=httpx.MockTransport(script),
        sleep=(sleeps.append if sleeps is not None else lambda s: None),
        **kwargs,
    )


def _json(status: int, body, headers: dict | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def _error(status: int, code: str, message: str, headers: dict | None = None) -> httpx.Response:
    return _json(status, {"error": {"code": code, "message": message}}, headers)


def test_sends_bearer_token_and_parses_health():
    script = Script(_json(200, {"status": "ok", "protocol_version": "1"}))
    assert _client(script).health()["status"] == "ok"
    assert script.requests[0].headers["authorization"] == "Bearer secret"


def test_token_from_environment(monkeypatch):
    monkeypatch.setenv("CYCLER_TOKEN", "from-env")
    script = Script(_json(200, {"status": "ok", "protocol_version": "1"}))
    CyclerClient(URL, transport=httpx.MockTransport(script)).health()
    assert script.requests[0].headers["authorization"] == "Bearer from-env"


def test_missing_token_is_a_plain_auth_error(monkeypatch):
    monkeypatch.delenv("CYCLER_TOKEN", raising=False)
    with pytest.raises(CyclerAuthError, match="CYCLER_TOKEN"):
        CyclerClient(URL)


def test_capabilities_raw_builds_the_recipe_space():
    caps = _client(Script(_json(200, CAPS))).capabilities()
    assert caps.max_concurrent_jobs == 4 and caps.recipe_space["dwell_h"].default == 6.0
    assert caps.raw == CAPS
    assert caps.recipe_space["zbo_fraction"]["max"] == 0.5
    assert caps.recipe_space["zbo_fraction"].get("default") is None
    assert caps.recipe_space["dwell_h"].get("default") == 6.0
    space = RecipeSpace.from_capabilities(caps.raw)
    assert space.sinter_temperature_c.step == 10.0


def test_401_is_not_retried_and_says_so_plainly():
    script = Script(_error(401, "unauthorized", "wrong bearer token"))
    with pytest.raises(CyclerAuthError, match=r"refused the token \(401\): check CYCLER_TOKEN"):
        _client(script).get_job("j-000001")
    assert len(script.requests) == 1


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_4xx_rejected_without_retry(status):
    script = Script(_error(status, "invalid_recipe", "recipe zbo_fraction = 0.205 is off its grid"))
    with pytest.raises(CyclerRejectedError) as info:
        _client(script).submit_job(
            "c", {"zbo_fraction": 0.205, "sinter_temperature_c": 1000.0}, "k"
        )
    assert info.value.status_code == status and info.value.code == "invalid_recipe"
    assert "zbo_fraction = 0.205" in str(info.value)
    assert len(script.requests) == 1


def test_4xx_without_error_body_is_still_a_rejection():
    script = Script(httpx.Response(404, text="<html>Not Found</html>"))
    with pytest.raises(CyclerRejectedError, match="no protocol error body") as info:
        _client(script).get_job("j-9")
    assert info.value.code is None


def test_retry_after_is_honoured_and_capped():
    script = Script(
        _error(503, "busy", "busy", {"Retry-After": "2"}),
        _error(429, "busy", "slow down", {"Retry-After": "1.5"}),
        _error(503, "busy", "busy", {"Retry-After": "3600"}),
        _json(200, JOB),
    )
    sleeps: list[float] = []
    job = _client(script, sleeps, backoff_max_s=10.0).get_job("j-000001")
    assert job.status == "queued"
    assert sleeps == [2.0, 1.5, 10.0]


def test_retry_after_as_http_date_is_understood():
    script = Script(
        _error(503, "busy", "busy", {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
        _json(200, JOB),
    )
    sleeps: list[float] = []
    _client(script, sleeps).get_job("j-000001")
    assert sleeps == [0.0]  # a date in the past: retry at once


def test_5xx_backoff_is_exponential_with_full_jitter(caplog):
    script = Script(*[httpx.Response(500, text="oops")] * 4, _json(200, JOB))
    sleeps: list[float] = []
    with caplog.at_level(logging.WARNING, logger="experiments.cycler.client"):
        _client(script, sleeps, backoff_base_s=1.0, backoff_max_s=5.0).get_job("j-000001")
    assert len(sleeps) == 4
    for attempt, delay in enumerate(sleeps):
        assert 0.0 <= delay <= min(5.0, 2**attempt)
    assert sum("retry" in r.getMessage() for r in caplog.records) == 4


def test_retries_exhausted_names_url_and_last_error():
    script = Script(_error(503, "busy", "still busy"))
    with pytest.raises(
        CyclerUnavailableError, match=r"http://cycler.test/v1/jobs/j-1 .*HTTP 503.*still busy"
    ):
        _client(script, max_retries=2).get_job("j-1")
    assert len(script.requests) == 3


def test_post_after_transport_error_resends_the_same_key():
    script = Script(
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("dropped"),
        _json(200, JOB),
    )
    job = _client(script).submit_job("c", JOB["recipe"], "k1", protocols=["eis_blocking"])
    assert job.job_id == "j-000001"
    keys = {r.headers["idempotency-key"] for r in script.requests}
    bodies = {r.content for r in script.requests}
    assert keys == {"k1"} and len(bodies) == 1 and len(script.requests) == 4
    assert json.loads(script.requests[0].content)["protocols"] == ["eis_blocking"]


def test_transport_errors_exhausted():
    with pytest.raises(CyclerUnavailableError, match="ConnectError"):
        _client(Script(httpx.ConnectError("refused")), max_retries=1).health()


@pytest.mark.parametrize(
    ("response", "match"),
    [
        (
            httpx.Response(200, text="<html>hello</html>", headers={"content-type": "text/html"}),
            "content type",
        ),
        (
            httpx.Response(
                200, content=b'{"job_id": "j-0', headers={"content-type": "application/json"}
            ),
            "not valid JSON",
        ),
        (
            httpx.Response(
                200, content=b"\xff\xfe garbage", headers={"content-type": "application/json"}
            ),
            "not valid JSON",
        ),
        (httpx.Response(200, content=json.dumps(JOB).encode()), "content type"),
        (_json(200, {**JOB, "status": "exploded"}), "status"),
        (_json(200, {"job_id": "j-000001"}), "does not match the protocol"),
        (_json(200, [1, 2, 3]), "does not match the protocol"),
    ],
)
def test_malformed_job_answers(response, match):
    with pytest.raises(CyclerProtocolError, match=match) as info:
        _client(Script(response)).get_job("j-000001")
    assert "GET /v1/jobs/j-000001" in str(info.value)


def test_list_jobs_sends_campaign_and_checks_shape():
    script = Script(_json(200, {"jobs": [JOB]}))
    assert [j.job_id for j in _client(script).list_jobs("zbo 11")] == ["j-000001"]
    assert script.requests[0].url.params["campaign"] == "zbo 11"
    with pytest.raises(CyclerProtocolError, match="GET /v1/jobs"):
        _client(Script(_json(200, {"items": []}))).list_jobs("c")


def test_result_ok():
    result = _client(Script(_json(200, _result()))).get_result("j-000001")
    assert result["measurements"][0]["current_a"][0] == 1e-3


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (
            _result(current_a=[1e-3, float("nan"), 1e-5]),
            r"measurement 0 \(dc_polarization\): current_a\[1\]",
        ),
        (_result(current_a=[1e-3, float("inf"), 1e-5]), r"current_a\[1\]"),
        (_result(current_a=[1e-3, "1e-4", 1e-5]), r"current_a\[1\] = '1e-4'"),
        (
            _result(current_a=[1e-3, 1e-5]),
            r"arrays of different lengths \(time_s: 3, current_a: 2\)",
        ),
        (_result(current_a=None), r"missing array 'current_a'"),
        (_result(time_s=[]), r"array 'time_s' is empty"),
        (_result(voltage_v=None), r"voltage_v = None"),
        (_result(temperature_c="hot"), r"temperature_c = 'hot'"),
        ({**_result(), "job_id": "j-000002"}, r"names job 'j-000002'"),
        ({k: v for k, v in _result().items() if k != "sample"}, r"missing field 'sample'"),
        (
            {**_result(), "sample": {"thickness_cm": -1, "area_cm2": 1, "bulk_density_g_cm3": 3}},
            r"thickness_cm",
        ),
    ],
)
def test_result_faults_name_job_measurement_and_field(body, match):
    response = httpx.Response(
        200, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    with pytest.raises(CyclerProtocolError, match=match) as info:
        _client(Script(response)).get_result("j-000001")
    assert "job j-000001" in str(info.value)


def test_result_unknown_protocol_checks_arrays_only():
    body = _result()
    body["measurements"].append(
        {"protocol": "xrd", "temperature_c": 25.0, "two_theta": [10.0, 20.0], "counts": [1.0]}
    )
    with pytest.raises(
        CyclerProtocolError, match=r"measurement 1 \(xrd\): arrays of different lengths"
    ):
        _client(Script(_json(200, body))).get_result("j-000001")


def test_result_409_while_running_is_rejected():
    script = Script(_error(409, "job_not_succeeded", "job j-000001 is running: it has no result"))
    with pytest.raises(CyclerRejectedError) as info:
        _client(script).get_result("j-000001")
    assert info.value.status_code == 409 and "running" in str(info.value)


def test_context_manager_closes():
    with _client(Script(_json(200, {"status": "ok", "protocol_version": "1"}))) as client:
        client.health()
    with pytest.raises(RuntimeError):
        client.health()


@pytest.mark.parametrize(
    ("recipe", "key"),
    [
        ({"zbo_fraction": float("nan"), "sinter_temperature_c": 1000.0}, "k"),
        ({"zbo_fraction": 0.2, "sinter_temperature_c": float("inf")}, "k"),
        ({"zbo_fraction": 0.2, "sinter_temperature_c": 1000.0}, ""),
        ({"zbo_fraction": 0.2, "sinter_temperature_c": 1000.0}, "k" * 129),
        ({"zbo_fraction": 0.2, "sinter_temperature_c": 1000.0}, "clé"),
    ],
)
def test_unsendable_post_is_rejected_without_contacting_the_service(recipe, key):
    script = Script(_json(201, JOB))
    with pytest.raises(CyclerRejectedError, match="not sent") as info:
        _client(script).submit_job("c", recipe, key)
    assert info.value.code == "not_sent" and script.requests == []
