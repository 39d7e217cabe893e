"""Configurable faults of the simulated cycler service.

Four kinds, each a probability per request (or per job for ``instrument``), drawn from a
seeded RNG so a run reproduces:

- ``http_error``: the request is answered ``500`` or ``503`` (the latter with
  ``Retry-After``) *before* it is acted on, so it has no effect.
- ``lost_reply``: the request is acted on (a ``POST /v1/jobs`` creates its job), then the
  connection is aborted without an answer, which is what a real network or service failure
  looks like to a client: a transport error, not an HTTP status.
- ``slow_reply``: the answer is delayed by ``slow_reply_s`` seconds (a client with a shorter
  timeout sees a timeout, and the request may still have been acted on).
- ``instrument``: a job fails with ``instrument_fault`` (retryable).

Faults apply to every authenticated request, ``/v1/health`` included (a real service's
health check fails too); an unauthenticated request always gets its ``401``.

On the command line: ``--fault http-error=0.1 --fault lost-reply=0.05 --fault slow-reply=0.05
--fault slow-reply-s=2 --fault instrument=0.05 --fault retry-after-s=1``.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from physics.errors import ConfigError

__all__ = ["FaultConfig", "FaultDecision", "FaultInjector", "abort_connection"]

_PROBABILITIES = ("http_error", "lost_reply", "slow_reply", "instrument")


@dataclass(frozen=True)
class FaultConfig:
    """Fault probabilities and their settings; all zero means a well-behaved service.

    Attributes:
        http_error: Fraction of requests answered 500/503 before acting.
        lost_reply: Fraction of requests whose connection is aborted after acting.
        slow_reply: Fraction of requests answered after ``slow_reply_s``.
        instrument: Fraction of jobs failing with ``instrument_fault``.
        slow_reply_s: Delay of a slow reply, s.
        retry_after_s: ``Retry-After`` of a fault 503, s.
        seed: Seed of the fault RNG (the service's seed is used when None).
    """

    http_error: float = 0.0
    lost_reply: float = 0.0
    slow_reply: float = 0.0
    instrument: float = 0.0
    slow_reply_s: float = 2.0
    retry_after_s: float = 1.0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in _PROBABILITIES:
            value = getattr(self, name)
            if not (0.0 <= value <= 1.0):
                raise ConfigError(f"fault {name.replace('_', '-')} = {value!r} must lie in [0, 1]")
        for name in ("slow_reply_s", "retry_after_s"):
            value = getattr(self, name)
            if not (0.0 <= value <= 3600.0):
                raise ConfigError(
                    f"fault {name.replace('_', '-')} = {value!r} must lie in [0, 3600] s"
                )

    @property
    def any_http(self) -> bool:
        """Whether any request-level fault is switched on."""
        return self.http_error > 0 or self.lost_reply > 0 or self.slow_reply > 0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for JSON)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultConfig:
        """Build from a mapping; keys may use ``-`` or ``_``.

        Raises:
            ConfigError: naming an unknown key and the valid ones.
        """
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            name = str(key).strip().replace("-", "_")
            if name not in known:
                valid = ", ".join(sorted(n.replace("_", "-") for n in known))
                raise ConfigError(f"unknown fault {key!r}; valid faults: {valid}")
            try:
                kwargs[name] = (
                    None if value is None else (int(value) if name == "seed" else float(value))
                )
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"fault {key!r}: {value!r} is not a number") from exc
        return cls(**kwargs)

    @classmethod
    def from_options(cls, options: Iterable[str]) -> FaultConfig:
        """Parse ``NAME=VALUE`` command-line options (``--fault http-error=0.1``)."""
        data: dict[str, str] = {}
        for option in options:
            name, sep, value = option.partition("=")
            if not sep or not name.strip():
                raise ConfigError(f"--fault {option!r}: expected NAME=VALUE, e.g. http-error=0.1")
            data[name.strip()] = value.strip()
        return cls.from_dict(data)


@dataclass(frozen=True)
class FaultDecision:
    """What happens to one request."""

    http_status: int | None = None  # 500 or 503: answered before acting
    lose_reply: bool = False
    delay_s: float = 0.0


class FaultInjector:
    """Draws per-request and per-job faults from a seeded RNG (thread-safe)."""

    def __init__(self, config: FaultConfig, seed: int) -> None:
        self.config = config
        self._rng = random.Random(config.seed if config.seed is not None else seed)
        self._lock = threading.Lock()

    def decide(self) -> FaultDecision:
        """The fate of one request (draws a fixed number of numbers per request)."""
        cfg = self.config
        with self._lock:
            u_err, u_kind, u_lost, u_slow = (self._rng.random() for _ in range(4))
        if u_err < cfg.http_error:
            return FaultDecision(http_status=503 if u_kind < 0.5 else 500)
        return FaultDecision(
            lose_reply=u_lost < cfg.lost_reply,
            delay_s=cfg.slow_reply_s if u_slow < cfg.slow_reply else 0.0,
        )

    def instrument_fault(self, seed: int, job_index: int) -> bool:
        """Whether job ``job_index`` suffers an instrument fault (a function of seed and index)."""
        if self.config.instrument <= 0:
            return False
        return random.Random(f"{seed}-{job_index}-instrument").random() < self.config.instrument


async def abort_connection(send: Any) -> bool:
    """Abort the TCP connection behind an ASGI ``send`` without answering.

    Works with uvicorn, whose ``send`` is a bound method of the request cycle holding the
    transport. Returns False where no transport can be found (an in-process ASGI client),
    so the caller can answer something else.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        return False
    transport.abort()
    # Let the server see the connection loss, so it does not try to answer the request.
    for _ in range(3):
        await asyncio.sleep(0)
    return True
