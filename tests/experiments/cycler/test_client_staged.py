"""CyclerClient and protocol 1.1 against scripted answers: versions, durations, follow-ups,
sample errors, instrument-hours. tests/integration/test_cycler_staged.py repeats the main
cases against the simulator over real HTTP."""

from __future__ import annotations

import json

import httpx
import pytest

from experiments.cycler.durations import DEFAULT_DURATIONS
from experiments.cycler.errors import (
    CyclerError,
    CyclerProtocolError,
    CyclerRejectedError,
    CyclerSampleError,
    CyclerVersionError,
    SampleConsumedError,
    SampleNotInCampaignError,
    UnknownSampleError,
)
from experiments.cycler.models import Job, ProtocolVersion
from tests.experiments.cycler.test_client import CAPS, JOB, Script, _client, _error, _json, _result

CAPS_1_1 = {
    **CAPS,
    "protocol_version": "1.1",
    "sintering_hours": {"base": 8.0, "per_dwell_h": 1.5},
    "protocol_hours": {
        "eis_blocking": 5.0,
        "dc_polarization": 10.0,
        "eis_symmetric": 3.0,
        "ccd_staircase": 96.0,
    },
}
FOLLOW = {**JOB, "job_id": "j-000002", "sample_id": "S-000001", "protocols": ["ccd_staircase"]}


