"""What the intake agent does with a batch: handle it and acknowledge it, read it again after
a rebalance, or stop the worker when handling fails outside the dead-letter path."""

from __future__ import annotations

import asyncio
from typing import Any

from streams.edge.faust.runtime import handle_or_stop


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
