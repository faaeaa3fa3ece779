"""A batch's counts, added to the metrics once at its end (a labelled Prometheus increment
costs microseconds: per event, it showed in profiles)."""

from __future__ import annotations

from collections import Counter, defaultdict

from streams.engine.effects import (
    Effect,
    ExitInstance,
    RecordConversion,
    StartInstance,
    StepDeferred,
    StepDropped,
)
from streams.metrics import Metrics


class Tally:
    __slots__ = (
        "conversions",
        "deferred",
        "dropped",
        "ended",
        "kinds",
        "lateness",
        "revenue",
        "started",
    )

    def __init__(self) -> None:
        self.kinds: list[str] = []
        """The kind of each event handled (counted at the end: Counter counts in C)."""
        self.lateness: list[float] = []
        self.started: Counter[str] = Counter()
        self.ended: Counter[tuple[str, str]] = Counter()
        self.conversions: Counter[str] = Counter()
        self.revenue: defaultdict[tuple[str, str], float] = defaultdict(float)
        self.dropped: Counter[tuple[str, str]] = Counter()
        self.deferred: Counter[tuple[str, str]] = Counter()

    def count(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, StartInstance):
                self.started[effect.scenario_id] += 1
            elif isinstance(effect, ExitInstance):
                self.ended[(effect.scenario_id, effect.reason)] += 1
            elif isinstance(effect, RecordConversion):
                self.conversions[effect.scenario_id] += 1
                self.revenue[(effect.scenario_id, effect.currency)] += effect.revenue / 100
            elif isinstance(effect, StepDropped):
                self.dropped[(effect.scenario_id, effect.reason)] += 1
            elif isinstance(effect, StepDeferred):
                for reason in effect.reasons:
                    self.deferred[(effect.scenario_id, reason)] += 1

    def report(self, metrics: Metrics) -> None:
        for kind, count in Counter(self.kinds).items():
            metrics.events.labels(kind).inc(count)
        for seconds in self.lateness:
            metrics.timer_lateness.observe(seconds)
        for scenario, count in self.started.items():
            metrics.instances_started.labels(scenario).inc(count)
        for (scenario, reason), count in self.ended.items():
            metrics.instances_ended.labels(scenario, reason).inc(count)
        for scenario, count in self.conversions.items():
            metrics.conversions.labels(scenario).inc(count)
        for (scenario, currency), amount in self.revenue.items():
            metrics.conversion_revenue.labels(scenario, currency).inc(amount)
        for (scenario, reason), count in self.dropped.items():
            metrics.steps_dropped.labels(scenario, reason).inc(count)
        for (scenario, reason), count in self.deferred.items():
            metrics.steps_deferred.labels(scenario, reason).inc(count)
