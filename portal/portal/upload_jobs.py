"""Royalty-report filing jobs (a CSV upload's progress page), kept in the portal's own database.

A job is a document in ``upload_jobs`` (the portal's database, beside the sessions): who started it,
the checked lines, its state and, once done, the report or the problems. Any replica shows any
job's progress page, and a restart loses none:

- The replica that took the upload files the report in the background and holds the job's *lease*
  (``runner``, ``lease_until``), renewing it while the API works; it writes the outcome only while
  the lease is still its own.
- A job whose lease lapsed while it was still ``sending`` (its replica stopped or crashed) is taken
  over by the next progress-page request of its owner, on any replica, with that request's token.
  The first attempt may have reached the API before its replica died; the report id the API gives a
  period is stable, so a report for the job's programme and period that was not there when the job
  started is the job's own (state ``filed``). Otherwise the report is filed again.
- A replica shutting down releases the leases of the jobs it is running (the next request resumes
  them at once); a crash leaves them to lapse (``UPLOAD_LEASE_S``).

Jobs are dropped ``KEEP_S`` after they started (the store has no TTL index, so each new upload
purges the old ones); a filed report stays in the API, whatever happens to its job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from portal.royaltycsv import Line, Problem

log = logging.getLogger("portal.upload_jobs")

KEEP_S = 3600.0
RUNNER = secrets.token_hex(8)  # this process, as the holder of a job's lease
STATES = ("sending", "filed", "refused", "failed", "forbidden")


@dataclass
class Job:
    id: str
    owner: str  # the person's subject: only they see the job
    programme_id: str
    period: str
    lines: list[Line]
    started: float = field(default_factory=time.time)  # epoch seconds (shared by every replica)
    state: str = "sending"
    report_id: str | None = None
    problems: list[Problem] = field(default_factory=list)
    reports_before: list[str] = field(default_factory=list)  # the period's report ids when it started
    attempts: int = 1

    def to_doc(self, lease_s: float) -> dict[str, Any]:
        return {
            "_id": self.id,
            "owner": self.owner,
            "programme_id": self.programme_id,
            "period": self.period,
            "lines": [{"number": x.number, "body": x.body} for x in self.lines],
            "started": self.started,
            "state": self.state,
            "report_id": self.report_id,
            "problems": [_problem_doc(p) for p in self.problems],
            "reports_before": self.reports_before,
            "attempts": self.attempts,
            "runner": RUNNER,
            "lease_until": time.time() + lease_s,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Job:
        return cls(
            id=str(doc["_id"]),
            owner=str(doc["owner"]),
            programme_id=str(doc["programme_id"]),
            period=str(doc["period"]),
            lines=[Line(int(x["number"]), dict(x["body"])) for x in doc.get("lines", [])],
            started=float(doc["started"]),
            state=str(doc["state"]),
            report_id=doc.get("report_id"),
            problems=[Problem(**p) for p in doc.get("problems", [])],
            reports_before=list(doc.get("reports_before", [])),
            attempts=int(doc.get("attempts", 1)),
        )


def _problem_doc(problem: Problem) -> dict[str, Any]:
    doc = asdict(problem)
    doc["values"] = dict(problem.values)
    return doc


@dataclass(frozen=True)
class Outcome:
    state: str
    report_id: str | None = None
    problems: list[Problem] = field(default_factory=list)


class JobStore:
    """The jobs in the portal's database, and the leases of the ones this process runs."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]], lease_s: float) -> None:
        self.collection = collection
        self.lease_s = lease_s
        self.running: dict[str, asyncio.Task[None]] = {}
        self._prepared = False

    async def prepare(self) -> None:
        if not self._prepared:
            await self.collection.create_index("started")
            self._prepared = True

    async def add(self, job: Job) -> None:
        await self.prepare()
        await self.collection.delete_many({"started": {"$lt": time.time() - KEEP_S}})
        await self.collection.insert_one(job.to_doc(self.lease_s))

    async def get(self, job_id: str) -> Job | None:
        doc = await self.collection.find_one({"_id": job_id})
        return Job.from_doc(doc) if doc is not None else None

    async def take_over(self, job_id: str) -> Job | None:
        """The job, now this process's to run, if it is still sending and its lease has lapsed."""
        now = time.time()
        doc = await self.collection.find_one_and_update(
            {"_id": job_id, "state": "sending", "lease_until": {"$lt": now}},
            {"$set": {"runner": RUNNER, "lease_until": now + self.lease_s}, "$inc": {"attempts": 1}},
            return_document=True,
        )
        return Job.from_doc(doc) if doc is not None else None

    async def _renew(self, job_id: str) -> bool:
        result = await self.collection.update_one(
            {"_id": job_id, "runner": RUNNER, "state": "sending"},
            {"$set": {"lease_until": time.time() + self.lease_s}},
        )
        return result.matched_count == 1

    async def _finish(self, job_id: str, outcome: Outcome) -> bool:
        result = await self.collection.update_one(
            {"_id": job_id, "runner": RUNNER, "state": "sending"},
            {
                "$set": {
                    "state": outcome.state,
                    "report_id": outcome.report_id,
                    "problems": [_problem_doc(p) for p in outcome.problems],
                    "lease_until": 0.0,
                }
            },
        )
        return result.matched_count == 1

    async def _release(self, job_id: str) -> None:
        await self.collection.update_one(
            {"_id": job_id, "runner": RUNNER, "state": "sending"}, {"$set": {"lease_until": 0.0}}
        )

    def run(self, job: Job, work: Callable[[Job], Awaitable[Outcome]]) -> None:
        """Run ``work`` for the job in the background, holding its lease, and record its outcome."""
        task = asyncio.create_task(self._hold(job, work))
        self.running[job.id] = task
        task.add_done_callback(lambda _: self.running.pop(job.id, None))

    async def _hold(self, job: Job, work: Callable[[Job], Awaitable[Outcome]]) -> None:
        renewer = asyncio.create_task(self._keep_lease(job.id))
        try:
            outcome = await work(job)
        except asyncio.CancelledError:  # this process stops: the next request (any replica) resumes it
            with contextlib.suppress(Exception):
                await asyncio.shield(self._release(job.id))
            raise
        except Exception:
            log.exception("filing job %s failed", job.id)
            outcome = Outcome("failed")
        finally:
            renewer.cancel()
        if not await self._finish(job.id, outcome):
            log.warning("filing job %s: its lease went to another runner; its outcome is theirs", job.id)

    async def _keep_lease(self, job_id: str) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                if not await self._renew(job_id):
                    return
            except Exception:  # the store is away a moment: the lease may lapse, and a takeover is safe
                log.warning("filing job %s: could not renew its lease", job_id, exc_info=True)

    async def stop(self) -> None:
        """Cancel this process's jobs (each releases its lease for another replica or the restart)."""
        tasks = list(self.running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
