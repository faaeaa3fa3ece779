from streams.settings import Settings
from streams.topology import LEADER_TOPIC, scenarios_topic, topic_specs


def test_every_topic_keyed_by_customer_is_co_partitioned_with_the_tables() -> None:
    settings = Settings(partitions=6, topic_prefix="p.")
    specs = topic_specs(settings)
    unkeyed = {scenarios_topic(settings), f"{settings.app_id}-{LEADER_TOPIC}"}
    assert {s.partitions for s in specs if s.name not in unkeyed} == {6}
    assert {s.partitions for s in specs if s.name in unkeyed} == {1}
    names = {s.name for s in specs}
    assert {
        "p.orders",
        "p.deliveries",
        "p.opens",
        "p.clicks",
        "p.rebound.dlq",
        "p.rebound.commands.email",
        "p.rebound.commands.sms",
        "p.rebound.commands.push",
    } <= names


def test_changelogs_are_compacted_and_named_as_faust_names_them() -> None:
    specs = {s.name: s for s in topic_specs(Settings(app_id="rb"))}
    assert specs["rb-customers-changelog"].config == {
        "cleanup.policy": "compact",
        "min.insync.replicas": "1",
    }
    assert "rb-timers-due" in specs
    assert not any(name.endswith("-timers-changelog") for name in specs), "timers live in states"


def test_the_scenarios_log_is_one_compacted_partition() -> None:
    specs = {s.name: s for s in topic_specs(Settings(app_id="rb"))}
    log = specs["rb-scenarios"]
    assert (log.partitions, log.config) == (
        1,
        {"cleanup.policy": "compact", "min.insync.replicas": "1"},
    )
