"""The worker thread: one batch at a time, batched by kind, errors per job, a bounded queue."""

from __future__ import annotations

import threading

import pytest

from speech.serve.worker import Busy, Worker


class Gate:
    """A handler that blocks until opened, recording each batch (kind, payloads)."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.started = threading.Event()
        self.batches: list[tuple[str, list]] = []

    def handler(self, kind: str):
        def run(payloads):
            self.batches.append((kind, list(payloads)))
            self.started.set()
            self.open.wait(60)
            return list(payloads)

        return run


def test_batches_gather_one_kind_in_arrival_order_up_to_the_limit():
    gate = Gate()
    worker = Worker({k: gate.handler(k) for k in ("a", "b")}, max_queue=10, max_batch=3, batchable=("a",))
    first = worker.submit("a", 0)
    assert gate.started.wait(60)
    futures = [worker.submit(kind, i) for i, kind in enumerate("abaaab", start=1)]
    gate.open.set()
    assert first.result(60) == 0 and [f.result(60) for f in futures] == [1, 2, 3, 4, 5, 6]
    worker.close(60)
    # "a" batches up to 3 (skipping the queued "b"s), "b" runs one at a time
    assert gate.batches == [("a", [0]), ("a", [1, 3, 4]), ("b", [2]), ("a", [5]), ("b", [6])]


def test_a_failing_item_fails_alone_and_a_failing_batch_fails_all():
    def handler(payloads):
        if "crash" in payloads:
            raise RuntimeError("boom")
        return [ValueError(p) if p == "bad" else p.upper() for p in payloads]

    worker = Worker({"x": handler}, batchable=("x",))
    assert worker.submit("x", "ok").result(60) == "OK"
    with pytest.raises(ValueError, match="bad"):
        worker.submit("x", "bad").result(60)
    with pytest.raises(RuntimeError, match="boom"):
        worker.submit("x", "crash").result(60)
    worker.close(60)


def test_full_queue_is_busy_and_closed_refuses():
    gate = Gate()
    worker = Worker({"x": gate.handler("x")}, max_queue=1)
    running = worker.submit("x", 1)
    assert gate.started.wait(60)
    waiting = worker.submit("x", 2)
    with pytest.raises(Busy, match="busy"):
        worker.submit("x", 3)
    with pytest.raises(KeyError):
        worker.submit("y", 0)
    gate.open.set()
    assert running.result(60) == 1 and waiting.result(60) == 2
    worker.close(60)
    with pytest.raises(RuntimeError, match="closed"):
        worker.submit("x", 4)
