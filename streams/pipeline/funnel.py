"""The funnel of each scenario, step, variant and group, counted from the engine's effects:
the same counts in the worker (its metrics, ``streams.metrics.FUNNEL_METRICS``) and in the
replay (its prediction), which ``rebound report`` reads either way."""

from __future__ import annotations

from collections import Counter
from typing import Any

from streams.engine.effects import (
    Effect,
    Engaged,
    ExitInstance,
    RecordConversion,
    StartInstance,
    StepDeferred,
    StepDropped,
    StepHeldOut,
)
from streams.metrics import FUNNEL_METRICS, Metrics


class Funnel:
    """A counter per ``FUNNEL_METRICS`` field, keyed by its labels' values in order."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: dict[str, Counter[tuple[str, ...]]] = {f: Counter() for f in FUNNEL_METRICS}

    def count(self, effects: list[Effect]) -> None:
        """Count ``effects``. Commands are not counted here: ``sent`` counts a command once
        the broker has acknowledged it (``streams.pipeline.commands``)."""
        c = self.counts
        for e in effects:
            if isinstance(e, Engaged):
                c[e.kind][(e.scenario_id, e.step_id, e.variant, e.channel)] += 1
            elif isinstance(e, StartInstance):
                c["started"][(e.scenario_id, e.group)] += 1
            elif isinstance(e, ExitInstance):
                c["ended"][(e.scenario_id, e.reason)] += 1
            elif isinstance(e, StepHeldOut):
                c["held_out"][(e.scenario_id, e.step_id)] += 1
            elif isinstance(e, StepDropped):
                c["dropped"][(e.scenario_id, e.step_id, e.variant, e.reason)] += 1
            elif isinstance(e, StepDeferred):
                for reason in e.reasons:
                    c["deferred"][(e.scenario_id, e.step_id, e.variant, reason)] += 1
            elif isinstance(e, RecordConversion):
                attributed = (e.scenario_id, e.group, e.step_id, e.variant)
                if e.first:
                    c["converted"][attributed] += 1
                money = (*attributed, e.currency)
                c["conversions"][money] += 1
                c["revenue"][money] += e.revenue
                c["basket"][money] += e.basket

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        """field -> [{label: value, ..., "value": count}], as ``rebound report`` reads them
        (from a replay, or from Prometheus)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for field, counter in self.counts.items():
            labels = FUNNEL_METRICS[field][2]
            out[field] = [
                {**dict(zip(labels, key, strict=True)), "value": value}
                for key, value in sorted(counter.items())
            ]
        return out


def funnel_of(metrics: Metrics) -> Funnel:
    """The funnel counted so far in ``metrics`` (what the worker exports), zeros left out."""
    funnel = Funnel()
    for field, counter in metrics.funnel.items():
        labels = FUNNEL_METRICS[field][2]
        for family in counter.collect():
            for sample in family.samples:
                if sample.name.endswith("_total") and sample.value:
                    key = tuple(sample.labels[name] for name in labels)
                    funnel.counts[field][key] += int(sample.value)
    return funnel
