"""The closed loop: plan, submit, poll, ingest, refit, plan again, surviving crashes.

Guarantees (cycler-protocol.md, "What a client must guarantee"):

- The idempotency key and the exact request body of a job are committed to the campaign
  database before its ``POST``; after a crash, :meth:`CampaignRunner.run` first reconciles with
  ``GET /v1/jobs?campaign=`` on every service and re-sends every committed-but-unconfirmed job
  with the *same* key and body, so a crash at any instant neither loses nor duplicates an
  experiment.
- A raw result is stored (``results`` table) before its job counts as done; the measurement row
  (or, for a follow-up, its sample's row with the new properties), the job's ``done`` and its
  proposal's ``done`` are then written in one transaction, so a second ingestion is impossible.
- Each finished job records its instrument-hours once (:mod:`design.store.hours`).

Actions: each round a policy (``--protocols``: :mod:`design.campaign.policies`, or any
:class:`design.campaign.planning.Policy`) chooses new samples and follow-ups on samples the
campaign holds; :mod:`design.campaign.rounds` admits those that fit the free capacity and the
budgets (the hours rule is there). A new recipe comes from the recipe proposer; a model-based
strategy that fails in a round hands that round to Sobol points
(:func:`design.campaign.proposer.propose_with_fallback`); a configuration error stops the
campaign (``stopped``, with the reason).

Budgets: ``--budget N`` counts new samples (experiment slots): each ends as a row (``ok`` or
``cracked``: a cracked pellet counts, it is information) or, rarely, abandoned.
``--budget-hours H`` counts instrument-hours. The campaign ends when nothing is open and the
policy has nothing more that fits. Instrument faults (retryable) re-run the job under a new
key (a follow-up on the same sample) and do not count as new samples; a result that fails
analysis is set aside as ``rejected`` with its reason and re-run, at most ``max_reruns``
(default 2) times; after that, and after ``max_fault_retries`` instrument faults, the action is
abandoned, so a campaign always ends.

Follow-ups refused because of their sample (``sample_consumed``, ``sample_not_in_campaign``,
``unknown_sample``) are closed after that one request with the service's reason, and the
sample is marked used up, so no policy proposes it again; the slot is free for other work.

Several services (:mod:`design.campaign.services`): every service's capacity is kept busy, a
follow-up goes to the service holding its sample, and a service that goes away is probed with
backoff while the others go on; the loop stops with the resume hint only when every service it
still needs is away.

Two loop processes on one campaign (a PostgreSQL store): the lease (:mod:`design.store.lease`)
lets one drive; ``run(standby=True)`` waits for it and takes over when the driver dies or stops.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from design.campaign.config import CampaignConfig
from design.campaign.ingest import Ingester
from design.campaign.planning import Policy
from design.campaign.policies import make_policy
from design.campaign.proposer import (
    Proposed,
    Proposer,
    default_analyzer,
    default_proposer,
)
from design.campaign.rounds import admit, planning_state
from design.campaign.services import ServiceAway, ServiceLink, ServicePool
from design.campaign.traffic import JobTraffic
from design.errors import CampaignError
from design.reporting.snapshot import CampaignSnapshot, snapshot
from design.store import ledger
from design.store.actions import add_actions
from design.store.database import CampaignRecord, Store
from design.store.hours import hours_summary
from design.store.lease import acquire_lease, dead_owners, release_lease, this_owner
from design.store.states import CampaignStatus, JobStatus, ProposalStatus
from experiments.cycler.errors import (
    CyclerAuthError,
    CyclerUnavailableError,
)

__all__ = ["CampaignRunner", "Proposed", "Proposer", "default_analyzer", "default_proposer"]

_LEASE_TTL_S = 120.0
_STANDBY_POLL_S = 2.0
logger = logging.getLogger(__name__)


class CampaignRunner:
    """Drives one campaign from its database state until its budget is spent.

    Args:
        store: the campaign database.
        name: the campaign (created beforehand with :func:`design.store.ledger.create_campaign`).
        client: the cycler client of a one-service campaign, or service name -> client
            (``cycler-1``, ``cycler-2``... as :attr:`CampaignConfig.services` names them).
        proposer: the recipe proposer (:class:`Proposer`); default :func:`default_proposer`.
        policy: the protocol policy; default the configured ``protocol_policy``.
        analyzer: raw result -> analysis with ``.row`` and ``.notes``; default
            :func:`default_analyzer`.
        tracker: MLflow logging (``design.tracking.campaign.CampaignTracker``) or ``None``.
        on_progress: called with a :class:`CampaignSnapshot` whenever something changed.
        sleep: the waiting function (tests pass a fake).
        probes: service name -> cheap reachability check (a client with few retries).
        clock: monotonic seconds (backoff of services away; tests pass a fake).
    """

    def __init__(
        self,
        store: Store,
        name: str,
        client: Any,
        *,
        proposer: Proposer | None = None,
        policy: Policy | None = None,
        analyzer: Callable[[dict[str, Any], float], Any] | None = None,
        tracker: Any = None,
        on_progress: Callable[[CampaignSnapshot], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        probes: Mapping[str, Callable[[], Any]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.name = store, name
        self.proposer = proposer or default_proposer
        self.tracker, self.on_progress, self.sleep = tracker, on_progress, sleep
        self.owner = this_owner()
        self.record: CampaignRecord = store.campaign(name)
        self.config = CampaignConfig.from_json(self.record.config)
        self.policy = policy or make_policy(self.config.protocol_policy)
        clients = client if isinstance(client, Mapping) else {"cycler-1": client}
        self.pool = ServicePool(self.config, clients, probes=probes, clock=clock)
        self.ingester = Ingester(
            store, self.record, self.config, self.pool, analyzer or default_analyzer, tracker
        )
        self.traffic = JobTraffic(
            store, self.record, self.config, self.pool, self.ingester, self._guard
        )
        self.overhead_s: list[float] = []  # time per proposal round (fit, suggest, log)
        self.slept_s = 0.0  # time spent waiting for the services between polls
        self._idle_at: tuple | None = None  # state at which the policy had nothing that fits
        self.timings: dict[str, float] = {}  # seconds per loop phase (submit, poll, ingest...)

    # -- the loop -----------------------------------------------------------------------
    def run(self, *, max_ticks: int | None = None, standby: bool = False) -> CampaignSnapshot:
        """Run (or resume) until the budgets are spent; return the final snapshot.

        Args:
            max_ticks: stop after this many loop ticks (tests).
            standby: when another live process drives the campaign, wait (checking every
                2 s) and take over once it stops or dies (its lease released, expired, or
                its process gone on this host), instead of refusing.

        Raises:
            CampaignError: a service refused its token or every needed service stayed
                unreachable (the campaign is marked ``stopped``), or another process drives
                this campaign (without ``standby``).
        """
        if not self._take_lease(standby):
            return snapshot(self.store, self.name)
        try:
            return self._run(max_ticks)
        except CyclerAuthError as exc:
            link = getattr(exc, "link", None) or next(iter(self.pool))
            msg = (
                f"the cycler service {link.display} refused the token ({exc}); "
                f"set {link.token_variable} and run `gbs campaign resume {self.name}`"
            )
            ledger.set_campaign_status(self.store, self.record.id, CampaignStatus.STOPPED, msg)
            raise CampaignError(msg) from exc
        except CyclerUnavailableError as exc:
            away = ", ".join(link.display for link in self.pool if link.away)
            msg = (
                f"the cycler service {away or self.config.cycler_url} stayed unreachable "
                f"({exc}); everything received is stored: run `gbs campaign resume "
                f"{self.name}` later"
            )
            ledger.set_campaign_status(self.store, self.record.id, CampaignStatus.STOPPED, msg)
            raise CampaignError(msg) from exc
        finally:
            if self.tracker is not None:
                self.tracker.close()
            release_lease(self.store, self.name, self.owner)

    def _take_lease(self, standby: bool) -> bool:
        """Acquire the lease (waiting in standby); False if the campaign ended meanwhile."""
        announced = False
        while True:
            rec = self.store.campaign(self.name)
            if standby and rec.status == CampaignStatus.DONE:
                logger.warning("campaign %s is done: nothing to take over", self.name)
                return False
            try:
                acquire_lease(
                    self.store,
                    self.name,
                    self.owner,
                    ttl_s=_LEASE_TTL_S,
                    force_from=dead_owners(rec.lease_owner),
                )
            except CampaignError:
                if not standby:
                    raise
                if not announced:
                    logger.warning(
                        "campaign %s is driven by %s: standing by, taking over when it stops",
                        self.name,
                        rec.lease_owner,
                    )
                    announced = True
                self.sleep(_STANDBY_POLL_S)
                continue
            if announced:
                logger.warning("taking over campaign %s from %s", self.name, rec.lease_owner)
            self.record = rec
            return True

    def _run(self, max_ticks: int | None) -> CampaignSnapshot:
        for link in self.pool:
            try:
                self._guard(link, link.connect)
            except ServiceAway:
                continue
            if self.config.protocol_policy != "all" and not link.staged:
                logger.warning(
                    "%s speaks protocol %s: it runs every protocol of each sample in one job "
                    "and takes no follow-ups (the %s policy applies on 1.1 services)",
                    link.display,
                    link.version,
                    self.config.protocol_policy,
                )
        ledger.set_campaign_status(self.store, self.record.id, CampaignStatus.ACTIVE)
        if self.tracker is not None:
            self.tracker.start(self.store, self.record, self.config)
        for link in self.pool.up():
            try:
                self._guard(link, partial(self.traffic.reconcile, link))
            except ServiceAway:
                continue
        interval, ticks = self.config.poll_interval_s, 0
        while True:
            acquire_lease(self.store, self.name, self.owner, ttl_s=_LEASE_TTL_S, force_from=set())
            changed = self._timed("revive", self._revive)
            changed |= self._timed("submit", self.traffic.submit_created)
            changed |= self._timed("poll", self.traffic.poll)
            changed |= self._timed("ingest", self.ingester.ingest)
            changed |= self._timed("propose", self._propose)
            if self._finished():
                break
            if changed:
                self._timed("report", lambda: bool(self._report()))
                interval = self.config.poll_interval_s
            ticks += 1
            if max_ticks is not None and ticks >= max_ticks:
                return self._snapshot()
            if not changed:
                t_sleep = time.perf_counter()
                self.sleep(interval)
                self.slept_s += time.perf_counter() - t_sleep
                interval = min(interval * 1.5, self.config.poll_max_s)
        ledger.set_campaign_status(self.store, self.record.id, CampaignStatus.DONE, "budget spent")
        final = self._report()
        if self.tracker is not None:
            self.tracker.finish(final, store=self.store, space=self.pool.first_space())
        return final

    def _timed(self, phase: str, step: Callable[[], bool]) -> bool:
        t0 = time.perf_counter()
        try:
            return step()
        finally:
            self.timings[phase] = self.timings.get(phase, 0.0) + time.perf_counter() - t0

    def _snapshot(self) -> CampaignSnapshot:
        snap = snapshot(self.store, self.name)
        snap.notes = self.pool.notes(self._waiting())
        return snap

    def _report(self) -> CampaignSnapshot:
        snap = self._snapshot()
        if self.tracker is not None:
            self.tracker.log_progress(snap)
        if self.on_progress is not None:
            self.on_progress(snap)
        return snap

    def _open(self) -> int:
        return len(self.store.proposals(self.record.id, status=ProposalStatus.OPEN))

    def _finished(self) -> bool:
        return self._idle_at is not None and self._open() == 0

    def _waiting(self) -> dict[str, int]:
        """Live jobs per service."""
        out: dict[str, int] = {}
        live = (JobStatus.CREATED, JobStatus.SUBMITTED, JobStatus.FETCHED)
        for job in self.store.jobs(self.record.id, statuses=live):
            out[job.service] = out.get(job.service, 0) + 1
        return out

    # -- services -----------------------------------------------------------------------
    def _guard(self, link: ServiceLink, call: Callable[[], Any]) -> Any:
        """Run ``call`` against ``link``; a service that went away is marked so (:class:`ServiceAway`).

        Raises:
            ServiceAway: the service is away (now or already).
            CyclerAuthError: the service refused its token (``.link`` names it).
            CyclerUnavailableError: every service still needed is away.
        """
        if link.away:
            raise ServiceAway
        try:
            return call()
        except CyclerUnavailableError as exc:
            self.pool.mark_away(link, exc, self._waiting().get(link.name, 0))
            self._check_away(exc)
            raise ServiceAway from exc
        except CyclerAuthError as exc:
            exc.link = link  # type: ignore[attr-defined]
            raise

    def _check_away(self, exc: Exception | None = None) -> None:
        """Stop when every service the campaign still needs is away."""
        needed = set(self._waiting())
        if self._idle_at is None:  # more work may come: every service is needed
            needed |= {link.name for link in self.pool}
        if self.pool.all_away(needed):
            raise (
                exc
                if isinstance(exc, CyclerUnavailableError)
                else CyclerUnavailableError(
                    next((link.reason for link in self.pool if link.reason), "no answer")
                )
            )

    def _revive(self) -> bool:
        changed = False
        for link in self.pool.due():
            if self.pool.probe(link):
                try:
                    self._guard(link, partial(self.traffic.reconcile, link))
                except ServiceAway:
                    continue
                changed = True
        return changed

    # -- propose ------------------------------------------------------------------------
    def _propose(self) -> bool:
        props = self.store.proposals(self.record.id)
        open_props = [p for p in props if p.status == ProposalStatus.OPEN]
        busy = Counter(p.service for p in open_props)
        if all(self.pool.capacity(link) <= busy[link.name] for link in self.pool.up()):
            return False  # no service up, or every one full: nothing to ask the policy
        hours = hours_summary(self.store, self.record.id, budget_h=self.config.budget_hours)
        key = (
            len(props),
            len(open_props),
            len(self.store.rows(self.record.id)),
            round(hours.committed_h, 6),
            tuple(link.up for link in self.pool),
        )
        if self._idle_at == key:
            return False
        self._idle_at = None
        t0 = time.perf_counter()
        iteration = 1 + max(
            (it.iteration for it in self.store.iterations(self.record.id)), default=0
        )
        seed = self.config.seed + iteration
        state, sample_pks = planning_state(
            self.store, self.record, self.pool, self.config, hours, seed
        )
        try:
            plan = self.policy(state, recipes=self.proposer)
        except CampaignError as exc:
            raise self._stop(str(exc)) from exc
        if plan.fallback_reason:
            logger.warning(
                "campaign %s, iteration %d: %s; proposed by Sobol points instead",
                self.name,
                iteration,
                plan.fallback_reason,
            )
        fit_s = time.perf_counter() - t0
        admitted = admit(
            plan,
            state,
            self.pool,
            sample_pks,
            committed_h=hours.committed_h,
            budget_h=self.config.budget_hours,
        )
        for note in [*plan.notes, *admitted.notes]:
            logger.info("campaign %s, iteration %d: %s", self.name, iteration, note)
        if not admitted.actions:
            self._idle_at = key
            return False
        info = {
            "n_rows": len(state.table),
            "n_pending": len(state.pending),
            "fit_seconds": fit_s,
            "strategy": plan.strategy,
            "configured_strategy": self.config.strategy,
            "fallback_reason": plan.fallback_reason,
            "seed": seed,
            "policy": self.config.protocol_policy,
            "notes": admitted.notes[:20],
        }
        jobs = add_actions(
            self.store, self.record, iteration, admitted.actions, info=info, owner=self.owner
        )
        self.traffic.submit_created()
        if self.tracker is not None:
            self.tracker.log_iteration(
                self.store,
                self.record,
                iteration,
                admitted.actions,
                state.table,
                plan,
                self.pool.first_space(),
            )
        self.overhead_s.append(time.perf_counter() - t0)
        return bool(jobs)

    def _stop(self, message: str) -> CampaignError:
        """Mark the campaign stopped with ``message``; the error to raise."""
        message = f"{message}; everything received is stored (gbs campaign resume {self.name})"
        ledger.set_campaign_status(self.store, self.record.id, CampaignStatus.STOPPED, message)
        return CampaignError(message)
