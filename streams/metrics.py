"""Every Prometheus metric of the worker, declared in one place.

Label values that are known at start are initialised, so their series exist at 0 before the
first event. No label carries personal data: no customer id, no order id, no address.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from streams.engine.context import (
    CAP,
    DAY_OFF,
    EXPIRED,
    HOLIDAY,
    NO_APP,
    NO_CONSENT,
    NOTHING_TO_RECOMMEND,
    QUIET_HOURS,
    SPACING,
)
from streams.engine.decide import PREVIOUS_NOT_SENT
from streams.engine.experiments import GROUPS
from streams.engine.scenario import Scenario
from streams.settings import CHANNELS, EVENT_KINDS

FUNNEL_METRICS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "started": (
        "rebound_instances_started",
        "Scenario instances started, per group (treatment, or control: held out, silent).",
        ("scenario", "group"),
    ),
    "ended": (
        "rebound_instances_ended",
        "Scenario instances ended (completed, purchased, unsubscribed, scenario_removed).",
        ("scenario", "reason"),
    ),
    "sent": (
        "rebound_steps_sent",
        "Send commands the broker acknowledged, per step, variant and channel.",
        ("scenario", "step", "variant", "channel"),
    ),
    "held_out": (
        "rebound_steps_held_out",
        "Steps of held-out (control) instances that ran silently: what would have been sent.",
        ("scenario", "step"),
    ),
    "dropped": (
        "rebound_steps_dropped",
        "Steps due to send that sent nothing: suppressed (no_consent, no_app,"
        " nothing_to_recommend) or expired (deferred past the scenario's expiry).",
        ("scenario", "step", "variant", "reason"),
    ),
    "deferred": (
        "rebound_steps_deferred",
        "Steps deferred to the next allowed moment, per reason (quiet_hours, day_off,"
        " holiday, cap, spacing).",
        ("scenario", "step", "variant", "reason"),
    ),
    "opened": (
        "rebound_messages_opened",
        "Messages opened (the first open of each), by the step and variant that sent them.",
        ("scenario", "step", "variant", "channel"),
    ),
    "clicked": (
        "rebound_messages_clicked",
        "Messages clicked (the first click of each), by the step and variant that sent them.",
        ("scenario", "step", "variant", "channel"),
    ),
    "converted": (
        "rebound_instances_converted",
        "Instances with a purchase of a recommended product in the attribution window, once"
        " each, by group and by the last step and variant before the purchase.",
        ("scenario", "group", "step", "variant"),
    ),
    "conversions": (
        "rebound_conversions",
        "Orders holding a recommended product in the attribution window (converting orders).",
        ("scenario", "group", "step", "variant", "currency"),
    ),
    "revenue": (
        "rebound_conversion_revenue_minor_units",
        "The recommended products bought in converting orders, in the currency's minor units"
        " (cents; the yen has none).",
        ("scenario", "group", "step", "variant", "currency"),
    ),
    "basket": (
        "rebound_conversion_basket_minor_units",
        "The totals of converting orders, in the currency's minor units: over"
        " rebound_conversions_total, the average basket.",
        ("scenario", "group", "step", "variant", "currency"),
    ),
}
"""The funnel of each scenario, step, variant and group: field of
``streams.pipeline.funnel.Funnel`` -> (metric name without ``_total``, help, labels). The
worker exports these, the replay counts the same fields, and ``rebound report`` reads either.
Labels are bounded: scenarios, steps, variants, channels, reasons, currencies; never a
customer or an order."""
EXIT_REASONS = (
    "completed",
    "purchased",
    "purchased_any",
    "purchased_category",
    "purchased_sku",
    "clicked",
    "condition",
    "unsubscribed",
    "scenario_removed",
)
"""Why an instance ends: its steps done, a purchase (of a recommended product, anything, a
category, SKUs), a click, its condition (``otherwise: end``), the customer unsubscribed, or
its scenario retired."""
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
    funnel: dict[str, Counter]
    """``FUNNEL_METRICS``, by funnel field."""
    timers_fired: Counter
    """Due timers published back into the stream."""
    timers_pending: Gauge
    """Timers pending in this worker's schedules (its active partitions)."""
    timer_lateness: Histogram
    """How late a timer is handled, from its due time to its handling."""
    batch_size: Histogram
    """Records per batch handled by the intake agent."""
    profile_reads: Counter
    profiles_invalid: Counter
    rebalances: Counter
    """Consumer group rebalances this worker took part in."""
    rebalance_duration: Histogram
    """From a rebalance's start to its end, the recovery of the partitions that came
    included."""
    restored_records: Counter
    """Changelog records the store restored a fetch at a time (partitions newly given)."""
    restore_duration: Histogram
    """A restore of the partitions a rebalance gave, from its start to its last write."""
    commit_duration: Histogram
    """Faust's commit: the producer flushed (commands, changelog), then the offsets."""
    batch_duration: Histogram
    """A fetched batch through the commit protocol, from its intake to its acknowledgement."""
    command_latency: Histogram
    """From the moment a step was due (the event's own time, for a step sent at once) to
    the broker's acknowledgement of its command."""
    producer_errors: Counter
    """Records the broker refused after the producer's retries, by topic (the worker
    stops)."""
    redis_duration: Histogram
    """Redis calls that answered, by operation."""


LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)


