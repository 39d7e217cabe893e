"""HTTP client of a cycler service (protocol 1.0 and 1.1), with retries and strict checks.

Retries, backoff and how answers become errors: :mod:`experiments.cycler.transport` (429,
5xx, timeouts and dropped connections are retried with the same bytes and key; 401 is
:class:`CyclerAuthError`; other 4xx are :class:`CyclerRejectedError` at once; garbage,
NaN or a shape the protocol does not allow is :class:`CyclerProtocolError`; retries run
out as :class:`CyclerUnavailableError`). A rejected follow-up raises
:class:`SampleConsumedError`, :class:`SampleNotInCampaignError` or
:class:`UnknownSampleError` (all :class:`CyclerRejectedError`, with ``code``), after one
request: 409 and 404 are never retried.

The API a campaign loop uses (both versions):

- :meth:`CyclerClient.capabilities` (``.version``, a :class:`ProtocolVersion`),
  :attr:`CyclerClient.version`, :meth:`CyclerClient.durations`,
  :attr:`CyclerClient.supports_followups`;
- :meth:`CyclerClient.submit` (a new sample) and :meth:`CyclerClient.submit_followup`
  (more protocols on a sample: 1.1 only), both idempotent by their key;
- :meth:`CyclerClient.job_hours`: a job's instrument-hours;
- ``get_job``, ``list_jobs``, ``cancel_job``, ``get_result`` as in 1.0 (``submit_job`` is
  the 1.0 name of :meth:`CyclerClient.submit`).

Readings of protocol 1.1 where it leaves room (what a real lab service most plausibly does;
the simulator does the same):

- Versions compare by number: ``"1"`` = ``"1.0"`` < ``"1.1"`` <= ``"1.2"``; a later 1.x has
  the 1.1 extensions, another major version is refused (:class:`CyclerProtocolError`).
- A follow-up's result holds only the measurements of that job; its ``sample`` block is the
  same pellet (same ``sample_id``, thickness, area and density) and its ``recipe`` is the
  sample's recipe. Results of several jobs on one sample are joined by the caller.
- The job object of a follow-up carries ``sample_id`` and the sample's ``recipe``; that of
  a new-sample job on a 1.1 service may carry ``sample_id`` (the simulator names it from the
  start, a real service may only once the pellet exists): the client treats it as optional.
- ``instrument_hours`` is there only once a job has finished (``succeeded``, ``failed``,
  ``cancelled``: what it used, so a job cancelled while queued used 0 h and a cracked pellet
  only its furnace hours); while queued or running it is absent or null, and
  :meth:`CyclerClient.job_hours` then estimates from the durations.
- ``protocols`` empty (``[]``) is malformed for either kind of job (the 1.0 schema asks for
  at least one): the client refuses to send it. A follow-up always lists its protocols;
  the client never relies on "left out means all" for an existing sample.
- Within one job a service runs the Au-electrode tests before the Na ones, so a job that
  lists ``ccd_staircase`` with others measures the others before it consumes the sample.
- A follow-up on a sample whose own job is still queued or running is the service's call;
  the simulator refuses it (409 ``sample_not_ready``, a :class:`CyclerSampleError`). A
  cracked pellet, or one that was never made because its job was cancelled, is
  ``sample_consumed``: there is nothing left to measure.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
from pydantic import ValidationError

from experiments.cycler.durations import DEFAULT_DURATIONS, Durations
from experiments.cycler.errors import (
    CyclerAuthError,
    CyclerError,
    CyclerProtocolError,
    CyclerRejectedError,
    CyclerVersionError,
)
from experiments.cycler.models import (
    PROTOCOLS,
    Capabilities,
    Health,
    Job,
    JobList,
    ProtocolVersion,
    validate_result,
)
from experiments.cycler.transport import RetryingHttp, brief

__all__ = ["CyclerClient"]


class CyclerClient:
    """Client of one cycler service.

    Args:
        base_url: The service's root URL, e.g. ``http://127.0.0.1:8765``.
        token: Bearer token; by default the environment variable CYCLER_TOKEN.
        timeout_s: Timeout of each HTTP attempt, s.
        max_retries: Retries after the first attempt before giving up.
        backoff_base_s: First backoff ceiling, s (doubles each retry, full jitter).
        backoff_max_s: Largest wait between attempts, s (Retry-After is capped to it too).
        transport: httpx transport (tests: ``httpx.MockTransport``).
        sleep: Function that waits (tests replace it).
        durations: The instrument-hours assumed for a 1.0 service, which announces none
            (default :data:`experiments.cycler.durations.DEFAULT_DURATIONS`, the protocol's
            example); a 1.1 service's own durations always take precedence.

    Raises:
        CyclerAuthError: No token given and CYCLER_TOKEN unset.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout_s: float = 10.0,
        max_retries: int = 8,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        durations: Durations | None = None,
    ) -> None:
        token = token if token is not None else os.environ.get("CYCLER_TOKEN")
        if not token or not token.strip():
            raise CyclerAuthError(
                "no cycler token: set the environment variable CYCLER_TOKEN to the service's token"
            )
        self.base_url = base_url.rstrip("/")
        self._http = RetryingHttp(
            self.base_url,
            token.strip(),
            timeout_s=timeout_s,
            max_retries=max_retries,
            backoff_base_s=backoff_base_s,
            backoff_max_s=backoff_max_s,
            transport=transport,
            sleep=sleep,
        )
        self.default_durations = durations or DEFAULT_DURATIONS
        self._caps: Capabilities | None = None
        self._new_sample: dict[str, bool] = {}  # job id -> whether it makes a new sample

    # -- public API -----------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """``GET /v1/health``: ``{"status": "ok", "protocol_version": "1"}``."""
        return self._http.parse(
            self._http.request("GET", "/v1/health"), "GET /v1/health", Health
        ).model_dump()

    def capabilities(self) -> Capabilities:
        """``GET /v1/capabilities`` (kept for :attr:`version` and :meth:`durations`).

        ``.raw`` is the plain dict, ``.version`` the :class:`ProtocolVersion`.
        """
        endpoint = "GET /v1/capabilities"
        data = self._http.json(self._http.request("GET", "/v1/capabilities"), endpoint)
        try:
            caps = Capabilities.from_raw(data)
        except (ValidationError, TypeError, ValueError) as exc:
            raise CyclerProtocolError(
                f"{endpoint}: answer does not match the protocol: {brief(exc)}"
            ) from exc
        self._caps = caps
        return caps

    def _known_caps(self) -> Capabilities:
        return self._caps if self._caps is not None else self.capabilities()

    @property
    def version(self) -> ProtocolVersion:
        """The service's protocol version.

        Asks for the capabilities once and keeps them; :meth:`capabilities` asks again
        (after the service was restarted or upgraded, say).
        """
        return self._known_caps().version

    @property
    def supports_followups(self) -> bool:
        """Whether the service takes follow-up jobs on existing samples (protocol 1.1)."""
        return self.version.staged

    def durations(self) -> Durations:
        """Instrument-hours of sintering and of each protocol.

        A 1.1 service's own numbers (``source == "service"``); for a 1.0 service the
        client's configured table (``source == "default"``).
        """
        return self._known_caps().durations(self.default_durations)

    def submit(
        self,
        campaign: str,
        recipe: Mapping[str, Any],
        protocols: Sequence[str] | None,
        key: str,
    ) -> Job:
        """Submit a job making a new sample from ``recipe`` (``POST /v1/jobs``).

        A lost answer is safe to repeat with the same ``key``: the service answers with the
        job it created the first time (201 new, 200 known: both return the job).

        Args:
            campaign: Campaign name.
            recipe: ``zbo_fraction``, ``sinter_temperature_c`` and optionally ``dwell_h``.
            protocols: Protocols to run, at least one; None for all of them.
            key: The Idempotency-Key, recorded durably by the caller before the call.

        Raises:
            CyclerRejectedError: ``not_sent`` for an unsendable request; the service's
                rejection otherwise (400 recipe off the grid, 409 key reused...).
        """
        job = self._post_job({"campaign": campaign, "recipe": dict(recipe)}, protocols, key)
        self._new_sample[job.job_id] = True
        return job

    def submit_followup(
        self, campaign: str, sample_id: str, protocols: Sequence[str], key: str
    ) -> Job:
        """Run further protocols on an existing sample (protocol 1.1; no recipe, no sintering).

        Args:
            campaign: Campaign name (the sample must belong to it).
            sample_id: The sample, as named by an earlier result's ``sample`` block or job.
            protocols: Protocols to run, at least one (a protocol already run is a repeat).
            key: The Idempotency-Key, as for :meth:`submit`.

        Raises:
            CyclerVersionError: The service speaks protocol 1.0 (nothing is sent).
            SampleConsumedError: 409: a CCD staircase used the sample up (or it cracked).
            SampleNotInCampaignError: 409: the sample belongs to another campaign.
            UnknownSampleError: 404: the service knows no such sample.
            CyclerRejectedError: ``not_sent`` for an unsendable request, and any other
                rejection. None of these is retried.
        """
        if not isinstance(sample_id, str) or not sample_id.strip():
            raise CyclerRejectedError(
                f"POST /v1/jobs not sent: sample_id {sample_id!r} must be a non-empty text",
                400,
                "not_sent",
            )
        if protocols is None:
            raise CyclerRejectedError(
                "POST /v1/jobs not sent: a follow-up job must list its protocols "
                f"(any of {', '.join(PROTOCOLS)})",
                400,
                "not_sent",
            )
        version = self.version
        if not version.staged:
            raise CyclerVersionError(
                f"this service speaks protocol {version}: follow-up jobs need 1.1 "
                f"(the cycler at {self.base_url}); submit a new sample instead",
                400,
                "needs_protocol_1_1",
            )
        job = self._post_job({"campaign": campaign, "sample_id": sample_id}, protocols, key)
        self._new_sample[job.job_id] = False
        return job

    def submit_job(
        self,
        campaign: str,
        recipe: dict[str, Any],
        idempotency_key: str,
        protocols: list[str] | None = None,
    ) -> Job:
        """``POST /v1/jobs`` for a new sample: the 1.0 name of :meth:`submit`."""
        return self.submit(campaign, recipe, protocols, idempotency_key)

    def job_hours(self, job: Job, *, new_sample: bool | None = None) -> float:
        """The instrument-hours of a job.

        The service's ``instrument_hours`` when the job object has it (a finished job of a
        1.1 service); otherwise an estimate from :meth:`durations`: the sintering of the
        job's recipe (dwell from the recipe, else the capabilities' default) when it made a
        new sample, plus the hours of its protocols, except that a cracked pellet counts its
        furnace hours only. A cancelled job of a 1.0 service counts in full (the service
        does not say how far it got).

        Args:
            job: A job object from this service.
            new_sample: Whether the job made a new sample. By default: what this client
                submitted it as; every job of a 1.0 service makes one.

        Raises:
            CyclerError: Whether the job made a new sample cannot be told (a 1.1 job this
                client did not submit and without ``instrument_hours``): pass ``new_sample``.
        """
        if job.instrument_hours is not None:
            return float(job.instrument_hours)
        if new_sample is None:
            new_sample = self._new_sample.get(job.job_id)
        if new_sample is None:
            if self.version.staged:
                raise CyclerError(
                    f"job {job.job_id} has no instrument_hours yet and was not submitted by this "
                    "client: pass new_sample=True (it made a sample) or False (a follow-up)"
                )
            new_sample = True
        durations = self.durations()
        dwell_h: float | None = None
        if new_sample:
            dwell_h = job.recipe.get("dwell_h")
            if dwell_h is None:
                dwell_h = float(self._known_caps().recipe_space["dwell_h"]["default"])
        if job.error is not None and job.error.code == "sample_cracked" and dwell_h is not None:
            return durations.sintering_h(dwell_h)
        return durations.job_hours(job.protocols, dwell_h=dwell_h)

    def _post_job(self, body: dict[str, Any], protocols: Sequence[str] | None, key: str) -> Job:
        """``POST /v1/jobs`` with ``body`` (+ ``protocols`` unless None), same bytes each retry.

        Raises:
            CyclerRejectedError: status 400, code ``not_sent``, without contacting the
                service, when the key is empty, longer than 128 characters or not printable
                ASCII, ``protocols`` is an empty list, or the body cannot be JSON (a NaN or
                infinite recipe value); and whatever the service rejects.
        """
        if not (0 < len(key) <= 128 and key.isascii() and key.isprintable()):
            raise CyclerRejectedError(
                f"POST /v1/jobs not sent: Idempotency-Key {key!r} must be 1 to 128 "
                "printable ASCII characters",
                400,
                "not_sent",
            )
        if protocols is not None:
            if isinstance(protocols, str) or len(protocols) == 0:
                raise CyclerRejectedError(
                    f"POST /v1/jobs not sent: protocols {protocols!r} must list at least one "
                    f"protocol (any of {', '.join(PROTOCOLS)}); leave it out for all",
                    400,
                    "not_sent",
                )
            body["protocols"] = list(protocols)
        try:
            content = json.dumps(body, allow_nan=False).encode()
        except (TypeError, ValueError) as exc:
            raise CyclerRejectedError(
                f"POST /v1/jobs not sent: the body is not valid JSON ({exc}): {body!r}",
                400,
                "not_sent",
            ) from exc
        headers = {"Idempotency-Key": key, "Content-Type": "application/json"}
        response = self._http.request("POST", "/v1/jobs", content=content, headers=headers)
        return self._http.parse(response, "POST /v1/jobs", Job)

    def get_job(self, job_id: str) -> Job:
        """``GET /v1/jobs/{job_id}``."""
        return self._http.parse(
            self._http.request("GET", f"/v1/jobs/{job_id}"), f"GET /v1/jobs/{job_id}", Job
        )

    def list_jobs(self, campaign: str) -> list[Job]:
        """``GET /v1/jobs?campaign=...``: the campaign's jobs in creation order."""
        response = self._http.request("GET", "/v1/jobs", params={"campaign": campaign})
        return self._http.parse(response, "GET /v1/jobs", JobList).jobs

    def cancel_job(self, job_id: str) -> Job:
        """``DELETE /v1/jobs/{job_id}``: the job, cancelled unless it had finished."""
        return self._http.parse(
            self._http.request("DELETE", f"/v1/jobs/{job_id}"), f"DELETE /v1/jobs/{job_id}", Job
        )

    def get_result(self, job_id: str) -> dict[str, Any]:
        """``GET /v1/jobs/{job_id}/result``, checked by :func:`models.validate_result`."""
        endpoint = f"GET /v1/jobs/{job_id}/result"
        # NaN/Infinity literals are decoded here so that the check can name their field.
        response = self._http.request("GET", f"/v1/jobs/{job_id}/result")
        return validate_result(self._http.json(response, endpoint, allow_constants=True), job_id)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> CyclerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
