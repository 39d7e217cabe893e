"""The jobs' traffic with the services: send, reconcile, poll, and record what each job became.

:class:`JobTraffic` does, for :class:`design.campaign.runner.CampaignRunner`:

- :meth:`JobTraffic.reconcile`: after a (re)start, adopt the jobs a service holds whose
  ``POST`` answer was lost, and refuse a service that holds jobs the campaign sent to another
  one (addresses given in another order on resume);
- :meth:`JobTraffic.submit_created`: send every committed-but-unconfirmed job with its key
  and body (a new sample, or a follow-up naming its sample). A follow-up refused because of
  its sample (``sample_consumed``, ``sample_not_in_campaign``, ``unknown_sample``) is closed
  after that one request and the sample marked used up; any other rejection closes the job;
- :meth:`JobTraffic.poll`: each live job's status; a finished job records its
  instrument-hours, a succeeded one its raw result (ingested next), a failed one its outcome
  (a cracked pellet's row, an instrument fault's re-run, a final failure).

Every call to a service goes through the runner's guard, which marks a service that stays
unreachable as away (:class:`design.campaign.services.ServiceAway`): its jobs are left for
later.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from design.campaign.config import CampaignConfig
from design.campaign.ingest import Ingester
from design.campaign.services import ServiceAway, ServiceLink, ServicePool
from design.errors import CampaignError
from design.store import ledger
from design.store.database import CampaignRecord, JobRecord, Store
from design.store.hours import JobHours
from design.store.states import JobStatus
from experiments.cycler.errors import CyclerProtocolError, CyclerRejectedError

__all__ = ["SAMPLE_GONE", "JobTraffic"]

logger = logging.getLogger(__name__)

#: Rejections of a follow-up that mean its sample can be measured no more.
SAMPLE_GONE: tuple[str, ...] = ("sample_consumed", "sample_not_in_campaign", "unknown_sample")


class JobTraffic:
    """Sends and follows a campaign's jobs (see the module docstring).

    Args:
        store: the campaign database.
        record: the campaign.
        config: its configuration.
        pool: its services.
        ingester: stores results and hours.
        guard: ``guard(link, call)`` runs ``call`` against a service (raises
            :class:`ServiceAway` when the service is away).
    """

    def __init__(
        self,
        store: Store,
        record: CampaignRecord,
        config: CampaignConfig,
        pool: ServicePool,
        ingester: Ingester,
        guard: Callable[[ServiceLink, Callable[[], Any]], Any],
    ) -> None:
        self.store, self.record, self.config, self.pool = store, record, config, pool
        self.ingester, self.guard = ingester, guard
        self.name = record.name
        self._garbled_count = 0  # garbled answers in a row

    def reconcile(self, link: ServiceLink) -> None:
        """Adopt this service's jobs whose POST answer was lost; refresh live statuses.

        Raises:
            CampaignError: the service holds jobs the database gave another service (the
                addresses were swapped on resume).
        """
        remote = {j.idempotency_key: j for j in link.client.list_jobs(self.name)}
        mine = {j.idempotency_key: j for j in self.store.jobs(self.record.id)}
        foreign = sorted({mine[k].service for k in remote if k in mine} - {link.name})
        if foreign:
            raise CampaignError(
                f"{link.display} holds jobs this campaign sent to {', '.join(foreign)}: were "
                f"the --cycler-url addresses given in another order? Resume with them in the "
                f"order the campaign was started with"
            )
        orphans = [j.job_id for k, j in remote.items() if k not in mine]
        if orphans:
            logger.warning(
                "%s holds %d job(s) of campaign %r that this database did not create (%s); "
                "they are ignored",
                link.display,
                len(orphans),
                self.name,
                ", ".join(orphans[:5]),
            )
        for job in mine.values():
            seen = remote.get(job.idempotency_key)
            if seen is None or job.service != link.name:
                continue
            if job.status == JobStatus.CREATED:
                ledger.mark_submitted(self.store, job.id, seen.job_id, seen.status)
            elif job.status == JobStatus.SUBMITTED and seen.status in ("queued", "running"):
                if seen.status != job.service_status:
                    ledger.set_service_status(self.store, job.id, seen.status)

    def submit_created(self) -> bool:
        jobs = self.store.jobs(self.record.id, statuses=(JobStatus.CREATED,))
        changed = False
        for job in jobs:
            link = self.pool[job.service]
            try:
                answer = self.guard(link, partial(self._post, job, link))
            except ServiceAway:
                continue
            changed = True
            if answer is not None:
                ledger.mark_submitted(self.store, job.id, answer.job_id, answer.status)
        return changed

    def _post(self, job: JobRecord, link: ServiceLink) -> Any:
        """Send a job's committed body (same key); None when it was closed instead."""
        body = job.request
        try:
            if "sample_id" in body:
                return link.client.submit_followup(
                    body["campaign"], body["sample_id"], body["protocols"], job.idempotency_key
                )
            return link.client.submit_job(
                body["campaign"],
                body["recipe"],
                job.idempotency_key,
                protocols=body.get("protocols"),
            )
        except CyclerRejectedError as exc:
            code = exc.code or f"http_{exc.status_code}"
            gone = code in SAMPLE_GONE
            if gone:
                logger.warning(
                    "%s refused follow-up %s on sample %s (%s): the sample is marked used up, "
                    "the follow-up closed",
                    link.display,
                    "+".join(job.protocols),
                    body.get("sample_id"),
                    code,
                )
            ledger.record_failed(self.store, job.id, code, str(exc), consume_sample=gone)
        except CyclerProtocolError as exc:  # garbled answer: same key again next time
            self._garbled(exc)
        return None

    def poll(self) -> bool:
        changed = False
        for job in self.store.jobs(self.record.id, statuses=(JobStatus.SUBMITTED,)):
            link = self.pool[job.service]
            try:
                remote = self.guard(link, partial(link.client.get_job, job.job_id))
            except ServiceAway:
                continue
            except CyclerRejectedError as exc:
                if exc.status_code == 404:
                    ledger.reset_to_created(
                        self.store, job.id, f"{link.name} forgot {job.job_id}: {exc}"
                    )
                    changed = True
                    continue
                raise
            except CyclerProtocolError as exc:
                self._garbled(exc)
                continue
            self._garbled_count = 0
            try:
                changed |= self._on_status(job, remote, link)
            except ServiceAway:
                continue
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

    def _on_status(self, job: JobRecord, remote: Any, link: ServiceLink) -> bool:
        status = remote.status
        if status in ("queued", "running"):
            if status != job.service_status:
                ledger.set_service_status(self.store, job.id, status)
                return True
            return False
        error = remote.error
        code = getattr(error, "code", None) or status
        hours = self.ingester.job_hours(job, remote, cracked=code == "sample_cracked")
        if status == "succeeded":
            try:
                raw = self.guard(link, lambda: link.client.get_result(job.job_id))
            except CyclerProtocolError as exc:
                self.ingester.fetch_error(job, str(exc))
                return True
            except CyclerRejectedError as exc:
                if exc.status_code == 409:  # not finished after all: ask again later
                    return False
                raise
            ledger.store_result(self.store, job.id, raw, hours=hours)
            return True
        message = getattr(error, "message", None) or f"job {status}"
        self._on_failure(
            job, status, code, message, bool(getattr(error, "retryable", False)), hours, remote
        )
        return True

    def _on_failure(
        self,
        job: JobRecord,
        status: str,
        code: str,
        message: str,
        retryable: bool,
        hours: JobHours,
        remote: Any,
    ) -> None:
        if status == "failed" and code == "sample_cracked":
            row_id = self.ingester.row_key(job.service, f"cracked-{job.job_id}")
            ledger.record_cracked(
                self.store,
                job.id,
                message,
                row_id=row_id,
                sample_id=getattr(remote, "sample_id", None),
                hours=hours,
            )
        elif status == "failed" and retryable:
            ledger.record_fault(
                self.store,
                job.id,
                code,
                message,
                max_retries=self.config.max_fault_retries,
                hours=hours,
            )
        else:
            gone = code in SAMPLE_GONE
            ledger.record_failed(
                self.store, job.id, code, message, hours=hours, consume_sample=gone
            )