def create_metrics(registry: CollectorRegistry | None = None, version: str = "") -> Metrics:
    """Declare the metrics in ``registry`` (a fresh one by default) and initialise known
    labels; a fresh registry also gets prometheus_client's process, platform and garbage
    collector metrics (``process_*``, ``python_*``)."""
    if registry is None:
        registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
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
        funnel={
            field: Counter(name, doc, list(labels), registry=registry)
            for field, (name, doc, labels) in FUNNEL_METRICS.items()
        },
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
        rebalances=Counter(
            "rebound_rebalances", "Consumer group rebalances of this worker.", registry=registry
        ),
        rebalance_duration=Histogram(
            "rebound_rebalance_duration_seconds",
            "From a rebalance's start to its end, recovery included.",
            buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
            registry=registry,
        ),
        restored_records=Counter(
            "rebound_restored_records",
            "Changelog records restored into the store a fetch at a time.",
            registry=registry,
        ),
        restore_duration=Histogram(
            "rebound_restore_duration_seconds",
            "A restore of the partitions a rebalance gave, start to last write.",
            buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
            registry=registry,
        ),
        commit_duration=Histogram(
            "rebound_commit_duration_seconds",
            "Faust's commit: the producer flushed, then the offsets committed.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        batch_duration=Histogram(
            "rebound_batch_duration_seconds",
            "A fetched batch through the commit protocol.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        command_latency=Histogram(
            "rebound_command_latency_seconds",
            "From a step's due time (the event's time, for a step at once) to the broker's"
            " acknowledgement of its command.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        ),
        producer_errors=Counter(
            "rebound_producer_errors",
            "Records the broker refused after the producer's retries (the worker stops).",
            ["topic"],
            registry=registry,
        ),
        redis_duration=Histogram(
            "rebound_redis_command_duration_seconds",
            "Redis calls that answered, by operation.",
            ["operation"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
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


def init_scenario_labels(metrics: Metrics, scenarios: Iterable[Scenario]) -> None:
    """Create the per-scenario series at 0, so dashboards and rates see every scenario,
    group, step and variant from the start (a series that appears later shows no increase
    over its first value in PromQL's ``rate``)."""
    funnel = metrics.funnel
    for scenario in scenarios:
        sid = scenario.id
        for group in GROUPS:
            funnel["started"].labels(sid, group)
        for reason in EXIT_REASONS:
            funnel["ended"].labels(sid, reason)
        for step in scenario.steps:
            funnel["held_out"].labels(sid, step.id)
            for variant in [v.name for v in step.variants] or [""]:
                for group in GROUPS:
                    funnel["converted"].labels(sid, group, step.id, variant)
                for channel in step.channels:
                    for name in ("sent", "opened", "clicked"):
                        funnel[name].labels(sid, step.id, variant, channel)
                for reason in (
                    NO_CONSENT,
                    NO_APP,
                    NOTHING_TO_RECOMMEND,
                    EXPIRED,
                    PREVIOUS_NOT_SENT,
                ):
                    funnel["dropped"].labels(sid, step.id, variant, reason)
                for reason in (QUIET_HOURS, DAY_OFF, HOLIDAY, CAP, SPACING):
                    funnel["deferred"].labels(sid, step.id, variant, reason)


@dataclass
class WorkerState:
    """What a running worker knows of its partitions when Prometheus scrapes it."""

    consumed: dict[tuple[str, int], tuple[int | None, int | None]] = field(default_factory=dict)
    """(topic, partition) -> (high watermark, committed offset), for the partitions it
    consumes (None: not known yet)."""
    restoring: dict[tuple[str, int, str], tuple[int, int]] = field(default_factory=dict)
    """(changelog topic, partition, active or standby) -> (last offset applied, last offset
    of the changelog when the recovery began)."""
    ready: bool = False


class WorkerCollector(Collector):
    """The lag, the committed offsets and the restore progress of the partitions a worker
    holds, read when Prometheus scrapes (``state`` comes from the edge), and whether it is
    ready. Labels: topic, partition (bounded by the partition count), replica."""

    def __init__(self, state: Callable[[], WorkerState]) -> None:
        self._state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        state = self._state()
        lag = GaugeMetricFamily(
            "rebound_consumer_lag_records",
            "Records on a partition this worker consumes that its committed offset has not"
            " passed: the high watermark minus the committed offset.",
            labels=["topic", "partition"],
        )
        committed = GaugeMetricFamily(
            "rebound_consumer_committed_offset",
            "The offset this worker last committed on a partition (progress: a stalled"
            " partition's stays still).",
            labels=["topic", "partition"],
        )
        for (topic, partition), (high, done) in sorted(state.consumed.items()):
            labels = [topic, str(partition)]
            if done is not None:
                committed.add_metric(labels, done)
            if high is not None:
                lag.add_metric(labels, max(0, high - (done or 0)))
        remaining = GaugeMetricFamily(
            "rebound_restore_remaining_records",
            "Changelog records left to restore into a table partition (0 once restored).",
            labels=["topic", "partition", "replica"],
        )
        restored = GaugeMetricFamily(
            "rebound_restore_offset",
            "The last changelog offset restored into a table partition.",
            labels=["topic", "partition", "replica"],
        )
        for (topic, partition, replica), (offset, last) in sorted(state.restoring.items()):
            labels = [topic, str(partition), replica]
            restored.add_metric(labels, offset)
            remaining.add_metric(labels, max(0, last - offset))
        ready = GaugeMetricFamily(
            "rebound_ready", "1 when the worker runs with its tables recovered, else 0."
        )
        ready.add_metric([], 1 if state.ready else 0)
        yield from (lag, committed, remaining, restored, ready)

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())
