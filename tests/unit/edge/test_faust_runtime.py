"""The Faust runtime's side of a batch, without a broker: a batch fetched before a rebalance
is read again rather than handed over, and a failure outside the dead-letter path stops the
worker. (Against a real broker: ``tests/integration/test_faust_runtime.py``.)"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from streams.edge.faust import stop
from streams.edge.faust.runtime import FaustRuntime


@pytest.fixture(autouse=True)
def watchdog(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """The stop's watchdog, with an exit that records instead of ending the test process."""
    exits: list[bool] = []
    monkeypatch.setattr(stop, "_armed", [])
    monkeypatch.setattr(stop, "_exit_stuck", lambda: exits.append(True))
    yield exits
    for timer in stop._armed:
        timer.cancel()


class Consumer:
    def __init__(self, stale: set[int]) -> None:
        self.stale = stale
        self.done: list[tuple[Any, bool]] = []
        self.read_again_batches: list[Any] = []

    def batch_begin(self, batch: Any) -> bool:
        return batch.generation_id not in self.stale

    def batch_done(self, batch: Any, handled: bool) -> None:
        self.done.append((batch, handled))

    async def read_again(self, batch: Any) -> None:
        self.read_again_batches.append(batch)


class App:
    """What the runtime uses of a Faust app."""

    def __init__(self, stale: set[int] | None = None) -> None:
        self.consumer = Consumer(stale or set())
        self.transport = SimpleNamespace(Consumer=None)
        self.should_stop = False
        self.tasks: list[Any] = []
        self.crashed: list[BaseException] = []

    def task(self, fn: Any) -> Any:
        self.tasks.append(fn)
        return fn

    def timer(self, seconds: float) -> Any:
        return lambda fn: fn

    async def crash(self, reason: BaseException) -> None:
        self.crashed.append(reason)


def runtime(app: App) -> FaustRuntime:
    table = SimpleNamespace(on_recover=lambda fn: fn)
    app.on_partitions_revoked = SimpleNamespace(connect=lambda fn: fn)  # type: ignore[attr-defined]
    return FaustRuntime(app, table, frozenset({"orders"}), "due", 1.0)  # type: ignore[arg-type]


def batch(generation: int) -> Any:
    return SimpleNamespace(generation_id=generation, records=[f"r{generation}"])


async def test_a_batch_fetched_before_a_rebalance_is_read_again_not_handed_over() -> None:
    app = App(stale={1})
    faust_runtime = runtime(app)
    old, current = batch(1), batch(2)
    await faust_runtime._put(old)
    await faust_runtime._put(current)
    assert await faust_runtime.next_batch() is current
    assert app.consumer.read_again_batches == [old]
    faust_runtime.acknowledge(current, True)
    assert app.consumer.done == [(current, True)]


class Protocol:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def revoked(self) -> None: ...

    async def ready(self, partitions: set[int]) -> None: ...

    async def tick(self) -> None: ...

    async def run(self, runtime: Any) -> None:
        if self.error is not None:
            raise self.error


async def test_a_failure_outside_the_dead_letter_path_stops_the_worker() -> None:
    app, error = App(), OSError("disk full")
    runtime(app).serve(Protocol(error))
    [task] = app.tasks
    await task()
    assert app.crashed == [error]
    assert isinstance(stop._armed[0], threading.Timer), "the stop is bounded"


async def test_a_runtime_that_stops_ends_the_task_without_a_crash() -> None:
    app = App()
    runtime(app).serve(Protocol(None))
    await app.tasks[0]()
    assert app.crashed == []


def test_a_stop_that_hangs_ends_the_process_once_its_time_is_up(watchdog: list[bool]) -> None:
    first = stop.bound_the_stop(timeout_s=0.05)
    assert stop.bound_the_stop(timeout_s=60) is first, "armed once"
    first.join(timeout=5)
    assert watchdog == [True]


def test_no_batch_is_lost_between_the_queue_and_the_loop() -> None:
    async def scenario() -> list[Any]:
        app = App()
        faust_runtime = runtime(app)
        batches = [batch(n) for n in range(5)]

        async def consume() -> list[Any]:
            return [await faust_runtime.next_batch() for _ in batches]

        reader = asyncio.ensure_future(consume())
        for b in batches:
            await faust_runtime._put(b)
        return [b.generation_id for b in await reader]

    assert asyncio.run(scenario()) == [0, 1, 2, 3, 4]
