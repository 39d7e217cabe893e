"""The cycler services of a campaign: their capabilities, and which of them are reachable.

A campaign names its services ``cycler-1``, ``cycler-2``... in the order of ``--cycler-url``
(tokens: :func:`design.campaign.config.token_variable`). Each :class:`ServiceLink` holds the
client, what the service announced (protocol version, recipe space, capacity, durations) and
whether it is reachable.

A service that stays unreachable through its client's retries is marked *away*: the loop
sends it nothing, its jobs wait, and it is probed again with exponential backoff (from
``poll_interval_s``, doubling, at most ``10 * poll_max_s`` and 300 s); the warning names the
service, its address and the jobs waiting. Once a probe answers, its capabilities are read
again, its jobs are reconciled (as after a restart) and it takes work again. The loop stops
(with the resume hint, as with one service) only when every service it still needs is away
(:meth:`ServicePool.all_away`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from design.campaign.config import CampaignConfig, redact_url, token_variable
from design.campaign.planning import ServiceState
from design.errors import CampaignError
from experiments.cycler.durations import DEFAULT_DURATIONS, Durations
from experiments.cycler.errors import CyclerUnavailableError
from experiments.cycler.models import ProtocolVersion
from physics.schema import DEFAULT_DWELL_H, RecipeSpace

__all__ = ["ServiceAway", "ServiceLink", "ServicePool"]

logger = logging.getLogger(__name__)
_MAX_BACKOFF_S = 300.0
_VERSION_1_0 = ProtocolVersion(1, 0)


class ServiceAway(Exception):
    """The service of a call is away: the caller leaves that job for later."""


@dataclass
class ServiceLink:
    """One service of the campaign and what is known of it.

    Attributes:
        name: ``cycler-1``, ``cycler-2``...
        url: its address (as configured; :attr:`display` hides credentials).
        client: the cycler client (``experiments.cycler.client.CyclerClient`` or a fake).
        probe: a cheap reachability check (a client with few retries); default: the
            client's ``health``.
        index: its position in ``--cycler-url`` (0-based).
    """

    name: str
    url: str
    client: Any
    probe: Callable[[], Any] | None = None
    index: int = 0
    version: ProtocolVersion = _VERSION_1_0
    durations: Durations = DEFAULT_DURATIONS
    space: RecipeSpace | None = None
    density_g_cm3: float = 0.0
    max_jobs: int = 0
    up: bool = False
    away_since: float | None = None
    retry_at: float = 0.0
    backoff_s: float = 0.0
    reason: str = ""

    @property
    def display(self) -> str:
        """``cycler-2 (http://host:port)``."""
        return f"{self.name} ({redact_url(self.url)})"

    @property
    def away(self) -> bool:
        """Marked unreachable (its jobs wait, it is probed with backoff)."""
        return self.away_since is not None

    @property
    def staged(self) -> bool:
        """Protocol 1.1: follow-ups and partial protocol sets."""
        return self.version.staged

    @property
    def token_variable(self) -> str:
        """The environment variable its token comes from."""
        return token_variable(self.index)

    def connect(self) -> None:
        """Read the capabilities (version, space, capacity, durations); the service is up.

        Raises:
            CyclerUnavailableError, CyclerAuthError, CyclerProtocolError: from the client.
        """
        caps = self.client.capabilities()
        raw = caps.raw
        self.version = ProtocolVersion.parse(str(raw.get("protocol_version", "1")))
        durations = getattr(self.client, "durations", None)
        self.durations = durations() if callable(durations) else DEFAULT_DURATIONS
        self.space = RecipeSpace.from_capabilities(raw)
        self.density_g_cm3 = float(caps.theoretical_density_g_cm3)
        self.max_jobs = int(caps.max_concurrent_jobs)
        self.up, self.away_since, self.reason = True, None, ""


class ServicePool:
    """The services of one campaign, in order (see the module docstring).

    Args:
        config: the campaign's configuration (URLs, ``batch_size``, polling intervals).
        clients: service name -> client, for every service of ``config``.
        probes: service name -> reachability check (optional).
        clock: monotonic seconds (tests pass a fake).

    Raises:
        CampaignError: the clients do not match the configured services.
    """

    def __init__(
        self,
        config: CampaignConfig,
        clients: Mapping[str, Any],
        *,
        probes: Mapping[str, Callable[[], Any]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        services = config.services
        if set(clients) != set(services):
            raise CampaignError(
                f"the campaign has services {', '.join(services)} but clients were given for "
                f"{', '.join(clients) or 'none'}"
            )
        self.config, self.clock = config, clock
        self.links: dict[str, ServiceLink] = {
            name: ServiceLink(name, url, clients[name], (probes or {}).get(name), index=i)
            for i, (name, url) in enumerate(services.items())
        }

    def __iter__(self) -> Iterator[ServiceLink]:
        return iter(self.links.values())

    def __getitem__(self, name: str) -> ServiceLink:
        try:
            return self.links[name]
        except KeyError:
            raise CampaignError(
                f"a job of this campaign names service {name!r}, which the campaign does not "
                f"have ({', '.join(self.links)})"
            ) from None

    @property
    def several(self) -> bool:
        """Whether the campaign uses more than one service."""
        return len(self.links) > 1

    def capacity(self, link: ServiceLink) -> int:
        """Jobs the service may hold at once: ``--batch-size`` or its ``max_concurrent_jobs``."""
        return int(self.config.batch_size or link.max_jobs)

    def up(self) -> list[ServiceLink]:
        """The services reachable now, in order."""
        return [link for link in self if link.up]

    def first_space(self) -> RecipeSpace:
        """The recipe space proposals are made in: the first reachable service's.

        Raises:
            CampaignError: no service has been reached yet.
        """
        for link in self:
            if link.space is not None:
                return link.space
        raise CampaignError("no cycler service has answered yet: no recipe space to propose in")

    def mark_away(self, link: ServiceLink, exc: Exception, waiting: int) -> None:
        """The service stopped answering: its jobs wait; probe it again after a backoff."""
        now = self.clock()
        first = link.backoff_s <= 0 or link.away_since is None
        link.backoff_s = (
            self.config.poll_interval_s
            if first
            else min(link.backoff_s * 2, min(10 * self.config.poll_max_s, _MAX_BACKOFF_S))
        )
        if link.away_since is None:
            link.away_since = now
        link.up, link.retry_at, link.reason = False, now + link.backoff_s, str(exc)
        if first:
            logger.warning(
                "%s went away (%s); its %d job(s) wait, the other services go on; trying it "
                "again with backoff",
                link.display,
                " ".join(str(exc).split())[:200],
                waiting,
            )

    def due(self) -> list[ServiceLink]:
        """Services away whose next probe is due now."""
        now = self.clock()
        return [link for link in self if link.away and link.retry_at <= now]

    def probe(self, link: ServiceLink) -> bool:
        """Try a service that was away; on an answer, reconnect it (capabilities read again).

        Returns:
            Whether it is up again. Auth and protocol errors propagate.
        """
        try:
            if link.probe is not None:
                link.probe()
            link.connect()
        except CyclerUnavailableError as exc:
            self.mark_away(link, exc, 0)
            return False
        logger.warning("%s answers again: its jobs go on", link.display)
        link.backoff_s = 0.0
        return True

    def all_away(self, needed: set[str]) -> bool:
        """Whether every service in ``needed`` is away (then the loop stops)."""
        return bool(needed) and all(self.links[name].away for name in needed)

    def states(self, in_flight: Mapping[str, int]) -> dict[str, ServiceState]:
        """What a policy sees of each service (open actions per service in ``in_flight``)."""
        out = {}
        for link in self:
            space = link.space
            out[link.name] = ServiceState(
                name=link.name,
                url=redact_url(link.url),
                version=str(link.version),
                staged=link.staged,
                up=link.up,
                capacity=self.capacity(link) if link.max_jobs else 0,
                in_flight=int(in_flight.get(link.name, 0)),
                durations=link.durations,
                default_dwell_h=DEFAULT_DWELL_H if space is None else float(space.default_dwell_h),
            )
        return out

    def notes(self, waiting: Mapping[str, int]) -> list[str]:
        """One short line per service away: ``cycler-2 away 40 s (3 jobs wait)``."""
        now = self.clock()
        out = []
        for link in self:
            if link.away and link.away_since is not None:
                out.append(
                    f"{link.name} away {now - link.away_since:.0f} s "
                    f"({waiting.get(link.name, 0)} jobs wait)"
                )
        return out
