"""A scenario folder run over recorded events on simulated time (``rebound replay``), to see
before going live what it would send.

No Kafka, no Redis: the profiles and the catalog come from files (the ones ``rebound
profiles`` and ``rebound catalog`` load). The decisions are the worker's own, taken by the
worker's own batch path: the commit protocol (``streams.pipeline.commit``) runs on the
in-memory ports and the simulated runtime of ``streams.pipeline.memory``. Each event is
encoded with its topic's Avro schema and handed over as a record at its ``occurred_at``; the
intake decodes it, the processor decides, the customers' records are packed and stored, the
timer wheel publishes the due timers, which come back as records at their due time; the
commands are built (catalog, Avro) and counted by the worker's tally and metrics. So the
commands predicted are the worker's, with the same ``command_id``s
(``tests/integration/test_replay.py`` checks it against a worker), and the funnel is the one
the worker's metrics count.

The events are read whole and sorted by ``occurred_at`` (a recording's partitions interleave):
a replay's memory grows with its file, about a kilobyte per event.

Event files:

- JSON Lines: one event per line, its kind in ``kind`` (``order``, ``delivery``, ``open``,
  ``click``, ``consent``) and the fields of its Avro record (``schemas/events``) beside it;
  ``occurred_at`` as ISO 8601 (``2026-11-19T14:00:00+01:00``) or epoch milliseconds.
- Avro object container files (``.avro``), records in one of the event topics' schemas, as a
  producer writes them.

A line that is not a valid event is reported with its number and skipped.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastavro
from prometheus_client import CollectorRegistry
from tqdm import tqdm

from streams.codecs import EVENT_RECORDS, AvroCodec, CodecError
from streams.engine import Engine, Event, InvalidEvent, TimerFired, event_from_record
from streams.engine.context import CHANNELS, Profile
from streams.engine.effects import Effect, SendCommand
from streams.exceptions import ConfigurationError
from streams.metrics import create_metrics
from streams.pipeline.commands import Commands
from streams.pipeline.commit import CommitProtocol
from streams.pipeline.dead_letters import ERROR, SOURCE_OFFSET, DeadLetters
from streams.pipeline.funnel import Funnel, funnel_of
from streams.pipeline.intake import REPARTITION, Intake
from streams.pipeline.memory import (
    MemoryCatalog,
    MemoryLedger,
    MemoryProfiles,
    MemoryRecord,
    MemorySender,
    MemoryStore,
    SimulatedClock,
    SimulatedRuntime,
)
from streams.pipeline.ports import Product
from streams.pipeline.processor import Customer, Processor
from streams.pipeline.stored import unpack_timers
from streams.pipeline.timers import TimerWheel

KINDS = {name: kind for kind, name in EVENT_RECORDS.items()}
"""Avro record name -> event kind."""
DAY_S = 86400.0


@dataclass
class Prediction:
    """What a replay decided, counted; ``to_json`` is what ``rebound report`` reads."""

    events: int = 0
    customers: int = 0
    first_event: float | None = None
    last_event: float | None = None
    until: float | None = None
    sends: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    """(UTC day, channel, scenario, step) -> commands."""
    funnel: Funnel = field(default_factory=Funnel)
    """The worker's funnel counts (``streams.metrics.FUNNEL_METRICS``): started per group,
    sent, held out, dropped and deferred per step and variant, opened, clicked, converted,
    revenue and basket (minor units, per currency)."""
    waiting: int = 0
    """Timers still pending at the end of the replay."""
    bad: list[tuple[int, str]] = field(default_factory=list)
    """(line or record number, problem) of the events skipped."""
    commands: list[SendCommand] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "customers": self.customers,
            "first_event": _iso(self.first_event),
            "last_event": _iso(self.last_event),
            "until": _iso(self.until),
            "sends": _rows(self.sends, ("day", "channel", "scenario", "step")),
            "funnel": self.funnel.rows(),
            "waiting": self.waiting,
            "bad_lines": len(self.bad),
        }


def _rows(counter: Counter[Any], names: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    for key, count in sorted(counter.items(), key=lambda kv: kv[0]):
        values = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(names, values, strict=True)), "count": count})
    return rows


def _iso(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, tz=UTC).isoformat()


def read_events(path: Path, codec: AvroCodec | None = None) -> Iterator[tuple[int, Recorded | str]]:
    """(line or record number, the event or why it is skipped) of an event file."""
    codec = codec or AvroCodec()
    if path.suffix.lower() == ".avro":
        yield from _avro_events(path, codec)
    else:
        yield from _json_events(path, codec)


def _json_events(path: Path, codec: AvroCodec) -> Iterator[tuple[int, Recorded | str]]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError as exc:
                yield number, f"not JSON: {exc}"
                continue
            if not isinstance(item, dict):
                yield number, "expected a JSON object"
                continue
            kind = item.pop("kind", None)
            if kind not in EVENT_RECORDS:
                yield number, f"kind {kind!r} is not one of {', '.join(EVENT_RECORDS)}"
                continue
            problem = _timestamps(item) or _money(item)
            yield number, problem or _through_codec(codec, kind, item)


def _avro_events(path: Path, codec: AvroCodec) -> Iterator[tuple[int, Recorded | str]]:
    with path.open("rb") as handle:
        try:
            reader = fastavro.reader(handle)
        except (ValueError, TypeError, EOFError) as exc:
            raise ConfigurationError(f"{path}: not an Avro object container file ({exc})") from exc
        schema = reader.writer_schema
        name = str(schema.get("name")) if isinstance(schema, dict) else None
        kind = KINDS.get(name or "") or KINDS.get(f"rebound.events.v1.{name}")
        if kind is None:
            raise ConfigurationError(
                f"{path}: its records are {name}, not one of {', '.join(EVENT_RECORDS.values())}"
            )
        for number, record in enumerate(reader, start=1):
            if not isinstance(record, dict):
                yield number, "not a record"
                continue
            yield number, _through_codec(codec, kind, record)


def _timestamps(item: dict[str, Any]) -> str | None:
    """``occurred_at`` as ISO 8601 text with its zone -> a datetime (epoch milliseconds stay
    as they are); what is wrong with it, if anything."""
    raw = item.get("occurred_at")
    if isinstance(raw, str):
        try:
            at = datetime.fromisoformat(raw)
        except ValueError:
            return (
                f"occurred_at: {raw!r} is not an ISO 8601 time, e.g. 2026-11-19T14:00:00+01:00"
                " (or epoch milliseconds)"
            )
        if at.tzinfo is None:
            return f"occurred_at: {raw!r} has no time zone: add it (+01:00, or Z for UTC)"
        item["occurred_at"] = at
    return None


def _money(item: dict[str, Any]) -> str | None:
    """An amount with decimals where Rebound counts minor units (14.90 for 1490 cents)."""
    amounts = [("total", item.get("total"))]
    lines = item.get("lines")
    if isinstance(lines, list):
        amounts += [
            (f"lines[{i}].unit_price", line.get("unit_price"))
            for i, line in enumerate(lines)
            if isinstance(line, dict)
        ]
    for name, value in amounts:
        if isinstance(value, float):
            return (
                f"{name}: {value} is not in minor units: write {round(value * 100)} for"
                f" {value:.2f} (cents; the yen has none)"
            )
    return None


@dataclass(frozen=True, slots=True)
class Recorded:
    """An event of a recording as its topic holds it (Avro), and as it reads."""

    event: Event
    value: bytes
    headers: list[tuple[str, bytes]]


def _through_codec(codec: AvroCodec, kind: str, record: dict[str, Any]) -> Recorded | str:
    """The record as the topic holds it, or why it cannot be: encoded with the topic's
    schema, and read back (its time and customer, for the replay's order)."""
    name = EVENT_RECORDS[kind]
    try:
        value, headers = codec.encode(name, record, kind)
        event = event_from_record(kind, codec.decode(name, value, headers))
        return Recorded(event, value, list(headers))
    except (CodecError, InvalidEvent) as exc:  # encoding included: an unknown enum symbol
        return str(exc)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return f"not a valid {kind} record: {exc}"


def replay(
    engine: Engine,
    events: Iterable[tuple[int, Recorded | str]],
    profiles: dict[str, Profile] | None = None,
    days_after: float = 30.0,
    progress: bool = False,
    report: Callable[[int, str], None] | None = None,
    watch: Callable[[str, Event | TimerFired, float, list[Effect]], None] | None = None,
    catalog: dict[str, Product] | None = None,
) -> Prediction:
    """Run ``events`` through the worker's batch path in time order, firing the customers'
    timers on the way and for ``days_after`` days after the last event; ``watch`` sees every
    decision (customer, input, time, effects), e.g. ``streams.tools.replay_trace.CustomerTrace``;
    ``catalog`` gives the commands' products (none: commands carry no product)."""
    prediction = Prediction()
    ordered: list[tuple[float, int, Recorded]] = []
    for number, recorded in events:
        if isinstance(recorded, str):
            prediction.bad.append((number, recorded))
            if report is not None:
                report(number, recorded)
            continue
        ordered.append((recorded.event.occurred_at, number, recorded))
    ordered.sort(key=lambda item: (item[0], item[1]))
    prediction.events = len(ordered)
    if not ordered:
        return prediction
    prediction.first_event, prediction.last_event = ordered[0][0], ordered[-1][0]
    prediction.until = prediction.last_event + days_after * DAY_S
    prediction.customers = len({r.event.customer_id for _, _, r in ordered})
    read = len(prediction.bad)
    with tqdm(total=len(ordered), unit="event", desc="replay", disable=not progress) as bar:
        asyncio.run(_run(engine, ordered, profiles or {}, catalog or {}, prediction, watch, bar))
    if report is not None:  # the records the intake dead-lettered (e.g. an invalid field)
        for number, problem in prediction.bad[read:]:
            report(number, problem)
    prediction.bad.sort()
    return prediction


DUE_TOPIC, REPARTITION_TOPIC, DEAD_LETTER_TOPIC = "timers-due", "repartition", "dead-letters"


async def _run(
    engine: Engine,
    ordered: list[tuple[float, int, Recorded]],
    profiles: dict[str, Profile],
    products: dict[str, Product],
    prediction: Prediction,
    watch: Callable[[str, Event | TimerFired, float, list[Effect]], None] | None,
    bar: Any,
) -> None:
    """The worker's pipeline on memory ports and simulated time (``streams.app`` wires the
    same classes to Faust, Kafka and Redis)."""
    metrics = create_metrics(CollectorRegistry())
    codec = AvroCodec(logical_types=False)  # as the worker decodes
    sender = MemorySender(at_once=True, keep=frozenset({DUE_TOPIC, DEAD_LETTER_TOPIC}))
    store = MemoryStore()
    clock = SimulatedClock(ordered[0][0])
    kinds_by_topic = {kind: kind for kind in EVENT_RECORDS}
    kinds_by_topic[DUE_TOPIC] = "timer"
    kinds_by_topic[REPARTITION_TOPIC] = REPARTITION
    dead_letters = DeadLetters(sender, DEAD_LETTER_TOPIC, metrics)
    intake = Intake(kinds_by_topic, codec, dead_letters, max_future_s=0.0)
    command_topics = {channel: f"commands.{channel}" for channel in CHANNELS}
    commands = Commands(command_topics, codec, MemoryCatalog(products), MemoryLedger(), metrics)

    def observe(customer: Customer, now: float) -> None:
        customer_id = customer.key.decode()
        for event, effects in zip(customer.inputs, customer.effects, strict=True):
            _count(prediction, effects)
            if watch is not None:
                watch(customer_id, event, now, effects)

    processor = Processor(
        engine, intake, store, sender, REPARTITION_TOPIC, metrics, MemoryProfiles(profiles)
    )
    protocol = CommitProtocol(
        processor, commands, store, sender, TimerWheel(), DUE_TOPIC, metrics, clock=clock,
        watch=observe,
    )  # fmt: skip

    def records() -> Iterator[tuple[float, MemoryRecord]]:
        for at, number, recorded in ordered:
            event = recorded.event
            key = event.customer_id.encode()
            yield at, MemoryRecord(event.kind, 0, number, key, recorded.value, recorded.headers)
            bar.update()

    runtime = SimulatedRuntime(
        records(), clock, sender, DUE_TOPIC, protocol.next_due, prediction.until or 0.0
    )
    runtime.listen(protocol)
    quiet = logging.getLogger("streams.pipeline")
    level, quiet.level = quiet.level, logging.ERROR  # bad lines are reported, not logged
    try:
        await protocol.run(runtime)
    finally:
        quiet.setLevel(level)
    for dead in sender.take(DEAD_LETTER_TOPIC):
        headers = dict(dead.headers)
        number = int(headers[SOURCE_OFFSET])
        prediction.bad.append((number, headers[ERROR].decode(errors="replace")))
    prediction.funnel = funnel_of(metrics)
    prediction.waiting = sum(len(unpack_timers(v)[1]) for v in store.data.values())


def _count(prediction: Prediction, effects: list[Effect]) -> None:
    """The sends per day and the commands (the funnel is the worker's metrics')."""
    for effect in effects:
        if isinstance(effect, SendCommand):
            day = datetime.fromtimestamp(effect.created_at, tz=UTC).date().isoformat()
            prediction.sends[(day, effect.channel, effect.scenario_id, effect.step_id)] += 1
            prediction.commands.append(effect)
