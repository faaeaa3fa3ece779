"""A batch's counts, added to the metrics once at its end (a labelled Prometheus increment
costs microseconds: per event, it showed in profiles)."""

from __future__ import annotations

from collections import Counter

from streams.engine.effects import Effect
from streams.metrics import Metrics
from streams.pipeline.funnel import Funnel


class Tally:
    __slots__ = ("funnel", "kinds", "lateness")

    def __init__(self) -> None:
        self.kinds: list[str] = []
        """The kind of each event handled (counted at the end: Counter counts in C)."""
        self.lateness: list[float] = []
        self.funnel = Funnel()

    def count(self, effects: list[Effect]) -> None:
        """The funnel's counts of ``effects``; their commands count once the broker has them
        (``streams.pipeline.commands``)."""
        self.funnel.count(effects)

    def report(self, metrics: Metrics) -> None:
        for kind, count in Counter(self.kinds).items():
            metrics.events.labels(kind).inc(count)
        for seconds in self.lateness:
            metrics.timer_lateness.observe(seconds)
        for field, counter in self.funnel.counts.items():
            if counter:
                metric = metrics.funnel[field]
                for labels, value in counter.items():
                    metric.labels(*labels).inc(value)
