"""Every topic Rebound reads, writes or owns, derived from the settings.

The worker and the ``rebound topics`` command both read this list, so the two cannot disagree
on a name, a partition count or a cleanup policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from streams.settings import Settings

CUSTOMERS_TABLE = "customers"
DUE_TIMERS_TOPIC = "timers-due"
REPARTITION_TOPIC = "repartition"
SCENARIOS_TOPIC = "scenarios"
LEADER_TOPIC = "__assignor-__leader"
"""Faust's leader election topic (faust-streaming 0.15.3's ``LeaderAssignor``)."""


@dataclass(frozen=True)
class TopicSpec:
    """One topic as Rebound needs it."""

    name: str
    partitions: int
    """Every topic keyed by customer has the partition count of the state tables."""
    replication_factor: int
    config: dict[str, str] = field(default_factory=dict)
    """Topic-level configuration, e.g. ``cleanup.policy=compact`` for changelogs."""
    role: str = ""
    """What the topic is for, as ``rebound topics`` prints it."""


def changelog_topic(settings: Settings, table: str) -> str:
    """The name Faust gives a table's changelog."""
    return f"{settings.app_id}-{table}-changelog"


def due_timers_topic(settings: Settings) -> str:
    """The internal topic through which due timers come back into the stream."""
    return f"{settings.app_id}-{DUE_TIMERS_TOPIC}"


def repartition_topic(settings: Settings) -> str:
    """The internal topic through which events not keyed by customer_id are keyed again."""
    return f"{settings.app_id}-{REPARTITION_TOPIC}"


def scenarios_topic(settings: Settings) -> str:
    """The compacted topic of every scenario version the workers have loaded
    (``streams.edge.kafka.scenario_log``)."""
    return f"{settings.app_id}-{SCENARIOS_TOPIC}"


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """Input, command, dead-letter and internal topics, co-partitioned by customer; and the
    scenarios' log, of one partition."""

    # A write is acknowledged once on all but one copy: a broker may be down, and no
    # acknowledged write rests on one copy alone (the chart's default too).
    isr = {"min.insync.replicas": str(max(1, settings.replication_factor - 1))}

    def spec(name: str, role: str, **config: str) -> TopicSpec:
        return TopicSpec(
            name, settings.partitions, settings.replication_factor, {**config, **isr}, role
        )

    compact = {"cleanup.policy": "compact", **isr}
    specs = [spec(name, f"{kind} events (input)") for kind, name in settings.event_topics.items()]
    specs += [spec(name, f"{ch} send commands") for ch, name in settings.command_topics.items()]
    specs.append(spec(settings.dead_letter_topic, "dead letters", **{"retention.ms": "1209600000"}))
    specs.append(spec(due_timers_topic(settings), "due timers (internal)"))
    specs.append(
        spec(
            repartition_topic(settings),
            "events keyed otherwise than by customer, keyed again (internal)",
            **{"retention.ms": "604800000"},
        )
    )
    specs.append(
        spec(
            changelog_topic(settings, CUSTOMERS_TABLE),
            "customers table changelog: states and their timers (internal)",
            **compact,
        )
    )
    specs.append(
        TopicSpec(
            scenarios_topic(settings),
            1,  # one ordered log, read whole at start; keyed by scenario id and version
            settings.replication_factor,
            compact,
            "every scenario version loaded, for customers in flight (internal)",
        )
    )
    specs.append(
        TopicSpec(
            f"{settings.app_id}-{LEADER_TOPIC}",
            1,
            settings.replication_factor,
            isr,
            "Faust's leader election among the workers (internal)",
        )
    )
    return specs
