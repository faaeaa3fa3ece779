import pytest

from streams.exceptions import ConfigurationError
from streams.settings import Settings


def test_defaults_without_environment() -> None:
    settings = Settings.from_env({})
    assert settings.bootstrap_servers == ["127.0.0.1:9092"]
    assert settings.event_topics == {
        "order": "orders",
        "delivery": "deliveries",
        "open": "opens",
        "click": "clicks",
        "consent": "consents",
    }
    assert settings.command_topics["sms"] == "rebound.commands.sms"


def test_prefix_and_names_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "REBOUND_TOPIC_PREFIX": "shop1.",
            "REBOUND_TOPIC_ORDERS": "sales",
            "REBOUND_PARTITIONS": "12",
            "REBOUND_BROKER_URL": "kafka://a:9092,kafka://b:9093",
        }
    )
    assert settings.event_topics["order"] == "shop1.sales"
    assert settings.dead_letter_topic == "shop1.rebound.dlq"
    assert settings.partitions == 12
    assert settings.bootstrap_servers == ["a:9092", "b:9093"]


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"REBOUND_PARTITIONS": "many"}, "REBOUND_PARTITIONS"),
        ({"REBOUND_PARTITIONS": "0"}, "REBOUND_PARTITIONS"),
        ({"REBOUND_STORE": "postgres://"}, "REBOUND_STORE"),
        ({"REBOUND_REDIS_URL": "http://localhost"}, "REBOUND_REDIS_URL"),
        ({"REBOUND_PRODUCER_BATCH_KIB": "4096"}, "REBOUND_PRODUCER_BATCH_KIB"),
    ],
)
def test_bad_values_name_the_variable(env: dict, variable: str) -> None:
    with pytest.raises(ConfigurationError, match=variable):
        Settings.from_env(env)


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        Settings().partitions = 3  # type: ignore[misc]


def test_describe_masks_the_password() -> None:
    settings = Settings(sasl_password="s3cret")  # noqa: S106
    rows = {v: value for v, value, _ in settings.describe()}
    assert rows["REBOUND_SASL_PASSWORD"] == "****"  # noqa: S105
