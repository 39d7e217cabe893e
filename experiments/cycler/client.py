"""HTTP client of a cycler service (protocol version 1), with retries and strict checks.

Behaviour, as the protocol asks:

- 429, 5xx, timeouts and transport errors (refused or dropped connections) are retried
  with exponential backoff and full jitter, ``Retry-After`` (seconds, or an HTTP date)
  honoured up to ``backoff_max_s``; a retried ``POST`` re-sends the same
  ``Idempotency-Key``, which the protocol makes safe. Each retry is logged (logger
  ``experiments.cycler.client``, level WARNING) so a progress display can show it.
- 401 raises :class:`CyclerAuthError`; 400/404/409 and every other 4xx raise
  :class:`CyclerRejectedError` with the service's error code and message, without retrying.
  A 4xx without the protocol's error body is still a rejection (its text is quoted).
- A 2xx answer that is not JSON, is truncated, has another content type, holds NaN or
  Infinity, or does not match the protocol raises :class:`CyclerProtocolError` naming the
  endpoint and the fault.
- When retries run out: :class:`CyclerUnavailableError` naming the URL and the last error.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from experiments.cycler.errors import (
    CyclerAuthError,
    CyclerProtocolError,
    CyclerRejectedError,
    CyclerUnavailableError,
)
from experiments.cycler.models import Capabilities, Health, Job, JobList, validate_result

__all__ = ["CyclerClient"]

logger = logging.getLogger(__name__)
_M = TypeVar("_M", bound=BaseModel)
_AUTH_MESSAGE = "the cycler service refused the token (401): check CYCLER_TOKEN"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a finite number")


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
    ) -> None:
        token = token if token is not None else os.environ.get("CYCLER_TOKEN")
        if not token or not token.strip():
            raise CyclerAuthError(
                "no cycler token: set the environment variable CYCLER_TOKEN to the service's token"
            )
        self.base_url = base_url.rstrip("/")
        self.max_retries = max(0, int(max_retries))
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self._sleep = sleep
        self._rng = random.Random()
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token.strip()}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
            follow_redirects=False,
        )

    # -- public API -----------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """``GET /v1/health``: ``{"status": "ok", "protocol_version": "1"}``."""
        return self._parse(
            self._request("GET", "/v1/health"), "GET /v1/health", Health
        ).model_dump()

    def capabilities(self) -> Capabilities:
        """``GET /v1/capabilities``; ``.raw`` is the plain dict."""
        endpoint = "GET /v1/capabilities"
        data = self._json(self._request("GET", "/v1/capabilities"), endpoint)
        try:
            return Capabilities.from_raw(data)
        except (ValidationError, TypeError, ValueError) as exc:
            raise CyclerProtocolError(
                f"{endpoint}: answer does not match the protocol: {_brief(exc)}"
            ) from exc

    def submit_job(
        self,
        campaign: str,
        recipe: dict[str, Any],
        idempotency_key: str,
        protocols: list[str] | None = None,
    ) -> Job:
        """``POST /v1/jobs``; 201 (new) and 200 (key seen before, same body) both return the job.

        Every retry sends the same bytes and the same ``Idempotency-Key``.

        Raises:
            CyclerRejectedError: status 400, code ``not_sent``, without contacting the
                service, when the key is empty, longer than 128 characters or not printable
                ASCII, or the body cannot be JSON (a NaN or infinite recipe value); and
                whatever the service rejects.
        """
        if not (
            0 < len(idempotency_key) <= 128
            and idempotency_key.isascii()
            and idempotency_key.isprintable()
        ):
            raise CyclerRejectedError(
                f"POST /v1/jobs not sent: Idempotency-Key {idempotency_key!r} must be 1 to 128 "
                "printable ASCII characters",
                400,
                "not_sent",
            )
        body: dict[str, Any] = {"campaign": campaign, "recipe": dict(recipe)}
        if protocols is not None:
            body["protocols"] = list(protocols)
        try:
            content = json.dumps(body, allow_nan=False).encode()
        except (TypeError, ValueError) as exc:
            raise CyclerRejectedError(
                f"POST /v1/jobs not sent: the body is not valid JSON ({exc}): {body!r}",
                400,
                "not_sent",
            ) from exc
        headers = {"Idempotency-Key": idempotency_key, "Content-Type": "application/json"}
        response = self._request("POST", "/v1/jobs", content=content, headers=headers)
        return self._parse(response, "POST /v1/jobs", Job)

    def get_job(self, job_id: str) -> Job:
        """``GET /v1/jobs/{job_id}``."""
        return self._parse(
            self._request("GET", f"/v1/jobs/{job_id}"), f"GET /v1/jobs/{job_id}", Job
        )

    def list_jobs(self, campaign: str) -> list[Job]:
        """``GET /v1/jobs?campaign=...``: the campaign's jobs in creation order."""
        response = self._request("GET", "/v1/jobs", params={"campaign": campaign})
        return self._parse(response, "GET /v1/jobs", JobList).jobs

    def cancel_job(self, job_id: str) -> Job:
        """``DELETE /v1/jobs/{job_id}``: the job, cancelled unless it had finished."""
        return self._parse(
            self._request("DELETE", f"/v1/jobs/{job_id}"), f"DELETE /v1/jobs/{job_id}", Job
        )

    def get_result(self, job_id: str) -> dict[str, Any]:
        """``GET /v1/jobs/{job_id}/result``, checked by :func:`models.validate_result`."""
        endpoint = f"GET /v1/jobs/{job_id}/result"
        # NaN/Infinity literals are decoded here so that the check can name their field.
        response = self._request("GET", f"/v1/jobs/{job_id}/result")
        return validate_result(self._json(response, endpoint, allow_constants=True), job_id)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> CyclerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ------------------------------------------------------------------------
    def _backoff_s(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**attempt)]."""
        return self._rng.uniform(0, min(self.backoff_max_s, self.backoff_base_s * 2**attempt))

    def _retry_after_s(self, response: httpx.Response) -> float | None:
        value = response.headers.get("Retry-After")
        if value is None:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
                seconds = (when - datetime.now(UTC)).total_seconds()
            except (TypeError, ValueError):
                return None
        if seconds != seconds:  # NaN
            return None
        return min(max(seconds, 0.0), self.backoff_max_s)

    def _request(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        url = f"{self.base_url}{path}"
        last = "no attempt made"
        for attempt in range(self.max_retries + 1):
            delay_s: float | None = None
            try:
                response = self._http.request(
                    method, path, content=content, headers=headers, params=params
                )
            except httpx.TimeoutException as exc:
                last = f"timed out ({type(exc).__name__})"
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return response
                if status == 401:
                    raise CyclerAuthError(_AUTH_MESSAGE)
                if status == 429 or status >= 500:
                    last = f"HTTP {status}{_error_text(response)}"
                    delay_s = self._retry_after_s(response)
                elif 400 <= status < 500:
                    code, message = _error_fields(response)
                    raise CyclerRejectedError(
                        f"{method} {path} rejected ({status}{', ' + code if code else ''}): {message}",
                        status,
                        code,
                    )
                else:
                    raise CyclerProtocolError(f"{method} {path}: unexpected HTTP status {status}")
            if attempt == self.max_retries:
                break
            if delay_s is None:
                delay_s = self._backoff_s(attempt)
            logger.warning(
                "cycler %s %s: %s; retry %d of %d in %.2f s",
                method,
                path,
                last,
                attempt + 1,
                self.max_retries,
                delay_s,
            )
            self._sleep(delay_s)
        raise CyclerUnavailableError(
            f"cycler service at {url} unavailable after {self.max_retries + 1} attempts; last error: {last}"
        )

    @staticmethod
    def _json(response: httpx.Response, endpoint: str, *, allow_constants: bool = False) -> Any:
        ctype = response.headers.get("content-type", "")
        media = ctype.split(";")[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            raise CyclerProtocolError(
                f"{endpoint}: expected content type application/json, got {ctype or 'none'!r}"
            )
        try:
            if allow_constants:
                return json.loads(response.content)
            return json.loads(response.content, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CyclerProtocolError(f"{endpoint}: the body is not valid JSON ({exc})") from exc

    def _parse(self, response: httpx.Response, endpoint: str, model: type[_M]) -> _M:
        data = self._json(response, endpoint)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise CyclerProtocolError(
                f"{endpoint}: answer does not match the protocol: {_brief(exc)}"
            ) from exc


def _brief(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()[:3]
        ]
        return "; ".join(parts)
    return str(exc)


def _error_fields(response: httpx.Response) -> tuple[str | None, str]:
    """(code, message) of an error answer; the raw text when it lacks the error body."""
    try:
        error = response.json()["error"]
        return str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        text = response.text.strip().replace("\n", " ")[:200]
        return None, f"(no protocol error body) {text!r}"


def _error_text(response: httpx.Response) -> str:
    code, message = _error_fields(response)
    return f" ({code}: {message})" if code else ""
