"""The execution queue: strictly ordered, one job at a time, the durable point before every
job that needs it, and the kill switch's purge / jump-the-queue."""

from __future__ import annotations

import asyncio

import pytest

from kalshi_trader.execution.queue import ExecutionQueue, Job


class Log:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.flushes = 0
        self.fail_flush = False

    async def flush(self) -> None:
        await asyncio.sleep(0)
        self.flushes += 1
        self.events.append("flush")
        if self.fail_flush:
            raise RuntimeError("database gone")

    def job(self, name: str, *, delay: float = 0.0, **kw: bool) -> Job:
        async def run() -> None:
            self.events.append(f"start {name}")
            await asyncio.sleep(delay)
            self.events.append(f"end {name}")

        def abort(reason: str) -> None:
            self.events.append(f"abort {name}: {reason}")

        return Job(name, run, abort, **kw)


async def test_jobs_run_one_at_a_time_in_order_with_a_flush_before_those_that_need_it() -> None:
    log = Log()
    queue = ExecutionQueue(log.flush)
    queue.start()
    jobs = [log.job("a", delay=0.01, needs_flush=True), log.job("b"), log.job("c", needs_flush=True)]
    for job in jobs:
        queue.put(job)
    await queue.drain()
    assert log.events == ["flush", "start a", "end a", "start b", "end b", "flush", "start c", "end c"]
    assert all(job.done.is_set() for job in jobs)
    await queue.close()


async def test_a_failed_flush_aborts_the_job_instead_of_sending_it() -> None:
    log = Log()
    log.fail_flush = True
    queue = ExecutionQueue(log.flush)
    queue.start()
    queue.put(log.job("create", needs_flush=True))
    queue.put(log.job("cancel"))
    await queue.drain()
    assert log.events[0] == "flush"
    assert log.events[1].startswith("abort create: the record could not be made durable")
    assert log.events[2:] == ["start cancel", "end cancel"]
    await queue.close()


async def test_purge_drops_queued_purgeable_jobs_and_put_front_jumps_the_queue() -> None:
    log = Log()
    queue = ExecutionQueue(log.flush)
    queue.start()
    queue.put(log.job("in-flight", delay=0.02))
    await asyncio.sleep(0.005)
    queue.put(log.job("place-1", purgeable=True))
    queue.put(log.job("cancel-1"))
    queue.put(log.job("place-2", purgeable=True))
    assert queue.purge("kill switch") == 2
    queue.put_front(log.job("cancel-all"))
    await queue.drain()
    assert log.events == [
        "start in-flight",
        "abort place-1: kill switch",
        "abort place-2: kill switch",
        "end in-flight",  # the job in flight finishes normally
        "start cancel-all",
        "end cancel-all",
        "start cancel-1",
        "end cancel-1",
    ]
    await queue.close()


async def test_a_failing_job_does_not_stop_the_queue_and_close_aborts_the_rest() -> None:
    log = Log()
    queue = ExecutionQueue(log.flush)

    async def boom() -> None:
        raise ValueError("bug")

    queue.start()
    queue.put(Job("boom", boom))
    queue.put(log.job("next"))
    await queue.drain()
    assert queue.failures == 1
    assert log.events == ["start next", "end next"]
    queue.put(log.job("slow", delay=0.02))
    queue.put(log.job("left"))
    await asyncio.sleep(0.005)
    await queue.close()
    assert log.events[-3:] == ["start slow", "abort left: the execution engine is shutting down", "end slow"]
    with pytest.raises(RuntimeError, match="closed"):
        queue.put(log.job("late"))
