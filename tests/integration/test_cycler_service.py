"""The cycler simulator in a subprocess, talked to by the client and by raw HTTP; and the
client against real misbehaving HTTP servers."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import numpy as np
import pytest

from experiments.cycler.client import CyclerClient
from experiments.cycler.errors import (
    CyclerAuthError,
    CyclerProtocolError,
    CyclerRejectedError,
    CyclerUnavailableError,
)
from experiments.cycler.models import PROTOCOLS, Job
from experiments.simulator.faults import FaultConfig, FaultInjector
from experiments.simulator.jobs import JobStore
from experiments.simulator.process import running_simulator
from physics.schema import RecipeSpace

pytestmark = pytest.mark.integration

SAFE = {"zbo_fraction": 0.0, "sinter_temperature_c": 1000.0, "dwell_h": 6.0}  # p_crack ~ 1e-9
CRACKS = {"zbo_fraction": 0.5, "sinter_temperature_c": 1300.0}  # p_crack ~ 1
TERMINAL = {"succeeded", "failed", "cancelled"}


@pytest.fixture(scope="module", params=["1.0", "1.1"])
def sim(request):
    """The simulator as a 1.0 and as a 1.1 service: the 1.0 behaviour holds for both."""
    with running_simulator(
        seed=5, job_duration_s=0.3, max_concurrent_jobs=2, protocol_version=request.param
    ) as running:
        yield running


@pytest.fixture
def client(sim) -> Iterator[CyclerClient]:
    with CyclerClient(sim.url, token=sim.token, backoff_base_s=0.05, backoff_max_s=0.5) as c:
        yield c


def _raw(sim, method: str, path: str, *, token: str | None = "default", **kwargs) -> httpx.Response:
    headers = dict(kwargs.pop("headers", {}))
    if token == "default":
        token = sim.token
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.request(method, f"{sim.url}{path}", headers=headers, timeout=10, **kwargs)


def _error_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert response.headers["content-type"].startswith("application/json")
    return body["error"]["code"]


def _wait(client: CyclerClient, job_id: str, timeout_s: float = 20.0) -> Job:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get_job(job_id)
        if job.status in TERMINAL:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} not finished after {timeout_s} s")


def _key(name: str) -> str:
    return f"{name}-{time.monotonic_ns()}"


def test_health_and_capabilities(sim, client):
    expected = {"1.0": "1", "1.1": "1.1"}[sim.protocol_version]
    assert client.health() == {"status": "ok", "protocol_version": expected}
    caps = client.capabilities()
    assert caps.protocol_version == expected and str(caps.version) == sim.protocol_version
    assert caps.protocols == list(PROTOCOLS) and caps.max_concurrent_jobs == 2
    assert caps.theoretical_density_g_cm3 == pytest.approx(3.244)
    space = RecipeSpace.from_capabilities(caps.raw)
    assert space.dwell_h.default == 6.0 and space.zbo_fraction.max_value == 0.5


def test_submit_poll_result(client):
    job = client.submit_job(
        "flow", SAFE, _key("flow"), protocols=["dc_polarization", "ccd_staircase"]
    )
    assert job.status in {"queued", "running"} and job.recipe == SAFE and job.error is None
    done = _wait(client, job.job_id)
    assert done.status == "succeeded" and done.created_at <= done.updated_at
    result = client.get_result(job.job_id)
    assert result["job_id"] == job.job_id and result["recipe"] == SAFE
    assert [m["protocol"] for m in result["measurements"]] == ["dc_polarization", "ccd_staircase"]
    assert set(result["sample"]) == {"sample_id", "thickness_cm", "area_cm2", "bulk_density_g_cm3"}
    assert client.get_result(job.job_id) == result  # stable


def test_cracked_pellet_fails_not_retryable(client):
    job = _wait(client, client.submit_job("crack", CRACKS, _key("crack")).job_id)
    assert job.status == "failed" and job.error is not None
    assert job.error.code == "sample_cracked" and job.error.retryable is False
    with pytest.raises(CyclerRejectedError) as info:
        client.get_result(job.job_id)
    assert info.value.status_code == 409


def test_idempotency_same_body_200_different_body_409(sim):
    key = _key("idem")
    body = {"campaign": "idem", "recipe": {"zbo_fraction": 0.1, "sinter_temperature_c": 950}}
    first = _raw(sim, "POST", "/v1/jobs", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201
    # Same request with defaults written out and keys reordered: the same body.
    same = {
        "recipe": {"dwell_h": 6.0, "sinter_temperature_c": 950.0, "zbo_fraction": 0.1},
        "protocols": list(PROTOCOLS),
        "campaign": "idem",
    }
    again = _raw(sim, "POST", "/v1/jobs", json=same, headers={"Idempotency-Key": key})
    assert again.status_code == 200 and again.json()["job_id"] == first.json()["job_id"]
    other = {**body, "recipe": {"zbo_fraction": 0.2, "sinter_temperature_c": 950}}
    conflict = _raw(sim, "POST", "/v1/jobs", json=other, headers={"Idempotency-Key": key})
    assert conflict.status_code == 409 and _error_code(conflict) == "idempotency_key_reused"
    listed = _raw(sim, "GET", "/v1/jobs", params={"campaign": "idem"}).json()["jobs"]
    assert [j["idempotency_key"] for j in listed].count(key) == 1


@pytest.mark.parametrize(
    ("recipe", "field"),
    [
        ({"zbo_fraction": 0.205, "sinter_temperature_c": 1000.0}, "zbo_fraction"),
        ({"zbo_fraction": 0.2, "sinter_temperature_c": 1400.0}, "sinter_temperature_c"),
        ({"zbo_fraction": 0.2, "sinter_temperature_c": 1000.0, "dwell_h": 0.5}, "dwell_h"),
        ({"zbo_fraction": -0.01, "sinter_temperature_c": 1000.0}, "zbo_fraction"),
        ({"sinter_temperature_c": 1000.0}, "zbo_fraction"),
        ({"zbo_fraction": "0.2", "sinter_temperature_c": 1000.0}, "zbo_fraction"),
        (
            {"zbo_fraction": 0.2, "sinter_temperature_c": 1000.0, "pressure_mpa": 1.0},
            "pressure_mpa",
        ),
    ],
)
def test_bad_recipes_are_400_naming_the_field(sim, recipe, field):
    body = {"campaign": "bad", "recipe": recipe}
    response = _raw(sim, "POST", "/v1/jobs", json=body, headers={"Idempotency-Key": _key("bad")})
    assert response.status_code == 400
    assert _error_code(response) in {"invalid_recipe", "invalid_request"}
    assert field in response.json()["error"]["message"]


def test_nan_recipe_is_400(sim):
    content = b'{"campaign": "bad", "recipe": {"zbo_fraction": NaN, "sinter_temperature_c": 1000}}'
    response = _raw(
        sim,
        "POST",
        "/v1/jobs",
        content=content,
        headers={"Idempotency-Key": _key("nan"), "Content-Type": "application/json"},
    )
    assert response.status_code == 400 and "zbo_fraction" in response.json()["error"]["message"]


def test_client_reports_rejected_recipe(client):
    with pytest.raises(CyclerRejectedError, match="zbo_fraction") as info:
        client.submit_job(
            "bad", {"zbo_fraction": 0.205, "sinter_temperature_c": 1000.0}, _key("bad")
        )
    assert info.value.status_code == 400 and info.value.code == "invalid_recipe"


@pytest.mark.parametrize(
    ("headers", "content"),
    [
        ({}, json.dumps({"campaign": "c", "recipe": SAFE})),
        ({"Idempotency-Key": "k" * 129}, json.dumps({"campaign": "c", "recipe": SAFE})),
        ({"Idempotency-Key": "k-trunc"}, '{"campaign": "c", "recipe": {'),
        ({"Idempotency-Key": "k-list"}, "[1, 2]"),
        (
            {"Idempotency-Key": "k-proto"},
            json.dumps({"campaign": "c", "recipe": SAFE, "protocols": ["xrd"]}),
        ),
        (
            {"Idempotency-Key": "k-dup"},
            json.dumps(
                {"campaign": "c", "recipe": SAFE, "protocols": ["eis_blocking", "eis_blocking"]}
            ),
        ),
        ({"Idempotency-Key": "k-camp"}, json.dumps({"campaign": "", "recipe": SAFE})),
    ],
)
def test_malformed_posts_are_400_with_error_body(sim, headers, content):
    response = _raw(
        sim,
        "POST",
        "/v1/jobs",
        content=content,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400 and _error_code(response) in {
        "invalid_request",
        "invalid_recipe",
    }


def test_unknown_job_route_and_method(sim):
    for path in ("/v1/jobs/j-999999", "/v1/jobs/nonsense", "/v1/jobs/j-999999/result"):
        response = _raw(sim, "GET", path)
        assert response.status_code == 404 and _error_code(response) == "job_not_found"
    assert _raw(sim, "DELETE", "/v1/jobs/j-999999").status_code == 404
    response = _raw(sim, "GET", "/v2/nothing")
    assert response.status_code == 404 and _error_code(response) == "not_found"
    response = _raw(sim, "PUT", "/v1/health")
    assert response.status_code == 405 and _error_code(response) == "method_not_allowed"
    response = _raw(sim, "GET", "/v1/jobs")
    assert response.status_code == 400 and "campaign" in response.json()["error"]["message"]


def test_result_of_unfinished_job_is_409(client):
    job = client.submit_job("early", SAFE, _key("early"))
    with pytest.raises(CyclerRejectedError) as info:
        client.get_result(job.job_id)
    assert info.value.status_code == 409 and info.value.code == "job_not_succeeded"


def test_cancel(client):
    job = client.submit_job("cancel", SAFE, _key("cancel"))
    cancelled = client.cancel_job(job.job_id)
    assert cancelled.status == "cancelled"
    assert client.cancel_job(job.job_id).status == "cancelled"
    assert client.get_job(job.job_id).status == "cancelled"
    done = _wait(client, client.submit_job("cancel", SAFE, _key("cancel2")).job_id)
    assert client.cancel_job(done.job_id).status == "succeeded"  # finished: left as it is


def test_queue_honours_max_concurrent_jobs_and_lists_by_campaign(client):
    campaign = _key("queue")
    ids = [client.submit_job(campaign, SAFE, _key(f"q{i}")).job_id for i in range(5)]
    client.submit_job(_key("other"), SAFE, _key("other"))
    seen_running = 0
    while True:
        jobs = client.list_jobs(campaign)
        assert [j.job_id for j in jobs] == ids  # creation order, this campaign only
        running = sum(j.status == "running" for j in jobs)
        assert running <= 2
        seen_running = max(seen_running, running)
        if all(j.status in TERMINAL for j in jobs):
            break
        time.sleep(0.05)
    assert seen_running == 2 and all(j.status == "succeeded" for j in jobs)


def test_auth_missing_or_wrong_token(sim):
    for path in ("/v1/health", "/v1/jobs/j-000001", "/openapi.json", "/nowhere"):
        for token in (None, "wrong"):
            response = _raw(sim, "GET", path, token=token)
            assert response.status_code == 401 and _error_code(response) == "unauthorized"
    with CyclerClient(sim.url, token="wrong") as bad:
        with pytest.raises(CyclerAuthError, match=r"refused the token \(401\): check CYCLER_TOKEN"):
            bad.health()


def test_openapi_schema_published(sim):
    schema = _raw(sim, "GET", "/openapi.json").json()
    assert {
        "/v1/health",
        "/v1/capabilities",
        "/v1/jobs",
        "/v1/jobs/{job_id}",
        "/v1/jobs/{job_id}/result",
    } <= set(schema["paths"])


def test_faults_client_completes_jobs_without_duplicates():
    faults = {
        "http-error": 0.2,
        "lost-reply": 0.2,
        "slow-reply": 0.1,
        "slow-reply-s": 0.3,
        "instrument": 0.3,
        "retry-after-s": 0.1,
    }
    with running_simulator(seed=2, job_duration_s=0.2, faults=faults) as sim:
        with CyclerClient(
            sim.url,
            token=sim.token,
            timeout_s=2.0,
            max_retries=12,
            backoff_base_s=0.02,
            backoff_max_s=0.2,
        ) as client:
            keys = [f"fault-{i}" for i in range(8)]
            jobs = [
                client.submit_job("faulty", {**SAFE, "zbo_fraction": 0.01 * i}, k)
                for i, k in enumerate(keys)
            ]
            # A lost reply re-sent by hand with the same key gives the same job.
            again = client.submit_job("faulty", {**SAFE, "zbo_fraction": 0.0}, keys[0])
            assert again.job_id == jobs[0].job_id
            finished = [_wait(client, j.job_id) for j in jobs]
            listed = client.list_jobs("faulty")
            assert sorted(j.idempotency_key for j in listed) == sorted(
                keys
            )  # no duplicate, none lost
            codes = {j.error.code for j in finished if j.error}
            assert codes <= {"instrument_fault"}
            assert all(j.error.retryable for j in finished if j.error)
            assert any(j.status == "succeeded" for j in finished)
            ok = next(j for j in finished if j.status == "succeeded")
            assert client.get_result(ok.job_id)["job_id"] == ok.job_id


def test_lost_replies_are_transport_errors_and_acted_on():
    with running_simulator(seed=1, job_duration_s=0.2, faults={"lost-reply": 0.5}) as sim:
        headers = {"Authorization": f"Bearer {sim.token}", "Idempotency-Key": "lost-1"}
        body = {"campaign": "lost", "recipe": SAFE}
        statuses = []
        for _ in range(12):
            try:
                statuses.append(
                    httpx.post(
                        f"{sim.url}/v1/jobs", json=body, headers=headers, timeout=5
                    ).status_code
                )
            except httpx.TransportError:
                statuses.append("lost")
        assert "lost" in statuses and 200 in statuses
        # One job was created: by the first request (whose 201 may have been lost), never again.
        assert statuses.count(201) == (1 if statuses[0] == 201 else 0)
        seen = []
        while len(seen) < 1:
            try:
                seen = httpx.get(
                    f"{sim.url}/v1/jobs", params={"campaign": "lost"}, headers=headers, timeout=5
                ).json()["jobs"]
            except httpx.TransportError:
                continue
        assert len(seen) == 1


def test_same_seed_same_results():
    from experiments.worlds.landscapes import get_landscape

    def run() -> list:
        store = JobStore(
            landscape=get_landscape("calibrated"),
            faults=FaultInjector(FaultConfig(), 9),
            seed=9,
            job_duration_s=0.0,
        )
        out = []
        for i, x in enumerate((0.0, 0.1, 0.2)):
            job, created = store.create(
                "seed", {**SAFE, "zbo_fraction": x}, list(PROTOCOLS), f"k{i}", lambda r: r
            )
            assert created
            out.append(store.result(job["job_id"]))
        return out

    a, b = run(), run()
    assert a == b
    assert a[0]["measurements"][0]["z_real_ohm"] != a[1]["measurements"][0]["z_real_ohm"]
    assert np.isfinite(a[0]["measurements"][-1]["voltage_v"]).all()


# -- real misbehaving servers -------------------------------------------------------------


class _Misbehaving(BaseHTTPRequestHandler):
    """Answers by the job id in ``/v1/jobs/<mode>``: each mode is one kind of misbehaviour."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        return None

    def _send(
        self, status: int, body: bytes, ctype: str = "application/json", length: int | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        mode = self.path.split("/")[3] if self.path.count("/") >= 3 else ""
        job = {
            "job_id": mode,
            "campaign": "c",
            "status": "succeeded",
            "recipe": SAFE,
            "protocols": [],
            "idempotency_key": "k",
            "created_at": "t",
            "updated_at": "t",
            "error": None,
        }
        if mode == "garbage":
            self._send(200, b"\x00\x01 this is not json at all", "application/octet-stream")
        elif mode == "html":
            self._send(200, b"<html><body>Welcome to nginx!</body></html>", "text/html")
        elif mode == "truncated":
            self._send(200, json.dumps(job).encode()[:40])
        elif mode == "short-body":  # announces more bytes than it sends, then closes
            self._send(200, json.dumps(job).encode()[:40], length=400)
            self.close_connection = True
        elif mode == "unauthorized":
            self._send(401, b'{"error": {"code": "unauthorized", "message": "wrong bearer token"}}')
        elif mode == "nan-result":
            body = (
                '{"job_id": "nan-result", "recipe": {}, "sample": {"sample_id": "S", "thickness_cm": 0.1, '
                '"area_cm2": 0.785, "bulk_density_g_cm3": 3.2}, "measurements": [{"protocol": '
                '"eis_blocking", "temperature_c": 25, "frequency_hz": [1e6, 1e3], "z_real_ohm": [NaN, 50], '
                '"z_imag_ohm": [-1, -2]}]}'
            )
            self._send(200, body.encode())
        elif mode == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
        else:
            self._send(200, json.dumps(job).encode())


@pytest.fixture(scope="module")
def bad_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Misbehaving)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("mode", "error", "match"),
    [
        ("garbage", CyclerProtocolError, "expected content type application/json"),
        ("html", CyclerProtocolError, "got 'text/html'"),
        ("truncated", CyclerProtocolError, "not valid JSON"),
        ("unauthorized", CyclerAuthError, "check CYCLER_TOKEN"),
        ("short-body", CyclerUnavailableError, "RemoteProtocolError"),
        ("drop", CyclerUnavailableError, "unavailable after 3 attempts"),
    ],
)
def test_client_against_misbehaving_server(bad_server, mode, error, match):
    with CyclerClient(
        bad_server, token="t", max_retries=2, backoff_base_s=0.01, timeout_s=2
    ) as client:
        with pytest.raises(error, match=match):
            client.get_job(mode)
        assert client.get_job("fine").status == "succeeded"


