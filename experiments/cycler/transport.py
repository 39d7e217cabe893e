"""HTTP for the cycler client: bearer token, retries with backoff, error answers to errors.

- 429, 5xx, timeouts and transport errors (refused or dropped connections) are retried
  with exponential backoff and full jitter, ``Retry-After`` (seconds, or an HTTP date)
  honoured up to ``backoff_max_s``; a retried request re-sends the same bytes and headers
  (for a ``POST``, the same ``Idempotency-Key``). Each retry is logged (logger
  ``experiments.cycler.client``, level WARNING) so a progress display can show it.
- 401 raises :class:`CyclerAuthError`; every other 4xx raises a
  :class:`CyclerRejectedError` (:func:`experiments.cycler.errors.rejection` picks the sample
  errors of protocol 1.1 by code) without retrying.
- A 2xx answer that is not JSON, has another content type, holds NaN or Infinity (unless
  asked for), or does not match its model raises :class:`CyclerProtocolError`.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from experiments.cycler.errors import (
    CyclerAuthError,
    CyclerProtocolError,
    CyclerUnavailableError,
    rejection,
)

__all__ = ["RetryingHttp", "brief"]

logger = logging.getLogger("experiments.cycler.client")
_M = TypeVar("_M", bound=BaseModel)
_AUTH_MESSAGE = "the cycler service refused the token (401): check CYCLER_TOKEN"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a finite number")


class RetryingHttp:
    """An HTTP connection pool to one service, with the protocol's retry rules.

    Args:
        base_url: The service's root URL.
        token: Bearer token (non-empty).
        timeout_s: Timeout of each HTTP attempt, s.
        max_retries: Retries after the first attempt before giving up.
        backoff_base_s: First backoff ceiling, s (doubles each retry, full jitter).
        backoff_max_s: Largest wait between attempts, s (Retry-After is capped to it too).
        transport: httpx transport (tests: ``httpx.MockTransport``).
        sleep: Function that waits (tests replace it).
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_s: float,
        max_retries: int,
        backoff_base_s: float,
        backoff_max_s: float,
        transport: httpx.BaseTransport | None,
        sleep: Callable[[float], None],
    ) -> None:
        self.base_url = base_url
        self.max_retries = max(0, int(max_retries))
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self._sleep = sleep
        self._rng = random.Random()
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

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

    def request(
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
                    raise rejection(
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
    def json(response: httpx.Response, endpoint: str, *, allow_constants: bool = False) -> Any:
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

    def parse(self, response: httpx.Response, endpoint: str, model: type[_M]) -> _M:
        data = self.json(response, endpoint)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            raise CyclerProtocolError(
                f"{endpoint}: answer does not match the protocol: {brief(exc)}"
            ) from exc


def brief(exc: Exception) -> str:
    """A validation error in one line (its first three faults)."""
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
