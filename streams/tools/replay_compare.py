"""``rebound replay EVENTS --compare OLD_FOLDER``: the same history through two scenario
folders (the one in production, the one about to ship), and what the change does, per
scenario, step and day: the sends it adds, removes and moves, and the deferrals and drops
(pressure, quiet hours, consent, expiry) it changes.

A send is the same in both when it is for the same customer, scenario, order and step (the
version aside: a changed scenario gets a new version number); it moves when its day
changes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from streams.engine.effects import SendCommand
from streams.tools.simulation import Prediction

SendKey = tuple[str, str, str, str]


def _sends(prediction: Prediction) -> dict[SendKey, str]:
    """(customer, scenario, order, step) -> the UTC day it is sent."""
    return {
        (c.customer_id, c.scenario_id, c.order_id, c.step_id): _day(c) for c in prediction.commands
    }


def _day(command: SendCommand) -> str:
    return datetime.fromtimestamp(command.created_at, tz=UTC).date().isoformat()


def compare(old: Prediction, new: Prediction) -> list[str]:
    """The lines ``rebound replay --compare`` prints."""
    before, after = _sends(old), _sends(new)
    added: Counter[tuple[str, str, str]] = Counter()
    removed: Counter[tuple[str, str, str]] = Counter()
    moved: Counter[tuple[str, str, str, str]] = Counter()
    for key, day in after.items():
        if key not in before:
            added[(key[1], key[3], day)] += 1
        elif before[key] != day:
            moved[(key[1], key[3], before[key], day)] += 1
    for key, day in before.items():
        if key not in after:
            removed[(key[1], key[3], day)] += 1
    out = [
        f"what the new folder changes: {sum(added.values())} sends added, "
        f"{sum(removed.values())} removed, {sum(moved.values())} moved "
        f"({len(before)} before, {len(after)} after)"
    ]
    rows = [(s, st, f"{day}  +{n}") for (s, st, day), n in added.items()]
    rows += [(s, st, f"{day}  -{n}") for (s, st, day), n in removed.items()]
    rows += [(s, st, f"{a} -> {b}  {n} moved") for (s, st, a, b), n in moved.items()]
    out += [f"  {s:<28} {st:<20} {text}" for s, st, text in sorted(rows)] or ["  no send changes"]
    for field, title in (("deferred", "deferrals"), ("dropped", "drops")):
        old_counts, new_counts = old.funnel.counts[field], new.funnel.counts[field]
        changes = [
            (key, new_counts[key] - old_counts[key])
            for key in sorted(set(old_counts) | set(new_counts))
            if new_counts[key] != old_counts[key]
        ]
        out += ["", f"{title} ({field}, by scenario, step, variant, reason):"]
        out += [
            f"  {s:<28} {st:<20} {v or '-':<8} {r:<20} {d:+d}" for (s, st, v, r), d in changes
        ] or ["  no change"]
    return out
