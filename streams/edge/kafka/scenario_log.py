"""Every scenario version the workers have loaded, kept in a compacted topic, so that the
customers in flight on a version finish on it after its file is replaced or removed.

A scenario folder says what new entries get: the latest version of each scenario in it.
A Kubernetes ConfigMap update or a ``git pull`` replaces a file by its next version, and a
worker that knew only its folder would end the instances of the version it no longer has
(``scenario_removed``). So at start a worker:

1. reads the log, ``<app id>-scenarios`` (one partition, compacted, keyed ``<id>@<version>``,
   the value the version's YAML with its file name and when it was first published);
2. refuses to start if a file holds a version that the log has with other content (a version
   is immutable once customers may be on it: a changed file needs a new version number);
3. publishes the folder's versions the log does not have yet;
4. keeps every other version of the log for the instances in flight on it (``Engine``'s
   ``retained``): no trigger starts them.

A worker reads the log again when partitions come to it (``PublishedSince``), before their
timers fire: during a rolling update, a worker still on the old folder may take over customers
that a new worker started on the new version, which the new worker published at its start.

Removing a scenario is explicit: delete its file, then ``rebound scenarios retire ID``
writes tombstones for its versions; from the workers' next start, its instances in flight
end (``scenario_removed``). A retired scenario whose file is still in the folder is refused.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from streams.edge.kafka.admin import kafka_client
from streams.engine import Engine
from streams.engine.scenario import Scenario
from streams.exceptions import ConfigurationError
from streams.scenarios import ScenarioError, load_policies, load_scenarios, parse_scenario
from streams.settings import Settings
from streams.topology import scenarios_topic

log = logging.getLogger(__name__)
READ_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Published:
    """One scenario version as the log keeps it."""

    scenario_id: str
    version: int
    file: str
    """The file's name when it was first published."""
    source: str
    """The file's text."""
    published_at: float

    @property
    def key(self) -> bytes:
        return record_key(self.scenario_id, self.version)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "id": self.scenario_id,
                "version": self.version,
                "file": self.file,
                "source": self.source,
                "published_at": self.published_at,
            }
        ).encode()

    @classmethod
    def from_json(cls, value: bytes) -> Published:
        data = json.loads(value)
        return cls(
            data["id"], int(data["version"]), data["file"], data["source"], data["published_at"]
        )

    def scenario(self, topic: str) -> Scenario:
        """The version, parsed as a file would be; errors name it in the log."""
        return parse_scenario(self.source, f"{topic}:{self.scenario_id}@{self.version}")


def record_key(scenario_id: str, version: int) -> bytes:
    return f"{scenario_id}@{version}".encode()


class ScenarioLog:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topic = scenarios_topic(settings)

    def read(self) -> dict[tuple[str, int], Published]:
        """Every version on the log, tombstoned ones left out."""
        consumer = kafka_client(
            KafkaConsumer, self.settings, "scenarios", enable_auto_commit=False, group_id=None
        )
        try:
            partition = TopicPartition(self.topic, 0)
            if consumer.partitions_for_topic(self.topic) is None:
                raise ConfigurationError(
                    f"the scenarios topic {self.topic} does not exist: create the topics with "
                    "`rebound topics` (or start the worker without --no-create-topics)"
                )
            consumer.assign([partition])
            consumer.seek_to_beginning(partition)
            end = consumer.end_offsets([partition])[partition]
            found: dict[tuple[str, int], Published] = {}
            deadline = time.monotonic() + READ_TIMEOUT_S
            while consumer.position(partition) < end:
                if time.monotonic() > deadline:
                    raise ConfigurationError(
                        f"could not read the scenarios topic {self.topic} to its end "
                        f"({end}) in {READ_TIMEOUT_S:.0f} s"
                    )
                for records in consumer.poll(timeout_ms=500).values():
                    for record in records:
                        self._apply(found, record.key, record.value)
        except KafkaError as exc:
            raise ConfigurationError(
                f"cannot read the scenarios topic {self.topic}: {exc}"
            ) from exc
        finally:
            consumer.close()
        return found

    def _apply(
        self, found: dict[tuple[str, int], Published], key: bytes | None, value: bytes | None
    ) -> None:
        if key is None:
            return
        scenario_id, _, version = key.decode(errors="replace").rpartition("@")
        if value is None:  # a tombstone: retired
            if version.isdigit():
                found.pop((scenario_id, int(version)), None)
            return
        try:
            published = Published.from_json(value)
        except (ValueError, KeyError, TypeError) as exc:
            log.error("ignoring the unreadable record %r of %s: %s", key, self.topic, exc)  # noqa: TRY400
            return
        found[(published.scenario_id, published.version)] = published

    def publish(self, versions: Iterable[Published]) -> None:
        self._send([(p.key, p.to_json()) for p in versions])

    def retire(self, scenario_id: str) -> list[int]:
        """Tombstones for every version of ``scenario_id``; the versions retired."""
        versions = sorted(v for (i, v) in self.read() if i == scenario_id)
        self._send([(record_key(scenario_id, v), None) for v in versions])
        return versions

    def _send(self, records: list[tuple[bytes, bytes | None]]) -> None:
        if not records:
            return
        producer = kafka_client(KafkaProducer, self.settings, "scenarios", acks="all")
        try:
            for key, value in records:
                producer.send(self.topic, key=key, value=value, partition=0)
            producer.flush(timeout=READ_TIMEOUT_S)
        except KafkaError as exc:
            raise ConfigurationError(
                f"cannot write the scenarios topic {self.topic}: {exc}"
            ) from exc
        finally:
            producer.close()