def test_client_nan_result_from_real_server(bad_server):
    with CyclerClient(bad_server, token="t", max_retries=0) as client:
        with pytest.raises(
            CyclerProtocolError,
            match=r"job nan-result, measurement 0 \(eis_blocking\): z_real_ohm\[0\]",
        ):
            client.get_result("nan-result")


# -- gbs cycler serve ---------------------------------------------------------------------


def _cycler_cli():
    import typer

    from design.cli.cycler import register

    app = typer.Typer()

    @app.command()
    def version() -> None:  # a second command, so that "cycler" stays a sub-command
        """Unused."""

    register(app)
    return app


@pytest.mark.parametrize(
    ("args", "env", "match"),
    [
        (["cycler", "serve"], {"CYCLER_TOKEN": ""}, "set CYCLER_TOKEN"),
        (
            ["cycler", "serve", "--fault", "gremlins=1"],
            {"CYCLER_TOKEN": "t"},
            "unknown fault 'gremlins'",
        ),
        (
            ["cycler", "serve", "--fault", "http-error=2"],
            {"CYCLER_TOKEN": "t"},
            r"must lie in \[0, 1\]",
        ),
        (["cycler", "serve", "--fault", "http-error"], {"CYCLER_TOKEN": "t"}, "NAME=VALUE"),
        (
            ["cycler", "serve", "--landscape", "flat"],
            {"CYCLER_TOKEN": "t"},
            "valid landscapes: calibrated",
        ),
        (
            ["cycler", "serve", "--max-concurrent-jobs", "0"],
            {"CYCLER_TOKEN": "t"},
            "max concurrent jobs",
        ),
        (
            ["cycler", "serve", "--protocol-version", "2.0"],
            {"CYCLER_TOKEN": "t"},
            r"valid versions: 1\.0, 1\.1",
        ),
    ],
)
def test_serve_refuses_bad_options_with_config_errors(args, env, match):
    from typer.testing import CliRunner

    from physics.errors import ConfigError

    result = CliRunner().invoke(_cycler_cli(), args, env=env)
    assert isinstance(result.exception, ConfigError)
    assert re.search(match, str(result.exception))


@pytest.mark.parametrize(
    ("options", "answered"), [([], "1.1"), (["--protocol-version", "1.0"], "1")]
)
def test_gbs_cycler_serve_runs_a_service(tmp_path, options, answered):
    import os
    import subprocess
    import sys

    from experiments.simulator.process import free_port

    port = free_port()
    env = dict(os.environ, CYCLER_TOKEN="serve-token")
    command = [
        sys.executable,
        "-c",
        "from design.cli.app import entrypoint; entrypoint()",
        "cycler",
        "serve",
        "--port",
        str(port),
        "--job-duration-s",
        "0.1",
        "--fault",
        "instrument=0",
        *options,
    ]
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/v1/health",
                    headers={"Authorization": "Bearer serve-token"},
                    timeout=2,
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "gbs cycler serve did not come up"
                time.sleep(0.1)
        assert response.json() == {"status": "ok", "protocol_version": answered}
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
    assert "cycler simulator on http://127.0.0.1" in (tmp_path / "serve.log").read_text()