def _router(caps: dict, post: httpx.Response | None = None):
    """Capabilities for GET /v1/capabilities, ``post`` for POST /v1/jobs."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/capabilities":
            return _json(200, caps)
        if request.method == "POST" and post is not None:
            return post
        return _json(200, JOB)

    return answer


@pytest.mark.parametrize(
    ("text", "version", "staged"),
    [
        ("1", (1, 0), False),
        ("1.0", (1, 0), False),
        (" 1.0 ", (1, 0), False),
        ("1.1", (1, 1), True),
        ("1.1.3", (1, 1), True),
        ("1.2", (1, 2), True),
        ("1.10", (1, 10), True),  # numbers, not text: "1.10" > "1.9"
    ],
)
def test_versions_compare_by_number(text, version, staged):
    parsed = ProtocolVersion.parse(text)
    assert parsed == version and parsed.staged is staged
    assert ProtocolVersion.parse("1") == ProtocolVersion.parse("1.0")


@pytest.mark.parametrize("text", ["v1", "", "1.x", "one", None, 1.1])
def test_bad_version_strings(text):
    with pytest.raises(ValueError, match="not a version"):
        ProtocolVersion.parse(text)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"protocol_version": "2.0"}, "speaks protocol 1"),
        ({"protocol_version": "v1.1"}, "not a version"),
        ({"protocol_version": 1.1}, "protocol_version"),
        ({"sintering_hours": None}, "must announce 'sintering_hours'"),
        ({"protocol_hours": {"eis_blocking": 5.0}}, "lacks the hours of dc_polarization"),
        ({"protocol_hours": {**CAPS_1_1["protocol_hours"], "eis_blocking": -5.0}}, "eis_blocking"),
        ({"sintering_hours": {"base": 8.0}}, "per_dwell_h"),
    ],
)
def test_capabilities_1_1_must_announce_valid_durations(changes, match):
    caps = {k: v for k, v in {**CAPS_1_1, **changes}.items() if v is not None}
    with pytest.raises(CyclerProtocolError, match=match) as info:
        _client(Script(_json(200, caps))).capabilities()
    assert "GET /v1/capabilities" in str(info.value)


def test_capabilities_1_1_durations_and_lenient_extras():
    caps = {**CAPS_1_1, "furnaces": 3, "protocol_hours": {**CAPS_1_1["protocol_hours"], "xrd": 1}}
    client = _client(Script(_json(200, caps)))
    assert client.version == (1, 1) and client.supports_followups
    d = client.durations()
    assert d.source == "service" and d.sintering_h(6.0) == 17.0 and d.protocol_h("xrd") == 1.0
    assert client.capabilities().raw["furnaces"] == 3


def test_capabilities_1_0_use_the_configured_durations_and_ignore_stray_fields():
    caps = {**CAPS, "sintering_hours": "about half a day"}  # not a 1.0 field: ignored
    client = _client(Script(_json(200, caps)))
    assert client.version == (1, 0) and not client.supports_followups
    assert client.durations() == DEFAULT_DURATIONS and client.durations().source == "default"
    mine = DEFAULT_DURATIONS.replace(ccd_staircase=120.0)
    other = _client(Script(_json(200, CAPS)), durations=mine)
    assert other.durations().protocol_h("ccd_staircase") == 120.0


def test_capabilities_are_asked_for_once():
    script = Script(_router(CAPS_1_1))
    client = _client(script)
    client.version, client.durations(), client.supports_followups
    assert len(script.requests) == 1


def test_submit_followup_sends_sample_id_and_no_recipe():
    script = Script(_router(CAPS_1_1, _json(201, FOLLOW)))
    job = _client(script).submit_followup("c", "S-000001", ["ccd_staircase"], "k-f")
    assert job.sample_id == "S-000001" and job.recipe == JOB["recipe"]
    post = script.requests[-1]
    assert json.loads(post.content) == {
        "campaign": "c",
        "sample_id": "S-000001",
        "protocols": ["ccd_staircase"],
    }
    assert post.headers["idempotency-key"] == "k-f"


def test_submit_sends_the_recipe_body():
    script = Script(_json(201, JOB))
    _client(script).submit("c", JOB["recipe"], ["eis_blocking"], "k-n")
    assert json.loads(script.requests[0].content) == {
        "campaign": "c",
        "recipe": JOB["recipe"],
        "protocols": ["eis_blocking"],
    }
    all_of_them = Script(_json(201, JOB))
    _client(all_of_them).submit("c", JOB["recipe"], None, "k")  # None: left out, all
    assert "protocols" not in json.loads(all_of_them.requests[0].content)


def test_followup_on_a_1_0_service_is_not_sent():
    script = Script(_router(CAPS, _json(201, FOLLOW)))
    with pytest.raises(
        CyclerVersionError, match=r"this service speaks protocol 1\.0: follow-up jobs need 1\.1"
    ) as info:
        _client(script).submit_followup("c", "S-000001", ["ccd_staircase"], "k")
    assert isinstance(info.value, CyclerRejectedError) and info.value.code == "needs_protocol_1_1"
    assert [r.method for r in script.requests] == ["GET"]  # capabilities only, no POST


@pytest.mark.parametrize(
    ("sample_id", "protocols", "match"),
    [
        ("", ["eis_blocking"], "sample_id"),
        ("S-1", [], "at least one protocol"),
        ("S-1", None, "must list its protocols"),
        ("S-1", "ccd_staircase", "at least one protocol"),
    ],
)
def test_unsendable_followups(sample_id, protocols, match):
    script = Script(_router(CAPS_1_1))
    with pytest.raises(CyclerRejectedError, match=match) as info:
        _client(script).submit_followup("c", sample_id, protocols, "k")
    assert info.value.code == "not_sent"
    assert all(r.method == "GET" for r in script.requests)


def test_empty_protocols_for_a_new_sample_are_not_sent():
    script = Script(_json(201, JOB))
    with pytest.raises(CyclerRejectedError, match="at least one protocol"):
        _client(script).submit("c", JOB["recipe"], [], "k")
    assert script.requests == []


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (409, "sample_consumed", SampleConsumedError),
        (409, "sample_not_in_campaign", SampleNotInCampaignError),
        (404, "unknown_sample", UnknownSampleError),
        (409, "sample_not_ready", CyclerSampleError),
    ],
)
def test_sample_rejections_are_typed_and_never_retried(status, code, error):
    message = f"sample S-000001: {code.replace('_', ' ')}"
    script = Script(_router(CAPS_1_1, _error(status, code, message)))
    with pytest.raises(error) as info:
        _client(script).submit_followup("c", "S-000001", ["eis_blocking"], "k")
    assert type(info.value) is error and isinstance(info.value, CyclerRejectedError)
    assert (info.value.status_code, info.value.code) == (status, code)
    assert message in str(info.value)
    assert [r.method for r in script.requests] == ["GET", "POST"]  # one POST, no retry


def test_other_rejections_stay_plain():
    script = Script(_error(409, "idempotency_key_reused", "key reused"))
    with pytest.raises(CyclerRejectedError) as info:
        _client(script).get_job("j-1")
    assert type(info.value) is CyclerRejectedError


def test_job_objects_of_1_1_parse_and_are_checked():
    job = Job.model_validate({**FOLLOW, "instrument_hours": 72.5, "operator": "ana"})
    assert job.instrument_hours == 72.5 and job.sample_id == "S-000001"
    assert Job.model_validate(JOB).instrument_hours is None  # 1.0 job
    for bad in (-1.0, "72", float("nan")):
        script = Script(
            httpx.Response(
                200,
                content=json.dumps({**FOLLOW, "instrument_hours": bad}).encode(),
                headers={"content-type": "application/json"},
            )
        )
        with pytest.raises(CyclerProtocolError, match=r"instrument_hours|not valid JSON"):
            _client(script).get_job("j-000002")


def test_job_hours_prefers_the_services_figure():
    client = _client(Script(_router(CAPS_1_1)))
    job = Job.model_validate({**FOLLOW, "status": "succeeded", "instrument_hours": 90.25})
    assert client.job_hours(job) == 90.25


def test_job_hours_estimated_from_the_durations():
    script = Script(_router(CAPS_1_1, _json(201, {**JOB, "protocols": ["eis_blocking"]})))
    client = _client(script)
    made = client.submit("c", JOB["recipe"], ["eis_blocking"], "k1")
    assert client.job_hours(made) == 8.0 + 1.5 * 6.0 + 5.0  # service durations, new sample
    follow = Job.model_validate(FOLLOW)
    with pytest.raises(CyclerError, match="pass new_sample"):
        client.job_hours(follow)  # not submitted by this client, no instrument_hours
    assert client.job_hours(follow, new_sample=False) == 96.0
    cracked = Job.model_validate(
        {
            **JOB,
            "job_id": "j-9",
            "status": "failed",
            "error": {"code": "sample_cracked", "message": "cracked", "retryable": False},
        }
    )
    assert client.job_hours(cracked, new_sample=True) == 8.0 + 1.5 * 6.0  # furnace only


def test_job_hours_on_a_1_0_service_every_job_makes_a_sample():
    client = _client(Script(_router(CAPS)))
    job = Job.model_validate({**JOB, "recipe": {"zbo_fraction": 0.1, "sinter_temperature_c": 950}})
    # No dwell in the recipe: the capabilities' default (6 h); default durations.
    assert client.job_hours(job) == 10.0 + 6.0 + 6.0


def test_result_must_name_its_sample():
    body = _result()
    body["sample"] = {k: v for k, v in body["sample"].items() if k != "sample_id"}
    with pytest.raises(CyclerProtocolError, match=r"sample\.sample_id = None"):
        _client(Script(_json(200, body))).get_result("j-000001")
