"""Every Prometheus metric of the worker, declared in one place.

Label values that are known at start are initialised, so their series exist at 0 before the
first event. No label carries personal data: no customer id, no order id, no address.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

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
        for reason in ("completed", "purchased", "unsubscribed", "scenario_removed"):
            funnel["ended"].labels(sid, reason)
        for step in scenario.steps:
            funnel["held_out"].labels(sid, step.id)
            for variant in [v.name for v in step.variants] or [""]:
                for group in GROUPS:
                    funnel["converted"].labels(sid, group, step.id, variant)
                for channel in step.channels:
                    for field in ("sent", "opened", "clicked"):
                        funnel[field].labels(sid, step.id, variant, channel)
                for reason in (NO_CONSENT, NO_APP, NOTHING_TO_RECOMMEND, EXPIRED):
                    funnel["dropped"].labels(sid, step.id, variant, reason)
                for reason in (QUIET_HOURS, DAY_OFF, HOLIDAY, CAP, SPACING):
                    funnel["deferred"].labels(sid, step.id, variant, reason)
