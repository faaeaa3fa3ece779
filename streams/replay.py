"""``rebound replay``: a scenario folder run over recorded events on simulated time, to see
before going live what it would send.

No Kafka, no Redis: the profiles and the catalog's compatibility rules come from files (the
ones ``rebound profiles`` and ``rebound catalog`` load). The decisions are the worker's own:
each record goes through the topics' Avro codec (what the worker decodes is what is decided
on), then ``Engine.decide`` with the context the worker would give it, at the event's
``occurred_at``; the timers the customers' records hold fire in time order, across customers,
as the worker's timer wheel fires them. So the commands predicted are the worker's, with the
same ``command_id``s (``tests/integration/test_replay.py`` checks it against a worker).

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

import heapq
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastavro
from tqdm import tqdm

from streams.codecs import EVENT_RECORDS, AvroCodec, CodecError
from streams.engine import Engine, Event, InvalidEvent, TimerFired, event_from_record
from streams.engine.context import Profile
from streams.engine.effects import Effect, SendCommand
from streams.engine.experiments import CONTROL, GROUPS, TREATMENT
from streams.engine.state import CustomerState
from streams.exceptions import ConfigurationError
from streams.pipeline.funnel import Funnel

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


def read_events(path: Path, codec: AvroCodec | None = None) -> Iterator[tuple[int, Event | str]]:
    """(line or record number, the event or why it is skipped) of an event file."""
    codec = codec or AvroCodec()
    if path.suffix.lower() == ".avro":
        yield from _avro_events(path, codec)
    else:
        yield from _json_events(path, codec)


def _json_events(path: Path, codec: AvroCodec) -> Iterator[tuple[int, Event | str]]:
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


def _avro_events(path: Path, codec: AvroCodec) -> Iterator[tuple[int, Event | str]]:
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


def _through_codec(codec: AvroCodec, kind: str, record: dict[str, Any]) -> Event | str:
    """The event the worker would decide on: encoded and decoded with the topics' schema."""
    name = EVENT_RECORDS[kind]
    try:
        value, headers = codec.encode(name, record, kind)
        return event_from_record(kind, codec.decode(name, value, headers))
    except (CodecError, InvalidEvent) as exc:  # encoding included: an unknown enum symbol
        return str(exc)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return f"not a valid {kind} record: {exc}"


@dataclass(order=True)
class _Due:
    due_at: float
    customer_id: str
    instance_id: str
    version: int


def replay(
    engine: Engine,
    events: Iterable[tuple[int, Event | str]],
    profiles: dict[str, Profile] | None = None,
    days_after: float = 30.0,
    progress: bool = False,
    report: Callable[[int, str], None] | None = None,
    watch: Callable[[str, Event | TimerFired, float, list[Effect]], None] | None = None,
) -> Prediction:
    """Decide ``events`` in time order, firing the customers' timers on the way and for
    ``days_after`` days after the last event; ``watch`` sees every decision (customer, input,
    time, effects), e.g. ``streams.replay_trace.CustomerTrace``."""
    profiles = profiles or {}
    prediction = Prediction()
    ordered: list[tuple[float, int, Event]] = []
    for number, event in events:
        if isinstance(event, str):
            prediction.bad.append((number, event))
            if report is not None:
                report(number, event)
            continue
        ordered.append((event.occurred_at, number, event))
    ordered.sort(key=lambda item: (item[0], item[1]))
    prediction.events = len(ordered)
    if not ordered:
        return prediction
    prediction.first_event, prediction.last_event = ordered[0][0], ordered[-1][0]
    prediction.until = prediction.last_event + days_after * DAY_S
    states: dict[str, CustomerState] = {}
    timers: list[_Due] = []

    def decide(customer_id: str, event: Event | TimerFired, now: float) -> None:
        if isinstance(event, TimerFired) or engine.needs_profile(event):
            context = engine.context(profiles.get(customer_id))
        else:
            context = engine.unread
        before = states.get(customer_id)
        pending_before = before.pending_timers() if before is not None else {}
        state, effects = engine.decide(before, event, now, context)
        states[customer_id] = state
        for instance_id, (due_at, version) in state.pending_timers().items():
            if pending_before.get(instance_id) != [due_at, version]:
                heapq.heappush(timers, _Due(due_at, customer_id, instance_id, int(version)))
        _count(prediction, effects)
        if watch is not None:
            watch(customer_id, event, now, effects)

    def fire_until(end: float) -> None:
        while timers and timers[0].due_at <= end:
            due = heapq.heappop(timers)
            state = states[due.customer_id]
            if state.pending_timers().get(due.instance_id) != [due.due_at, due.version]:
                continue  # replaced or ended since it was scheduled
            fired = TimerFired(due.customer_id, due.instance_id, due.version, due.due_at)
            decide(due.customer_id, fired, due.due_at)

    with tqdm(total=len(ordered), unit="event", desc="replay", disable=not progress) as bar:
        for at, _, event in ordered:
            fire_until(at)
            decide(event.customer_id, event, at)
            bar.update()
    fire_until(prediction.until)
    prediction.customers = len(states)
    prediction.waiting = sum(len(s.pending_timers()) for s in states.values())
    return prediction


