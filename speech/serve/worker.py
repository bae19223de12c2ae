"""One thread runs every model call: a bounded queue of jobs, batched by kind.

Web servers answer each request on its own thread (or task); letting each one call torch would run
several models at once, each with a full team of CPU threads, and oversubscribe the cores. Here
the request only submits a job and waits on its future; :class:`Worker`'s single thread takes the
oldest job and, for kinds that batch (transcription, translation), every queued job of the same
kind up to ``max_batch``, and runs them with one handler call. A full queue refuses new jobs with
:class:`Busy` (the server answers 503) rather than growing without limit.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[[Sequence[Any]], Sequence[Any]]
"""Runs a batch of payloads of one kind; returns one result per payload, or an exception instance
for a payload that failed alone (raising fails the whole batch)."""


class Busy(Exception):  # noqa: N818 - a state, like queue.Full
    """The queue is full: try again later."""


@dataclass
class _Job:
    kind: str
    payload: Any
    future: Future = field(default_factory=Future)


class Worker:
    """A single thread that runs queued jobs in arrival order, batching jobs of one kind.

    Args:
        handlers: Job kind -> :data:`Handler`.
        max_queue: Jobs waiting at most (the one running not counted); more are refused with :class:`Busy`.
        max_batch: Most jobs of a batchable kind given to one handler call.
        batchable: Kinds whose queued jobs are gathered into one call; the others run one at a time.
    """

    def __init__(
        self,
        handlers: Mapping[str, Handler],
        max_queue: int = 64,
        max_batch: int = 8,
        batchable: Collection[str] = (),
    ) -> None:
        if max_queue < 1 or max_batch < 1:
            raise ValueError(f"max_queue and max_batch must be at least 1, got {max_queue}, {max_batch}")
        self.handlers = dict(handlers)
        self.max_queue = max_queue
        self.max_batch = max_batch
        self.batchable = frozenset(batchable)
        self._jobs: deque[_Job] = deque()
        self._ready = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="speech-serve-worker", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Jobs waiting (not counting the batch being run)."""
        with self._ready:
            return len(self._jobs)

    def submit(self, kind: str, payload: Any) -> Future:
        """Queue a job; its future holds the handler's result or exception.

        Raises:
            Busy: ``max_queue`` jobs are already waiting.
            RuntimeError: The worker is closed.
            KeyError: No handler for ``kind``.
        """
        if kind not in self.handlers:
            raise KeyError(kind)
        job = _Job(kind, payload)
        with self._ready:
            if self._closed:
                raise RuntimeError("the worker is closed")
            if len(self._jobs) >= self.max_queue:
                raise Busy(f"the server is busy ({len(self._jobs)} requests waiting); try again later")
            self._jobs.append(job)
            self._ready.notify()
        return job.future

    def close(self, timeout: float | None = None) -> None:
        """Stop after the jobs already queued; waits for the thread up to ``timeout`` seconds."""
        with self._ready:
            self._closed = True
            self._ready.notify()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _next_batch(self) -> list[_Job] | None:
        """The oldest job and, if its kind batches, the next queued ones of that kind; None when closed."""
        with self._ready:
            while not self._jobs and not self._closed:
                self._ready.wait()
            if not self._jobs:
                return None
            first = self._jobs.popleft()
            batch = [first]
            if first.kind in self.batchable:
                for job in list(self._jobs):
                    if len(batch) == self.max_batch:
                        break
                    if job.kind == first.kind:
                        self._jobs.remove(job)
                        batch.append(job)
            return batch

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            batch = [job for job in batch if job.future.set_running_or_notify_cancel()]
            if batch:
                self._run_batch(batch)

    def _run_batch(self, batch: list[_Job]) -> None:
        try:
            results = self.handlers[batch[0].kind]([job.payload for job in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"handler returned {len(results)} results for {len(batch)} jobs")
        except BaseException as e:  # noqa: BLE001 - handed to every waiting request
            for job in batch:
                job.future.set_exception(e)
            return
        for job, result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                job.future.set_exception(result)
            else:
                job.future.set_result(result)
