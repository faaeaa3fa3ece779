import pytest

from streams.exceptions import ConfigurationError
from streams.settings import Settings, mask_url


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
        ({"REBOUND_SECURITY_PROTOCOL": "TLS"}, "REBOUND_SECURITY_PROTOCOL='TLS' is not one of"),
        ({"REBOUND_SASL_MECHANISM": "SCRAM"}, "REBOUND_SASL_MECHANISM='SCRAM' is not one of"),
        ({"REBOUND_LOG_LEVEL": "verbose"}, "REBOUND_LOG_LEVEL='verbose' is not one of"),
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


def test_describe_masks_passwords_in_urls_too() -> None:
    settings = Settings(
        redis_url="redis://rebound:r3dis@cache:6379/0",
        schema_registry_url="https://reader:r3gistry@registry:8081",
    )
    printed = " ".join(value for _, value, _ in settings.describe())
    assert "r3dis" not in printed
    assert "r3gistry" not in printed
    assert "redis://rebound:****@cache:6379/0" in printed
    assert "https://reader:****@registry:8081" in printed
    assert mask_url("redis://cache:6379/0") == "redis://cache:6379/0"


def test_an_unknown_rebound_variable_is_named_with_the_closest_setting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    Settings.from_env({"REBOUND_PARTITION": "12", "REBOUND_TEST_KAFKA_BOOTSTRAP": "x:1"})
    assert "REBOUND_PARTITION is not a Rebound setting" in caplog.text
    assert "did you mean REBOUND_PARTITIONS?" in caplog.text
    assert "REBOUND_TEST_KAFKA_BOOTSTRAP" not in caplog.text, "the tests' own variables"


def test_levels_and_protocols_take_what_kafka_and_logging_name_them() -> None:
    settings = Settings.from_env(
        {"REBOUND_LOG_LEVEL": "WARNING", "REBOUND_SECURITY_PROTOCOL": "SASL_SSL"}
    )
    assert settings.security_protocol == "SASL_SSL"
