"""The commit protocol: how a batch's commands, its customers' records and its offsets reach
Kafka in an order that survives a crash at any instant (docs/architecture.md, rule 4).

The mechanism is an outbox in the customer's record. A customer's stored record holds, with
its state and its timers, every command that state has decided and the broker has not yet
acknowledged. So no stored state can be ahead of the commands it implies, wherever a crash
falls and whichever copy of the record survives it (RocksDB on this node, the changelog on
another, a standby's): either the record with the outbox was stored, and the recovery
publishes the outbox again; or it was not, the batch's offsets were not committed either,
and the batch is read and decided again, giving the same commands with the same
``command_id``. The ledger (Redis) and channel services deduplicate what is published twice.

Chosen over the other way (state made durable only after the offsets' commit, changelog
records tagged with their input offsets and skipped past the committed offset on recovery)
because that way needs hooks into Faust's commit and into its changelog recovery, and a
standby replica applies changelog records with no committed offset to check them against;
the outbox needs neither, and costs one more record per customer that got a command (its
outbox emptied once the broker has the command).

Per batch, in this order (``run`` drives them on a ``Runtime``: Faust's in the worker,
simulated time in ``rebound replay``):

1. Empty the outboxes of commands the broker acknowledged since the last batch.
2. Decide on every record (``Processor``): bad records to the dead-letter topic, misrouted
   ones to the repartition topic, each customer loaded once.
3. Build the commands the ledger does not know (catalog, Avro). A command that cannot be
   built puts its input in the dead-letter topic (stage ``command``) and its customer is
   decided again without it.
4. Pack each customer's record: state, timers, and outbox (the commands of step 3 and those
   still unacknowledged). A record over ``MAX_STORED_BYTES`` puts its last input in the
   dead-letter topic (stage ``store``) and its customer is decided again without it.
5. Hand the commands to the producer, then the records to the store (RocksDB, and the
   changelog at ``flush``); schedule the new timers.
6. Acknowledge the batch to the runtime (``Runtime.acknowledge``), whose commit flushes the
   producer (commands, changelog, dead letters, repartitioned records) before it commits
   the batch's offsets. A batch that failed is not acknowledged, and ``run`` raises.
7. When the broker acknowledges commands: their ids go to the ledger, and their customers'
   outboxes are emptied at the next step 1.

Between batches, the runtime's tick publishes the timers due (``tick``); on a revocation
nothing fires until the partitions the worker owns are restored (``ready``): their timers
are then scheduled again from the stored records and every outbox is published again (the
ledger suppresses what was published already). A batch, a tick and a recovery take turns.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from streams.engine.effects import SendCommand
from streams.metrics import Metrics
from streams.pipeline.commands import CommandError, Commands, Outgoing
from streams.pipeline.ports import CustomerStore, Runtime, ScenarioVersions, Sender
from streams.pipeline.processor import Customer, Processor
from streams.pipeline.stored import (
    MAX_STORED_BYTES,
    Outbox,
    command_from_list,
    command_to_list,
    pack,
    unpack_head,
    unpack_timers,
    with_head,
)
from streams.pipeline.tally import Tally
from streams.pipeline.timers import TimerWheel, fire_due

log = logging.getLogger(__name__)

CRASH_POINTS = ("built", "sent", "stored", "acknowledged", "delivered")
"""Steps at which ``REBOUND_TEST_CRASH_AT`` makes the worker exit at once (tests only)."""
CRASH_EXIT_CODE = 86


class RecordTooLarge(Exception):
    pass


class CommitProtocol:
    def __init__(
        self,
        processor: Processor,
        commands: Commands,
        customers: CustomerStore,
        sender: Sender,
        wheel: TimerWheel,
        due_topic: str,
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
        crash_at: str | None = None,
        versions: ScenarioVersions | None = None,
        watch: Callable[[Customer, float], None] | None = None,
    ) -> None:
        """``watch`` sees each customer of a batch once it is settled (its inputs and what
        each decided, those dead-lettered left out), e.g. ``rebound replay``'s trace."""
        self._processor = processor
        self._commands = commands
        self._customers = customers
        self._sender = sender
        self._wheel = wheel
        self._due_topic = due_topic
        self._metrics = metrics
        self._clock = clock
        self._crash_at = crash_at
        self._sent: dict[str, tuple[int, bytes]] = {}
        """Command id -> its customer's partition and key, until the broker has it."""
        self._delivered: dict[bytes, tuple[int, set[str]]] = {}
        """Customer key -> partition and ids of commands acknowledged, to empty (step 1)."""
        self._to_ledger: list[str] = []
        self._recording: asyncio.Future[None] | None = None
        self._versions = versions
        self._watch = watch
        self._turns = asyncio.Lock()
        """A batch, a tick and a recovery take turns: when many timers fall due at once,
        they are all published before the next batch."""

    async def run(self, runtime: Runtime) -> None:
        """Handle ``runtime``'s batches until it stops (steps 1 to 6; 7 as the broker
        acknowledges). A failure outside the dead-letter path leaves its batch
        unacknowledged and is raised: the worker must stop, and the batch is read again."""
        metrics = self._metrics
        while (batch := await runtime.next_batch()) is not None:
            started = time.perf_counter()
            handled = False
            try:
                async with self._turns:
                    await self.handle_batch(batch.records)
                handled = True
            finally:
                runtime.acknowledge(batch, handled)  # 6
            self._crash_point("acknowledged", batch.records)
            metrics.batch_duration.observe(time.perf_counter() - started)
            metrics.batch_size.observe(len(batch.records))

    async def handle_batch(self, records: Sequence[Any]) -> None:
        """Steps 1 to 5 for ``records``; the caller then acknowledges their offsets (6)."""
        now = self._clock()
        tally = Tally()
        self.empty_outboxes()  # 1
        customers = await self._processor.decide(records, now, tally)  # 2
        published = await self._published(customers)
        outgoing: list[Outgoing] = []
        values: list[tuple[Customer, bytes | None]] = []
        for customer in customers:
            settled, value = self._settle_quietly(customer)  # 3, 4
            built: list[Outgoing] = []
            if not settled:
                built, value = await self._settle(customer, published, now)
            for command, _, _ in built:
                self._sent[command.command_id] = (customer.partition, customer.key)
            outgoing += built
            values.append((customer, value))
            if self._watch is not None:
                self._watch(customer, now)
            for effects in customer.effects:
                tally.count(effects)
        self._crash_point("built", outgoing)
        if outgoing:  # 5
            await self._commands.send(self._sender, outgoing, self._on_delivery)
        self._crash_point("sent", outgoing)
        for customer, value in values:
            self._store(customer, value)
        await self._customers.flush()
        self._crash_point("stored", outgoing)
        tally.report(self._metrics)

    # Steps 3 and 4, one customer at a time.

    async def _published(self, customers: list[Customer]) -> set[str]:
        """Ids of the customers' new commands that the ledger knows: one lookup a batch."""
        commands = [c for customer in customers for _, c in customer.commands()]
        if not commands:
            return set()
        fresh = {c.command_id for c in await self._commands.not_published(commands)}
        return {c.command_id for c in commands} - fresh

    def _settle_quietly(self, customer: Customer) -> tuple[bool, bytes | None]:
        """Step 4 for a customer without commands whose record fits (most of them), without
        a coroutine: (True, its record); else (False, None), for ``_settle``."""
        if customer.commands():
            return False, None
        try:
            return True, self._pack(customer, [])
        except RecordTooLarge:
            return False, None

    async def _settle(
        self, customer: Customer, published: set[str], now: float
    ) -> tuple[list[Outgoing], bytes | None]:
        """The customer's commands to send and its record to store (None: a delete; the
        stored bytes: nothing to write). An input at fault is dead-lettered and dropped, and
        the customer decided again without it."""
        while True:
            culprit = len(customer.inputs) - 1
            try:
                built = []
                for culprit, command in customer.commands():  # noqa: B007 (the culprit's)
                    if command.command_id not in published:
                        built.append(await self._commands.build(command))
                return built, self._pack(customer, built)
            except (CommandError, RecordTooLarge) as exc:
                error = exc
                stage = "command" if isinstance(exc, CommandError) else "store"
                if isinstance(exc, RecordTooLarge):
                    culprit = len(customer.inputs) - 1
            record = customer.drop(culprit, self._processor.engine, now)
            await self._processor.intake.dead_letter(record, stage, error)
            if not customer.inputs:
                return [], customer.stored

    def _pack(self, customer: Customer, built: list[Outgoing]) -> bytes | None:
        state, stored = customer.state, customer.stored
        outbox = _outbox_of(stored) if stored is not None else {}
        for command, _, _ in built:
            outbox[command.command_id] = command_to_list(command)
        if state is None or (state.is_empty() and not outbox):
            return None
        value, customer.timers = pack(customer.partition, state, outbox)
        if len(value) > MAX_STORED_BYTES:
            raise RecordTooLarge(
                f"the customer's record would be {len(value)} bytes (at most {MAX_STORED_BYTES})"
            )
        return value

    # Step 5.

    def _store(self, customer: Customer, value: bytes | None) -> None:
        stored = customer.stored
        if value == stored:
            return
        self._customers.put(customer.partition, customer.key, value)
        if value is None:
            return
        newline = value.index(b"\n") + 1
        if stored is not None and stored.startswith(value[:newline]):
            return  # the same head: no timer changed
        pending = customer.timers  # as packed: the head is not parsed again
        if stored is not None:
            before = unpack_timers(stored)[1]
            pending = {i: t for i, t in pending.items() if before.get(i) != t}
        if pending:
            self._wheel.add(customer.partition, customer.key, pending)

    # Step 7 and 1.

    def _on_delivery(self, commands: list[SendCommand]) -> None:
        for command in commands:
            command_id = command.command_id
            partition, key = self._sent.pop(command_id, (0, b""))
            if key:
                self._delivered.setdefault(key, (partition, set()))[1].add(command_id)
            self._to_ledger.append(command_id)
        self._crash_point("delivered", commands)
        if self._recording is None:
            self._recording = asyncio.ensure_future(self._record_delivered())

    async def _record_delivered(self) -> None:
        """Write acknowledged ids to the ledger, as many per round trip as have come."""
        try:
            while self._to_ledger:
                ids, self._to_ledger = self._to_ledger, []
                await self._commands.ledger.record_many(ids)
        finally:
            self._recording = None

    def empty_outboxes(self) -> None:
        """Step 1: rewrite the records whose outbox holds acknowledged commands without
        them (the head only: the state's bytes are kept). Written at the next ``flush``."""
        delivered, self._delivered = self._delivered, {}
        for key, (partition, ids) in delivered.items():
            stored = self._customers.get(partition, key)
            if stored is None:
                continue
            head = unpack_head(stored)
            kept = {i: c for i, c in head.outbox.items() if i not in ids}
            if len(kept) < len(head.outbox):
                head.outbox = kept
                self._customers.put(partition, key, with_head(stored, head))

    async def tick(self) -> None:
        """Between batches: publish the due timers, and empty the outboxes of commands the
        broker has acknowledged since (a quiet stream has no next batch to do it)."""
        async with self._turns:
            await fire_due(self._wheel, self._sender, self._due_topic, self._metrics, self._clock())
            if self._delivered:
                self.empty_outboxes()
                await self._customers.flush()

    # Recovery and revocation.

    async def ready(self, partitions: set[int]) -> None:
        """The partitions this worker owns are restored: read the scenario versions other
        workers published since the start (their instances may be in these partitions),
        then schedule the timers and publish the outboxes again (``recover``)."""
        new: Sequence[Any] = ()
        if self._versions is not None:
            try:  # blocking I/O: in a thread; the engine changes between batches
                new = await asyncio.get_running_loop().run_in_executor(
                    None, self._versions.read_new
                )
            except Exception:  # the versions this worker has are the fallback
                log.exception("reading the scenario versions again failed; going on without")
        async with self._turns:
            if new and self._versions is not None:
                self._versions.keep(new)
            await self.recover(partitions)

    def next_due(self, by: float) -> float | None:
        """When the earliest timer this worker holds falls due, if by ``by`` (simulated
        runtimes)."""
        return self._wheel.next_due(by)

    def revoked(self) -> None:
        """On a revocation: no timer fires and no outbox is emptied until the next recovery
        (another worker may own the partitions now; it publishes their outboxes again)."""
        self._wheel.clear()
        self._sent.clear()
        self._delivered.clear()

    async def recover(self, partitions: Iterable[int]) -> None:
        """After the table's recovery: schedule the stored timers of ``partitions`` and
        publish their customers' outboxes again."""
        owned = set(partitions)
        self._wheel.rebuild(owned, ())
        pending: list[tuple[int, bytes, SendCommand]] = []
        for key, value in self._customers.items():
            head = unpack_head(value)
            if head.partition not in owned:
                continue
            self._wheel.add(head.partition, key, head.timers)
            pending += [(head.partition, key, command_from_list(c)) for c in head.outbox.values()]
        self._metrics.timers_pending.set(len(self._wheel))
        log.info("timers scheduled for partitions %s: %d", sorted(owned), len(self._wheel))
        if pending:
            await self._republish(pending)

    async def _republish(self, pending: list[tuple[int, bytes, SendCommand]]) -> None:
        fresh = {c.command_id for c in await self._commands.not_published([c for *_, c in pending])}
        outgoing = []
        for partition, key, command in pending:
            self._sent[command.command_id] = (partition, key)
            if command.command_id in fresh:
                outgoing.append(await self._commands.build(command))
            else:  # published before the crash: only the outbox is left to empty
                self._delivered.setdefault(key, (partition, set()))[1].add(command.command_id)
        log.info("publishing again %d commands of outboxes left by a crash", len(outgoing))
        self._metrics.outbox_republished.inc(len(outgoing))
        await self._commands.send(self._sender, outgoing, self._on_delivery)

    def _crash_point(self, step: str, commands: Sequence[Any]) -> None:
        """Tests only: exit at once at ``step`` when it has commands in hand."""
        if self._crash_at == step and commands:
            log.warning("REBOUND_TEST_CRASH_AT=%s: exiting now", step)
            os._exit(CRASH_EXIT_CODE)


def _outbox_of(stored: bytes) -> Outbox:
    """The outbox of a stored record, parsed only when it has one."""
    if stored.find(b'"o":{', 0, stored.index(b"\n")) < 0:
        return {}
    return unpack_head(stored).outbox
