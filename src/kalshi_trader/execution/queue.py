"""The execution queue: the one ordered way out to the exchange.

Contract:
- ``put(job)`` appends a ``Job`` (a plain, synchronous call: safe on the hot path); one worker task
  runs jobs strictly one after another in that order, so requests leave in the order intents were
  approved and a cancel queued after a create is sent after the create was answered.
- Durable point: before a job marked ``needs_flush`` is run, the worker awaits ``flush()`` (the
  recorder's: every record submitted so far is committed). If the flush fails the job is not run:
  its ``abort(reason)`` is called instead. So nothing is sent whose intent and pending order are
  not on disk (see ``store/recorder.py``).
- ``put_front(job)`` jumps the queue (the kill switch's cancel-all). ``purge(reason)`` drops every
  queued job marked ``purgeable`` (places and amends that add risk) that has not started, calling
  its ``abort(reason)``; the job in flight, if any, finishes normally.
- A job's coroutine handles its own errors; an exception escaping it is logged and counted
  (``failures``) and the worker goes on with the next job. ``close()`` aborts what is still queued
  and stops the worker after the job in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

__all__ = ["ExecutionQueue", "Job"]

log = structlog.get_logger(__name__)


def _no_abort(reason: str) -> None:
    pass


@dataclass(eq=False, slots=True)
class Job:
    """One unit of work for the exchange: ``run()`` sends and applies the answer."""

    label: str
    run: Callable[[], Awaitable[None]]
    abort: Callable[[str], None] = _no_abort
    """Called instead of ``run`` when the job is purged, the flush before it failed, or the queue closed."""
    needs_flush: bool = False
    purgeable: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)


class ExecutionQueue:
    """See the module docstring."""

    def __init__(self, flush: Callable[[], Awaitable[None]]) -> None:
        self._flush = flush
        self._jobs: deque[Job] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.current: Job | None = None
        self.completed = 0
        self.failures = 0

    @property
    def depth(self) -> int:
        """Jobs waiting (not counting the one in flight)."""
        return len(self._jobs)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="execution-queue")

    def put(self, job: Job) -> Job:
        self._admit(job)
        self._jobs.append(job)
        self._wake.set()
        return job

    def put_front(self, job: Job) -> Job:
        self._admit(job)
        self._jobs.appendleft(job)
        self._wake.set()
        return job

    def _admit(self, job: Job) -> None:
        if self._closed:
            raise RuntimeError(f"the execution queue is closed; {job.label} not queued")

    def purge(self, reason: str) -> int:
        """Abort every queued purgeable job; returns how many."""
        kept: deque[Job] = deque()
        dropped = 0
        while self._jobs:
            job = self._jobs.popleft()
            if job.purgeable:
                self._abort(job, reason)
                dropped += 1
            else:
                kept.append(job)
        self._jobs = kept
        return dropped

    async def drain(self) -> None:
        """Wait until every job queued so far has finished."""
        pending = [*self._jobs]
        if self.current is not None:
            pending.append(self.current)
        for job in pending:
            await job.done.wait()

    async def close(self) -> None:
        self._closed = True
        while self._jobs:
            self._abort(self._jobs.popleft(), "the execution engine is shutting down")
        task = self._task
        self._task = None
        if task is not None:
            self._wake.set()
            if self.current is None:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _abort(self, job: Job, reason: str) -> None:
        try:
            job.abort(reason)
        except Exception:
            log.exception("execution_job_abort_failed", job=job.label)
        finally:
            job.done.set()

    async def _run(self) -> None:
        while True:
            if not self._jobs:
                if self._closed:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            job = self._jobs.popleft()
            self.current = job
            try:
                if job.needs_flush:
                    try:
                        await self._flush()
                    except Exception as exc:
                        log.error("execution_flush_failed", job=job.label, error=str(exc))
                        self._abort(job, f"the record could not be made durable before sending: {exc}")
                        continue
                try:
                    await job.run()
                except Exception:
                    self.failures += 1
                    log.exception("execution_job_failed", job=job.label)
            finally:
                self.current = None
                self.completed += 1
                job.done.set()
