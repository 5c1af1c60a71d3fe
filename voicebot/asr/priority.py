"""A small thread pool that serves urgent work first.

Every call's recogniser decodes on the same few threads. With a plain FIFO executor, a call whose caller has
just stopped speaking waits for its final result behind every other call's queued audio; under load that
wait *is* the response latency. Here each job names an owner whose `urgent` flag is read when a thread
picks its next job, so a job queued as ordinary audio is promoted the moment its call reaches the end of an
utterance. Within a class, jobs run in arrival order. Background jobs (warming spare recognisers) run
only when no call has anything queued, so they never delay a caller.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol


class Owner(Protocol):
    @property
    def urgent(self) -> bool: ...


@dataclass
class _Job:
    future: Future[Any]
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    owner: Owner | None
    urgent: bool
    background: bool = False

    def is_urgent(self) -> bool:
        return self.urgent or (self.owner is not None and self.owner.urgent)


class PriorityExecutor:
    def __init__(self, threads: int, name: str = "worker") -> None:
        self._jobs: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._serve, name=f"{name}_{i}", daemon=True)
            for i in range(max(1, threads))
        ]
        for thread in self._threads:
            thread.start()

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        owner: Owner | None = None,
        urgent: bool = False,
        background: bool = False,
    ) -> Future[Any]:
        future: Future[Any] = Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("executor is shut down")
            self._jobs.append(_Job(future, fn, args, owner, urgent, background))
            self._cond.notify()
        return future

    @property
    def queued(self) -> int:
        return len(self._jobs)

    def shutdown(self, cancel_futures: bool = True) -> None:
        with self._cond:
            self._closed = True
            if cancel_futures:
                for job in self._jobs:
                    job.future.cancel()
                self._jobs.clear()
            self._cond.notify_all()

    def _next(self) -> _Job | None:
        with self._cond:
            while not self._jobs and not self._closed:
                self._cond.wait()
            if not self._jobs:
                return None
            # The queue is at most a few jobs per call, so a linear scan costs nothing next to a decode.
            for job in self._jobs:
                if job.is_urgent():
                    self._jobs.remove(job)
                    return job
            for job in self._jobs:
                if not job.background:
                    self._jobs.remove(job)
                    return job
            return self._jobs.popleft()

    def _serve(self) -> None:
        while (job := self._next()) is not None:
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                result = job.fn(*job.args)
            except BaseException as exc:  # handed to the awaiting coroutine, never lost in the thread
                job.future.set_exception(exc)
            else:
                job.future.set_result(result)
