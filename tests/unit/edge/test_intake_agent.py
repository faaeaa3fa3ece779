"""What the intake agent does with a batch: handle it and acknowledge it, read it again after
a rebalance, or stop the worker when handling fails outside the dead-letter path."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from streams.edge.faust import stop
from streams.edge.faust.runtime import handle_or_stop


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
    def __init__(self, current: bool = True) -> None:
        self.current = current
        self.done: list[tuple[Any, bool]] = []
        self.read_again_batches: list[Any] = []

    def batch_begin(self, batch: Any) -> bool:
        return self.current

    def batch_done(self, batch: Any, handled: bool) -> None:
        self.done.append((batch, handled))

    async def read_again(self, batch: Any) -> None:
        self.read_again_batches.append(batch)


class Processor:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.handled: list[Any] = []

    async def handle_batch(self, records: Any) -> None:
        if self.error is not None:
            raise self.error
        self.handled.append(records)


class App:
    def __init__(self) -> None:
        self.crashed: list[BaseException] = []

    async def crash(self, reason: BaseException) -> None:
        self.crashed.append(reason)


class Batch:
    def __init__(self) -> None:
        self.records = ["r1", "r2"]


async def test_a_handled_batch_is_acknowledged() -> None:
    app, consumer, processor, batch = App(), Consumer(), Processor(), Batch()
    await handle_or_stop(app, consumer, processor, batch, asyncio.Lock())  # type: ignore[arg-type]
    assert processor.handled == [["r1", "r2"]]
    assert consumer.done == [(batch, True)]
    assert app.crashed == []


async def test_a_batch_fetched_before_a_rebalance_is_read_again_not_handled() -> None:
    app, consumer, processor, batch = App(), Consumer(current=False), Processor(), Batch()
    await handle_or_stop(app, consumer, processor, batch, asyncio.Lock())  # type: ignore[arg-type]
    assert processor.handled == []
    assert consumer.read_again_batches == [batch]
    assert consumer.done == []


async def test_a_failure_outside_the_dead_letter_path_stops_the_worker_unacknowledged() -> None:
    error = OSError("disk full")
    app, consumer, processor, batch = App(), Consumer(), Processor(error), Batch()
    await handle_or_stop(app, consumer, processor, batch, asyncio.Lock())  # type: ignore[arg-type]
    assert app.crashed == [error]
    assert consumer.done == [(batch, False)], "its offsets are not acknowledged"


def test_a_stop_that_hangs_ends_the_process_once_its_time_is_up(watchdog: list[bool]) -> None:
    first = stop.bound_the_stop(timeout_s=0.05)
    assert stop.bound_the_stop(timeout_s=60) is first, "armed once"
    first.join(timeout=5)
    assert watchdog == [True]


def test_a_failing_batch_arms_the_stop_s_watchdog() -> None:
    app, consumer, processor = App(), Consumer(), Processor(OSError("disk full"))
    asyncio.run(handle_or_stop(app, consumer, processor, Batch(), asyncio.Lock()))  # type: ignore[arg-type]
    assert isinstance(stop._armed[0], threading.Timer)