def _count(prediction: Prediction, effects: list[Effect]) -> None:
    prediction.funnel.count(effects)
    for effect in effects:
        if isinstance(effect, SendCommand):
            day = datetime.fromtimestamp(effect.created_at, tz=UTC).date().isoformat()
            prediction.sends[(day, effect.channel, effect.scenario_id, effect.step_id)] += 1
            prediction.commands.append(effect)


def summary(prediction: Prediction) -> list[str]:
    """The prediction as the terminal shows it."""
    p = prediction
    out = [
        f"replayed {p.events:,} events of {p.customers:,} customers"
        f" ({len(p.bad):,} bad lines skipped)"
        + (f", from {_day(p.first_event)} to {_day(p.last_event)}; timers run to {_day(p.until)}"
           if p.first_event is not None else "")
    ]  # fmt: skip
    channels = sorted({key[1] for key in p.sends})
    out += [
        "",
        "sends per day:",
        "  " + "  ".join([f"{'day':<10}", *(f"{c:>6}" for c in channels), " total"]),
    ]
    by_day: dict[str, Counter[str]] = {}
    for (day, channel, _, _), count in p.sends.items():
        by_day.setdefault(day, Counter())[channel] += count
    for day in sorted(by_day):
        cells = [f"{by_day[day][c]:>6}" for c in channels]
        out.append("  " + "  ".join([day, *cells, f"{sum(by_day[day].values()):>6}"]))
    total = Counter[str]()
    for (_, channel, _, _), count in p.sends.items():
        total[channel] += count
    out.append(
        "  "
        + "  ".join(
            [f"{'total':<10}", *(f"{total[c]:>6}" for c in channels), f"{sum(total.values()):>6}"]
        )
    )
    out += ["", "sends per scenario and step:"]
    per_step: Counter[tuple[str, str, str]] = Counter()
    for (_, channel, scenario, step), count in p.sends.items():
        per_step[(scenario, step, channel)] += count
    out += [f"  {s:<28} {st:<20} {c:<6} {n:>7}" for (s, st, c), n in sorted(per_step.items())]
    counts = p.funnel.counts
    out += ["", "instances (treatment / control: held out), converted, revenue:"]
    for scenario in sorted({key[0] for key in counts["started"]}):
        started = {g: counts["started"][(scenario, g)] for g in GROUPS}
        converted = {
            g: sum(n for k, n in counts["converted"].items() if k[:2] == (scenario, g))
            for g in GROUPS
        }
        ended = ", ".join(
            f"{r} {n}" for (s, r), n in sorted(counts["ended"].items()) if s == scenario
        )
        revenue = ", ".join(
            f"{n:,} {k[4]}" for k, n in sorted(counts["revenue"].items()) if k[0] == scenario
        )
        out.append(
            f"  {scenario:<28} started {started[TREATMENT]:>6} / {started[CONTROL]:>5};"
            f" converted {converted[TREATMENT]} / {converted[CONTROL]};"
            f" ended: {ended or 'none'}; revenue (minor units): {revenue or 'none'}"
        )
    out += ["", "deferred (a step waited for the next allowed moment):"]
    out += [
        f"  {s:<28} {st:<20} {v or '-':<8} {r:<12} {n:>7}"
        for (s, st, v, r), n in sorted(counts["deferred"].items())
    ] or ["  none"]
    out += ["", "suppressed (a step due sent nothing):"]
    out += [
        f"  {s:<28} {st:<20} {v or '-':<8} {r:<20} {n:>7}"
        for (s, st, v, r), n in sorted(counts["dropped"].items())
    ] or ["  none"]
    out += ["", f"timers still waiting at the end: {p.waiting:,}"]
    return out


def _day(at: float | None) -> str:
    return "-" if at is None else datetime.fromtimestamp(at, tz=UTC).date().isoformat()
