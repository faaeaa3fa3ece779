"""Every Prometheus metric of the worker, declared in one place.

Label values that are known at start are initialised, so their series exist at 0 before the
first event. No label carries personal data: no customer id, no order id, no address.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

from streams.engine.context import EXPIRED, NO_APP, NO_CONSENT, NOTHING_TO_RECOMMEND
from streams.settings import CHANNELS, EVENT_KINDS

DEAD_LETTER_STAGES = ("decode", "validate", "handle", "command", "store")
"""decode, validate: the record; handle: deciding on it; command: building the commands it
led to; store: its customer's record would be too large."""


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
    commands_suppressed: Counter
    """Send commands not published again because the ledger had their id."""
    catalog_misses: Counter
    """Recommended SKUs the catalog did not know (left out of the command)."""
    catalog_incomplete: Counter
    """Catalog entries lacking a field a recommendation needs (left out) or a link (sent
    empty); the log names the SKU."""
    repartitioned: Counter
    """Events not keyed by their customer_id, sent through the repartition topic, by kind."""
    outbox_republished: Counter
    """Commands published again from customers' outboxes after a recovery (a crash had
    left them unacknowledged)."""
    instances_started: Counter
    instances_ended: Counter
    """By scenario and reason: completed, purchased, scenario_removed."""
    conversions: Counter
    conversion_revenue: Counter
    """In major units of the currency (e.g. euros)."""
    timers_fired: Counter
    """Due timers published back into the stream."""
    timers_pending: Gauge
    """Timers pending in this worker's schedules (its active partitions)."""
    timer_lateness: Histogram
    """How late a timer is handled, from its due time to its handling."""
    batch_size: Histogram
    """Records per batch handled by the intake agent."""
    steps_dropped: Counter
    steps_deferred: Counter
    profile_reads: Counter
    profiles_invalid: Counter


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
        commands_suppressed=Counter(
            "rebound_commands_suppressed",
            "Commands already in the ledger, not published again.",
            registry=registry,
        ),
        catalog_misses=Counter(
            "rebound_catalog_misses",
            "Recommended SKUs missing from the catalog.",
            registry=registry,
        ),
        catalog_incomplete=Counter(
            "rebound_catalog_incomplete",
            "Catalog entries lacking a field (the log names the SKU).",
            registry=registry,
        ),
        repartitioned=Counter(
            "rebound_events_repartitioned",
            "Events keyed otherwise than by customer_id, repartitioned.",
            ["kind"],
            registry=registry,
        ),
        outbox_republished=Counter(
            "rebound_outbox_republished",
            "Commands published again from outboxes after a recovery.",
            registry=registry,
        ),
        instances_started=Counter(
            "rebound_instances_started",
            "Scenario instances started.",
            ["scenario"],
            registry=registry,
        ),
        instances_ended=Counter(
            "rebound_instances_ended",
            "Scenario instances ended.",
            ["scenario", "reason"],
            registry=registry,
        ),
        conversions=Counter(
            "rebound_conversions",
            "Purchases of a recommended product within the window.",
            ["scenario"],
            registry=registry,
        ),
        conversion_revenue=Counter(
            "rebound_conversion_revenue",
            "Revenue of conversions, in major currency units.",
            ["scenario", "currency"],
            registry=registry,
        ),
        timers_fired=Counter(
            "rebound_timers_fired",
            "Due timers fed back into the stream (stale ones too: the engine ignores those).",
            registry=registry,
        ),
        timers_pending=Gauge(
            "rebound_timers_pending",
            "Timers pending in this worker's active partitions.",
            registry=registry,
        ),
        timer_lateness=Histogram(
            "rebound_timer_lateness_seconds",
            "From a timer's due time to its handling.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
            registry=registry,
        ),
        steps_dropped=Counter(
            "rebound_steps_dropped",
            "Steps due to send that sent nothing: suppressed (no_consent, no_app,"
            " nothing_to_recommend) or expired (deferred past the scenario's expiry).",
            ["scenario", "reason"],
            registry=registry,
        ),
        steps_deferred=Counter(
            "rebound_steps_deferred",
            "Steps deferred to the next allowed moment, per reason (quiet_hours, day_off,"
            " holiday, cap, spacing).",
            ["scenario", "reason"],
            registry=registry,
        ),
        profile_reads=Counter(
            "rebound_profile_reads",
            "Customer profiles looked up, by where they came from (cache, redis) and whether"
            " the customer has one (found, absent: the defaults apply).",
            ["source", "result"],
            registry=registry,
        ),
        profiles_invalid=Counter(
            "rebound_profile_invalid_fields",
            "Profile fields with a value Rebound cannot use (ignored: the default applies;"
            " the log names the customer id and the field).",
            registry=registry,
        ),
        batch_size=Histogram(
            "rebound_batch_records",
            "Records in each batch the intake agent handles (one fetch).",
            buckets=(1, 10, 100, 500, 1000, 2000, 5000, 10000),
            registry=registry,
        ),
    )
    for kind in EVENT_KINDS:
        metrics.events.labels(kind)
        metrics.repartitioned.labels(kind)
        for stage in DEAD_LETTER_STAGES:
            metrics.dead_letters.labels(kind, stage)
    for channel in CHANNELS:
        metrics.commands.labels(channel)
    metrics.build.info({"version": version})
    return metrics


def init_scenario_labels(metrics: Metrics, scenario_ids: Iterable[str]) -> None:
    """Create the per-scenario series at 0, so dashboards see every scenario from the start."""
    for scenario in scenario_ids:
        metrics.instances_started.labels(scenario)
        metrics.conversions.labels(scenario)
        for reason in ("completed", "purchased", "unsubscribed", "scenario_removed"):
            metrics.instances_ended.labels(scenario, reason)
        for reason in (NO_CONSENT, NO_APP, NOTHING_TO_RECOMMEND, EXPIRED):
            metrics.steps_dropped.labels(scenario, reason)
