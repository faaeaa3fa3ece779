"""``rebound topics``: create every topic of the topology, idempotently, with kafka-python."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kafka import KafkaAdminClient
from kafka.errors import KafkaError, TopicAlreadyExistsError

from streams.edge.kafka.admin import admin_client
from streams.exceptions import ConfigurationError
from streams.settings import Settings
from streams.topology import TopicSpec, topic_specs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TopicReport:
    """What ``ensure_topics`` did with each topic."""

    created: list[str]
    existing: list[str]


def ensure_topics(settings: Settings) -> TopicReport:
    """Create the missing topics; fail if an existing one has the wrong partition count."""
    specs = topic_specs(settings)
    admin = admin_client(settings)
    try:
        existing = _partition_counts(admin, [s.name for s in specs])
        _check_partitions(specs, existing)
        missing = [s for s in specs if s.name not in existing]
        if missing:
            _create(admin, missing)
    finally:
        admin.close()
    return TopicReport(
        created=[s.name for s in missing], existing=[s.name for s in specs if s.name in existing]
    )


def check_topics(settings: Settings) -> list[str]:
    """For a worker that may not create topics: every topic exists with its partition count,
    else a ``ConfigurationError`` listing the missing ones. Returns the names."""
    specs = topic_specs(settings)
    admin = admin_client(settings)
    try:
        existing = _partition_counts(admin, [s.name for s in specs])
    finally:
        admin.close()
    missing = [s.name for s in specs if s.name not in existing]
    if missing:
        raise ConfigurationError(
            f"missing topics ({len(missing)}): {', '.join(missing)}. REBOUND_CREATE_TOPICS is "
            "false, so the worker does not create them: declare them (e.g. the Helm chart's "
            "KafkaTopic resources), or run `rebound topics`."
        )
    _check_partitions(specs, existing)
    return [s.name for s in specs]


def _partition_counts(admin: KafkaAdminClient, names: list[str]) -> dict[str, int]:
    present = set(admin.list_topics())
    wanted = [name for name in names if name in present]
    if not wanted:
        return {}
    return {t["name"]: len(t["partitions"]) for t in admin.describe_topics(wanted)}


def _check_partitions(specs: list[TopicSpec], existing: dict[str, int]) -> None:
    wrong = [
        f"{s.name} has {existing[s.name]} partitions, Rebound needs {s.partitions}"
        for s in specs
        if s.name in existing and existing[s.name] != s.partitions
    ]
    if wrong:
        raise ConfigurationError(
            "topics are not co-partitioned: "
            + "; ".join(wrong)
            + ". Set REBOUND_PARTITIONS to match them, or recreate the topics."
        )


def _create(admin: KafkaAdminClient, specs: list[TopicSpec]) -> None:
    request = {
        s.name: {
            "num_partitions": s.partitions,
            "replication_factor": s.replication_factor,
            "configs": s.config,
        }
        for s in specs
    }
    try:
        admin.create_topics(request, wait_for_metadata=True)
    except TopicAlreadyExistsError:
        log.info("another process created some topics at the same time; that is fine")
    except KafkaError as exc:
        raise ConfigurationError(f"could not create topics {sorted(request)}: {exc}") from exc
