"""``rebound replay --customer ID``: every decision the replay took for one customer, in time
order, a line each: when (UTC and the customer's local time), the input, and what it decided
(an instance started, a message sent with its step, variant, channel and ``command_id``, a
step deferred or dropped and why, a conversion, an exit). The command ids are the ones the
worker would publish, so opens and clicks can be written into a test recording from them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from streams.engine import Engine, Event, TimerFired
from streams.engine.context import Profile
from streams.engine.effects import (
    AdvanceInstance,
    Effect,
    Engaged,
    ExitInstance,
    RecordConversion,
    SendCommand,
    StartInstance,
    StepDeferred,
    StepDropped,
    StepHeldOut,
)
from streams.engine.events import Click, Consent, Delivery, Open, Order


class CustomerTrace:
    """A ``watch`` for ``streams.tools.simulation.replay`` that keeps one customer's decisions."""

    def __init__(self, customer_id: str, engine: Engine, profile: Profile | None) -> None:
        self.customer_id = customer_id
        self.lines: list[str] = []
        timezones = {s.id: s.timezone for s in [*engine.scenarios, *engine.retained]}
        context = engine.context(profile)
        self._zone = {sid: context.zone_name(tz) for sid, tz in timezones.items()}
        self._default_zone = context.zone_name("UTC")

    def __call__(
        self, customer_id: str, event: Event | TimerFired, now: float, effects: list[Effect]
    ) -> None:
        if customer_id != self.customer_id:
            return
        told = _told(effects)
        if not told:
            return
        scenario = next((e.scenario_id for e in effects if hasattr(e, "scenario_id")), "")
        zone = self._zone.get(scenario, self._default_zone)
        local = datetime.fromtimestamp(now, tz=ZoneInfo(zone)).strftime("%H:%M")
        when = datetime.fromtimestamp(now, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
        self.lines.append(f"{when}  {local} {zone}  {_input(event)}")
        self.lines += [f"    {line}" for line in told]


def _input(event: Event | TimerFired) -> str:
    if isinstance(event, TimerFired):
        return f"timer of {event.instance_id}"
    if isinstance(event, Order):
        return f"order {event.order_id} ({', '.join(line.sku for line in event.lines)})"
    if isinstance(event, Delivery):
        return f"delivery of {event.order_id}"
    if isinstance(event, Open | Click):
        return f"{event.kind} of command {event.command_id}"
    if isinstance(event, Consent):
        granted = "granted" if event.granted else "withdrawn"
        return f"consent {granted} on {event.channel or 'every channel'}"
    return event.kind


def _told(effects: list[Effect]) -> list[str]:
    held = {(e.instance_id, e.step_id) for e in effects if isinstance(e, StepHeldOut)}
    out = []
    for e in effects:
        if isinstance(e, StartInstance):
            out.append(f"started {e.scenario_id} v{e.version} ({e.group})")
        elif isinstance(e, SendCommand):
            waited = ""
            if e.deferred_from is not None:
                since = datetime.fromtimestamp(e.deferred_from, tz=UTC).strftime("%m-%d %H:%M")
                waited = f", deferred since {since} UTC ({', '.join(e.deferral_reasons)})"
            out.append(
                f"sent {e.scenario_id}/{e.step_id} variant {e.variant or '-'} by {e.channel}:"
                f" command {e.command_id} ({', '.join(e.recommendations) or 'no product'})"
                f"{waited}"
            )
        elif isinstance(e, StepHeldOut):
            out.append(f"held out {e.scenario_id}/{e.step_id}: control group, nothing sent")
        elif isinstance(e, StepDeferred):
            until = datetime.fromtimestamp(e.until, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
            out.append(f"deferred {e.scenario_id}/{e.step_id} to {until} ({', '.join(e.reasons)})")
        elif isinstance(e, StepDropped):
            out.append(f"dropped {e.scenario_id}/{e.step_id}: {e.reason}")
        elif isinstance(e, AdvanceInstance) and not e.sent:
            if (e.instance_id, e.step_id) not in held:
                out.append(f"skipped {e.instance_id}/{e.step_id}: its condition did not hold")
        elif isinstance(e, Engaged):
            out.append(f"{e.kind} {e.scenario_id}/{e.step_id} variant {e.variant or '-'}")
        elif isinstance(e, RecordConversion):
            out.append(
                f"conversion {e.scenario_id} ({e.group}) after {e.step_id or '-'}:"
                f" {e.revenue} {e.currency} of recommended products, basket {e.basket}"
            )
        elif isinstance(e, ExitInstance):
            out.append(f"ended {e.instance_id}: {e.reason}")
    return out
