"""The closed loop: propose, submit, poll, ingest, refit, propose again, surviving crashes.

Guarantees (cycler-protocol.md, "What a client must guarantee"):

- The idempotency key and the exact request body of a job are committed to the campaign
  database before its ``POST``; after a crash, :meth:`CampaignRunner.run` first reconciles with
  ``GET /v1/jobs?campaign=`` and re-sends every committed-but-unconfirmed job with the *same*
  key and body, so a crash at any instant neither loses nor duplicates an experiment.
- A raw result is stored (``results`` table) before its job counts as done; the measurement row,
  the job's ``done`` and its proposal's ``done`` are then written in one transaction, and the
  unique constraints (one result per job id, one row per job and per sample) make a second
  ingestion impossible.

Budget: ``--budget N`` is the number of proposals (experiment slots). Each ends as a measurement
row (``ok`` or ``cracked``: a cracked pellet counts, it is information) or, rarely, abandoned.
Instrument faults (retryable) re-run the same recipe under a new key and do not count. A result
that fails analysis (NaN, missing arrays) is set aside as ``rejected`` with its reason, is not a
measurement, and its recipe is re-run under a new key, at most ``max_reruns`` (default 2) times;
after that, and after ``max_fault_retries`` instrument faults in a row, the slot is abandoned and
counts against the budget, so a campaign always ends.

Proposals: a model-based strategy that fails in a round (a failed fit, a singular matrix)
hands that round to Sobol points (:func:`design.campaign.proposer.propose_with_fallback`);
the round's iteration record, the tracker and the log say which strategy proposed and why.
A configuration error stops the campaign (``stopped``, with the reason) instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from design.campaign.config import CampaignConfig
from design.campaign.proposer import (
    Proposed,
    Proposer,
    default_analyzer,
    default_proposer,
    propose_with_fallback,
)
from design.errors import CampaignError
from design.reporting.snapshot import CampaignSnapshot, snapshot
from design.store import ledger
from design.store.database import CampaignRecord, JobRecord, Store, get_record, loads
from design.store.lease import acquire_lease, dead_owners, release_lease, this_owner
from design.store.states import CampaignStatus, JobStatus, ProposalStatus
from experiments.cycler.errors import (
    CyclerAuthError,
    CyclerProtocolError,
    CyclerRejectedError,
    CyclerUnavailableError,
)
from physics.errors import GBSError
from physics.jsonsafe import finite_or_none
from physics.schema import RecipeSpace
from physics.table import validate_table

__all__ = ["CampaignRunner", "Proposed", "Proposer", "default_analyzer", "default_proposer"]

_MAX_FETCH_ERRORS = 3
_LEASE_TTL_S = 120.0
logger = logging.getLogger(__name__)


class CampaignRunner:
    """Drives one campaign from its database state until its budget is spent.

    Args:
        store: the campaign database.
        name: the campaign (created beforehand with :func:`design.store.ledger.create_campaign`).
        client: a cycler client (``experiments.cycler.client.CyclerClient`` or a fake).
        proposer: see :class:`Proposer`; default :func:`default_proposer`.
        analyzer: raw result -> analysis with ``.row`` and ``.notes``; default
            :func:`default_analyzer`.
        tracker: MLflow logging (``design.tracking.campaign.CampaignTracker``) or ``None``.
        on_progress: called with a :class:`CampaignSnapshot` whenever something changed.
        sleep: the waiting function (tests pass a fake).
    """

    def __init__(
        self,
        store: Store,
        name: str,
        client: Any,
        *,
        proposer: Proposer | None = None,
        analyzer: Callable[[dict[str, Any], float], Any] | None = None,
        tracker: Any = None,
        on_progress: Callable[[CampaignSnapshot], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store, self.name, self.client = store, name, client
        self.proposer = proposer or default_proposer
        self.analyzer = analyzer or default_analyzer
        self.tracker, self.on_progress, self.sleep = tracker, on_progress, sleep
        self.owner = this_owner()
        self.record: CampaignRecord = store.campaign(name)
        self.config = CampaignConfig.from_json(self.record.config)
        self.overhead_s: list[float] = []  # time per proposal round (fit, suggest, log)
        self.slept_s = 0.0  # time spent waiting for the service between polls
        self._garbled_count = 0  # garbled answers in a row
        self.timings: dict[str, float] = {}  # seconds per loop phase (submit, poll, ingest...)

    # -- the loop -----------------------------------------------------------------------
    def run(self, *, max_ticks: int | None = None) -> CampaignSnapshot:
        """Run (or resume) until every slot of the budget has ended; return the final snapshot.

        Raises:
            CampaignError: the service refused the token (the campaign is marked ``stopped``),
                or another process drives this campaign.
        """
        acquire_lease(
            self.store,
            self.name,
            self.owner,
            ttl_s=_LEASE_TTL_S,
            force_from=dead_owners(self.record.lease_owner),
        )
        try:
            return self._run(max_ticks)
        except CyclerAuthError as exc:
            msg = (
                f"the cycler service at {self.config.cycler_url} refused the token ({exc}); "
                "set CYCLER_TOKEN and run `gbs campaign resume " + self.name + "`"
            )
            ledger.set_campaign_status(self.store, self.record.id, CampaignStatus.STOPPED, msg)
            raise CampaignError(msg) from exc
        except CyclerUnavailableError as exc:
            msg = (
                f"the cycler service at {self.config.cycler_url} stayed unreachable ({exc}); "
                f"everything received is stored: run `gbs campaign resume {self.name}` later"
            )
            ledger.set_campaign_status(self.store, self.record.id, CampaignStatus.STOPPED, msg)
            raise CampaignError(msg) from exc
        finally:
            if self.tracker is not None:
                self.tracker.close()
            release_lease(self.store, self.name, self.owner)

    def _run(self, max_ticks: int | None) -> CampaignSnapshot:
        caps = self.client.capabilities()
        self.space = RecipeSpace.from_capabilities(caps.raw)
        self.density = float(caps.theoretical_density_g_cm3)
        self.capacity = int(self.config.batch_size or caps.max_concurrent_jobs)
        ledger.set_campaign_status(self.store, self.record.id, CampaignStatus.ACTIVE)
        if self.tracker is not None:
            self.tracker.start(self.store, self.record, self.config)
        self._reconcile()
        interval, ticks = self.config.poll_interval_s, 0
        while True:
            acquire_lease(self.store, self.name, self.owner, ttl_s=_LEASE_TTL_S, force_from=set())
            changed = self._timed("submit", self._submit_created) | self._timed("poll", self._poll)
            changed |= self._timed("ingest", self._ingest_fetched)
            if self._finished():
                break
            changed |= self._timed("propose", self._propose)
            if changed:
                self._timed("report", lambda: bool(self._report()))
                interval = self.config.poll_interval_s
            ticks += 1
            if max_ticks is not None and ticks >= max_ticks:
                return snapshot(self.store, self.name)
            if not changed:
                t_sleep = time.perf_counter()
                self.sleep(interval)
                self.slept_s += time.perf_counter() - t_sleep
                interval = min(interval * 1.5, self.config.poll_max_s)
        ledger.set_campaign_status(self.store, self.record.id, CampaignStatus.DONE, "budget spent")
        final = self._report()
        if self.tracker is not None:
            self.tracker.finish(final, store=self.store, space=self.space)
        return final

    def _timed(self, phase: str, step: Callable[[], bool]) -> bool:
        t0 = time.perf_counter()
        try:
            return step()
        finally:
            self.timings[phase] = self.timings.get(phase, 0.0) + time.perf_counter() - t0

    def _report(self) -> CampaignSnapshot:
        snap = snapshot(self.store, self.name)
        if self.tracker is not None:
            self.tracker.log_progress(snap)
        if self.on_progress is not None:
            self.on_progress(snap)
        return snap

    def _finished(self) -> bool:
        props = self.store.proposals(self.record.id)
        return len(props) >= self.config.budget and all(
            p.status != ProposalStatus.OPEN for p in props
        )

    # -- reconcile, submit, poll ---------------------------------------------------------
    def _reconcile(self) -> None:
        """Adopt service jobs whose POST answer was lost; refresh live statuses."""
        remote = {j.idempotency_key: j for j in self.client.list_jobs(self.name)}
        known = {j.idempotency_key for j in self.store.jobs(self.record.id)}
        orphans = [j.job_id for k, j in remote.items() if k not in known]
        if orphans:
            logger.warning(
                "the service holds %d job(s) of campaign %r that this database did not create "
                "(%s); they are ignored",
                len(orphans),
                self.name,
                ", ".join(orphans[:5]),
            )
        for job in self.store.jobs(
            self.record.id, statuses=(JobStatus.CREATED, JobStatus.SUBMITTED)
        ):
            seen = remote.get(job.idempotency_key)
            if seen is None:
                continue
            if job.status == JobStatus.CREATED:
                ledger.mark_submitted(self.store, job.id, seen.job_id, seen.status)
            elif seen.status in ("queued", "running") and seen.status != job.service_status:
                ledger.set_service_status(self.store, job.id, seen.status)

    def _submit_created(self) -> bool:
        jobs = self.store.jobs(self.record.id, statuses=(JobStatus.CREATED,))
        for job in jobs:
            body = job.request
            try:
                answer = self.client.submit_job(
                    body["campaign"],
                    body["recipe"],
                    job.idempotency_key,
                    protocols=body.get("protocols"),
                )
            except CyclerRejectedError as exc:
                ledger.record_failed(
                    self.store, job.id, exc.code or f"http_{exc.status_code}", str(exc)
                )
                continue
            except CyclerProtocolError as exc:  # garbled answer: same key again next time
                self._garbled(exc)
                continue
            ledger.mark_submitted(self.store, job.id, answer.job_id, answer.status)
        return bool(jobs)

    def _poll(self) -> bool:
        changed = False
        for job in self.store.jobs(self.record.id, statuses=(JobStatus.SUBMITTED,)):
            try:
                remote = self.client.get_job(job.job_id)
            except CyclerRejectedError as exc:
                if exc.status_code == 404:
                    ledger.reset_to_created(
                        self.store, job.id, f"service forgot {job.job_id}: {exc}"
                    )
                    changed = True
                    continue
                raise
            except CyclerProtocolError as exc:
                self._garbled(exc)
                continue
            self._garbled_count = 0
            changed |= self._on_status(job, remote)
        return changed

    def _garbled(self, exc: Exception) -> None:
        """A garbled answer: ask again next tick; give up after many in a row."""
        self._garbled_count += 1
        if self._garbled_count > 50:
            raise CampaignError(
                f"the cycler service keeps answering garbage ({exc}); "
                f"resume with `gbs campaign resume {self.name}` once it is fixed"
            )
        logger.warning("%s; asking again", exc)

    def _on_status(self, job: JobRecord, remote: Any) -> bool:
        status = remote.status
        if status in ("queued", "running"):
            if status != job.service_status:
                ledger.set_service_status(self.store, job.id, status)
                return True
            return False
        if status == "succeeded":
            try:
                raw = self.client.get_result(job.job_id)
            except CyclerProtocolError as exc:
                self._fetch_error(job, str(exc))
                return True
            except CyclerRejectedError as exc:
                if exc.status_code == 409:  # not finished after all: ask again later
                    return False
                raise
            ledger.store_result(self.store, job.id, raw)
            return True
        error = remote.error
        code = getattr(error, "code", None) or status
        message = getattr(error, "message", None) or f"job {status}"
        if status == "failed" and code == "sample_cracked":
            ledger.record_cracked(self.store, job.id, message)
        elif status == "failed" and getattr(error, "retryable", False):
            ledger.record_fault(
                self.store, job.id, code, message, max_retries=self.config.max_fault_retries
            )
        else:
            ledger.record_failed(self.store, job.id, code, message)
        return True

    def _fetch_error(self, job: JobRecord, reason: str) -> None:
        with self.store.transaction() as s:
            rec = get_record(s, JobRecord, job.id)
            rec.fetch_errors += 1
            errors = rec.fetch_errors
        if errors >= _MAX_FETCH_ERRORS:
            ledger.record_rejected(
                self.store,
                job.id,
                f"result unreadable: {reason}",
                max_reruns=self.config.max_reruns,
            )

    # -- ingest -------------------------------------------------------------------------
    def _ingest_fetched(self) -> bool:
        jobs = self.store.jobs(self.record.id, statuses=(JobStatus.FETCHED,))
        if not jobs:
            return self._track_untracked()
        raws = {
            r.job_pk: r
            for r in self.store.results(self.record.id, job_pks=[job.id for job in jobs])
        }
        for job in jobs:
            result = loads(raws[job.id].raw_json)
            try:
                analysis = self.analyzer(result, self.density)
                row = dict(analysis.row)
                row.update(status="ok", source=job.job_id)
                validate_table(pd.DataFrame([row]), name=f"row of job {job.job_id}")
            except (GBSError, ValueError, KeyError, TypeError, IndexError, ArithmeticError) as exc:
                kind = type(exc).__name__
                ledger.record_rejected(
                    self.store, job.id, f"{kind}: {exc}", max_reruns=self.config.max_reruns
                )
                continue
            try:
                ledger.record_row(self.store, job.id, row, list(getattr(analysis, "notes", [])))
            except CampaignError as exc:
                ledger.record_rejected(
                    self.store, job.id, str(exc), max_reruns=self.config.max_reruns
                )
                continue
            if self.tracker is not None:
                self.tracker.log_experiment(self.store, job.id, result, analysis)
        self._track_untracked()
        return True

    def _track_untracked(self) -> bool:
        """Log finished experiments MLflow has not seen (after a crash between DB and MLflow)."""
        if self.tracker is None:
            return False
        for job in self.store.jobs(self.record.id, statuses=(JobStatus.DONE, JobStatus.CRACKED)):
            if not job.tracked:
                self.tracker.log_experiment(self.store, job.id, None, None)
        return False

    # -- propose ------------------------------------------------------------------------
    def _propose(self) -> bool:
        props = self.store.proposals(self.record.id)
        open_props = [p for p in props if p.status == ProposalStatus.OPEN]
        room = min(self.capacity - len(open_props), self.config.budget - len(props))
        if room <= 0:
            return False
        t0 = time.perf_counter()
        table = ledger.measurement_table(self.store, self.record.id)
        pending = [p.recipe for p in open_props]
        iteration = 1 + max(
            (it.iteration for it in self.store.iterations(self.record.id)), default=0
        )
        seed = self.config.seed + iteration
        try:
            proposed = propose_with_fallback(
                self.proposer,
                table,
                batch_size=room,
                pending=pending,
                config=self.config,
                space=self.space,
                seed=seed,
            )
        except CampaignError as exc:
            raise self._stop(str(exc)) from exc
        if proposed.fallback_reason:
            logger.warning(
                "campaign %s, iteration %d: %s; proposed by Sobol points instead",
                self.name,
                iteration,
                proposed.fallback_reason,
            )
        fit_s = time.perf_counter() - t0
        rows = []
        for sug in proposed.suggestions[:room]:
            recipe = self.space.validate(self.space.snap(dict(sug.recipe)))
            rows.append(
                {
                    "recipe": recipe,
                    "prediction": {
                        "mean": getattr(sug, "mean", {}),
                        "sd": getattr(sug, "sd", {}),
                        "p_feasible": getattr(sug, "p_feasible", None),
                    },
                    "acquisition_value": finite_or_none(getattr(sug, "acquisition_value", None)),
                }
            )
        if not rows:
            raise CampaignError("the acquisition proposed no recipe; check the recipe space")
        info = {
            "n_rows": len(table),
            "n_pending": len(pending),
            "fit_seconds": fit_s,
            "strategy": proposed.strategy,
            "configured_strategy": self.config.strategy,
            "fallback_reason": proposed.fallback_reason,
            "seed": seed,
        }
        jobs = ledger.add_proposals(
            self.store, self.record, iteration, rows, protocols=self.config.protocols, info=info
        )
        self._submit_created()
        if self.tracker is not None:
            self.tracker.log_iteration(
                self.store, self.record, iteration, rows, table, proposed, self.space
            )
        self.overhead_s.append(time.perf_counter() - t0)
        return bool(jobs)

    def _stop(self, message: str) -> CampaignError:
        """Mark the campaign stopped with ``message``; the error to raise."""
        message = f"{message}; everything received is stored (gbs campaign resume {self.name})"
        ledger.set_campaign_status(self.store, self.record.id, CampaignStatus.STOPPED, message)
        return CampaignError(message)
