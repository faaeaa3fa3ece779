"""Every Prometheus metric of the worker, declared in one place.

Label values that are known at start are initialised, so their series exist at 0 before the
first event. No label carries personal data: no customer id, no order id, no address.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Info

from streams.settings import CHANNELS, EVENT_KINDS

DEAD_LETTER_STAGES = ("decode", "validate", "handle")


@dataclass(frozen=True)
class Metrics:
    """The worker's metrics; build them with ``create_metrics``."""

    registry: CollectorRegistry
    events: Counter
    """Events decoded and handled, by kind."""
    dead_letters: Counter
    """Records sent to the dead-letter topic, by kind of source topic and failing stage."""
    commands: Counter
    """Send commands published, by channel."""
    redis_up: Gauge
    """1 when the last Redis check answered, else 0."""
    build: Info


def create_metrics(registry: CollectorRegistry | None = None, version: str = "") -> Metrics:
    """Declare the metrics in ``registry`` (a fresh one by default) and initialise known labels."""
    registry = registry if registry is not None else CollectorRegistry()
    metrics = Metrics(
        registry=registry,
        events=Counter(
            "rebound_events", "Events decoded and handled.", ["kind"], registry=registry
        ),
        dead_letters=Counter(
            "rebound_dead_letters",
            "Records sent to the dead-letter topic.",
            ["kind", "stage"],
            registry=registry,
        ),
        commands=Counter(
            "rebound_commands", "Send commands published.", ["channel"], registry=registry
        ),
        redis_up=Gauge(
            "rebound_redis_up", "1 when Redis answered the last check.", registry=registry
        ),
        build=Info("rebound_build", "Version of the running worker.", registry=registry),
    )
    for kind in EVENT_KINDS:
        metrics.events.labels(kind)
        for stage in DEAD_LETTER_STAGES:
            metrics.dead_letters.labels(kind, stage)
    for channel in CHANNELS:
        metrics.commands.labels(channel)
    metrics.build.info({"version": version})
    return metrics