def load(settings: Settings, folder: Path | None = None) -> Engine:
    """The worker's engine: the folder's scenarios and policies, and the log's other versions
    for the instances in flight; the folder's new versions published (steps 1 to 4)."""
    folder = folder or Path(settings.scenarios_dir)
    scenarios = load_scenarios(folder)
    scenario_log = ScenarioLog(settings)
    on_log = scenario_log.read()
    now = time.time()
    new = []
    for scenario in scenarios:
        key = (scenario.id, scenario.version)
        published = on_log.get(key)
        if published is None:
            path = Path(scenario.source)
            new.append(Published(scenario.id, scenario.version, path.name, path.read_text(), now))
        elif not _same(published.scenario(scenario_log.topic), scenario):
            raise ScenarioError(
                scenario.source,
                1,
                "version",
                f"{scenario.id} v{scenario.version} differs from the v{scenario.version} that "
                f"customers may be on (published from {published.file} at "
                f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(published.published_at))} UTC "
                f"on {scenario_log.topic}): give the changed scenario a new version number",
            )
    scenario_log.publish(new)
    in_folder = {(s.id, s.version) for s in scenarios}
    retained = [p for key, p in sorted(on_log.items()) if key not in in_folder]
    engine = Engine(scenarios, load_policies(folder), _parsed(retained, scenario_log.topic))
    for p in new:
        log.info("scenario %s v%d published to %s", p.scenario_id, p.version, scenario_log.topic)
    for p in retained:
        log.info("scenario %s v%d kept for the customers in flight on it", p.scenario_id, p.version)
    return engine


class PublishedSince:
    """The versions other workers published since this one loaded ``engine`` (a rolling
    update: a worker on the old folder takes over customers started on the new version)."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self._log = ScenarioLog(settings)
        self._engine = engine

    def read_new(self) -> list[Scenario]:
        on_log = self._log.read()
        unknown = [p for (i, v), p in sorted(on_log.items()) if not self._engine.knows(i, v)]
        return _parsed(unknown, self._log.topic)

    def keep(self, scenarios: Sequence[Scenario]) -> None:
        added = self._engine.retain(scenarios)
        if added:
            log.info("%d scenario versions published by other workers kept", added)


def _parsed(versions: list[Published], topic: str) -> list[Scenario]:
    """The versions that parse; one that no longer does (a language change) is skipped
    loudly: its instances end as ``scenario_removed``."""
    parsed = []
    for published in versions:
        try:
            parsed.append(published.scenario(topic))
        except ScenarioError as exc:
            log.error("a version kept on %s no longer loads, skipped: %s", topic, exc)  # noqa: TRY400
    return parsed


def _same(a: Scenario, b: Scenario) -> bool:
    """The same scenario, wherever each was read from."""
    return replace(a, source="") == replace(b, source="")
