"""Rebound on a secured stack, as its users run it: Kafka through SASL_SSL (SCRAM-SHA-512, the
broker's certificate verified) and through mutual TLS (a client certificate, as Strimzi's
``authentication: tls`` users have), Redis through TLS with an ACL user. Wrong credentials
stop the start with a sentence naming the setting; no secret is ever printed.

The secured broker and Redis are always local processes (their listeners and certificates
are made here): ``LocalKafka`` and ``LocalRedis`` with certificates from ``cryptography``."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import redis

from devtools.demo import BIKE_LINE, DemoProducer, order_event
from devtools.localstack.certificates import Certificates, make_certificates
from devtools.localstack.command_reader import CommandReader
from devtools.localstack.kafka import KafkaSecurity, LocalKafka
from devtools.localstack.redis import LocalRedis
from streams.edge.redis.catalog import load_catalog_file
from streams.settings import Settings
from tests.integration.cli import rebound
from tests.integration.conftest import CATALOG

KAFKA_PASSWORD = "kafka-" + uuid.uuid4().hex
REDIS_PASSWORD = "redis-" + uuid.uuid4().hex


@dataclass(frozen=True)
class Secured:
    kafka: LocalKafka
    redis: LocalRedis
    certificates: Certificates


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    root = tmp_path_factory.mktemp("secured")
    certificates = make_certificates(root / "certificates")
    kafka = LocalKafka(
        root / "kafka", security=KafkaSecurity(certificates, {"rebound": KAFKA_PASSWORD})
    )
    server = LocalRedis(root / "redis", certificates=certificates, user=("rebound", REDIS_PASSWORD))
    server.start()
    try:
        kafka.start()
        try:
            load_catalog_file(redis.Redis.from_url(server.url), CATALOG)
            yield Secured(kafka, server, certificates)
        finally:
            kafka.stop()
    finally:
        server.stop()


def sasl_ssl(settings: Settings, secured: Secured, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "broker_url": f"kafka://{secured.kafka.sasl_ssl_bootstrap}",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": "rebound",
        "sasl_password": KAFKA_PASSWORD,
        "ssl_cafile": str(secured.certificates.ca),
        "redis_url": secured.redis.url,
    }
    return replace(settings, **{**values, **changes})


def mutual_tls(settings: Settings, secured: Secured, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "broker_url": f"kafka://{secured.kafka.ssl_bootstrap}",
        "security_protocol": "SSL",
        "ssl_cafile": str(secured.certificates.ca),
        "ssl_certfile": str(secured.certificates.client_cert),
        "ssl_keyfile": str(secured.certificates.client_key),
        "redis_url": secured.redis.url,
    }
    return replace(settings, **{**values, **changes})


def bike_push_arrives(settings: Settings) -> None:
    customer = f"secure-{uuid.uuid4().hex[:6]}"
    producer = DemoProducer(settings)
    producer.send(
        order_event(customer, "o1", int(time.time() * 1000), [BIKE_LINE], channel="store")
    )
    producer.flush()
    producer.close()
    reader = CommandReader(settings)
    try:
        [push] = [
            c
            for c in reader.wait_for(
                lambda c: any(x["customer_id"] == customer for x in c), 60, "the bike's push"
            )
            if c["customer_id"] == customer
        ]
    finally:
        reader.close()
    assert push["step_id"] == "at-the-till"


def test_a_scenario_through_sasl_ssl_with_redis_over_tls(
    settings: Settings, secured: Secured, start_worker: Any
) -> None:
    secure = sasl_ssl(settings, secured)
    worker = start_worker(secure)
    bike_push_arrives(secure)

    # No secret printed: neither in the worker's log nor by `rebound settings`.
    printed = rebound(secure, "settings")
    assert printed.returncode == 0, printed.stderr
    for secret in (KAFKA_PASSWORD, REDIS_PASSWORD):
        assert secret not in printed.stdout + printed.stderr
        assert secret not in worker.log_path.read_text()
    assert "REBOUND_SASL_PASSWORD" in printed.stdout


def test_a_scenario_through_mutual_tls(
    settings: Settings, secured: Secured, start_worker: Any
) -> None:
    secure = mutual_tls(settings, secured)
    start_worker(secure)
    bike_push_arrives(secure)


@pytest.mark.parametrize(
    ("case", "named"),
    [
        ("wrong password", "REBOUND_SASL_PASSWORD"),
        ("untrusted client certificate", "REBOUND_SSL_CERTFILE"),
        ("no client certificate", "REBOUND_SSL_CERTFILE and REBOUND_SSL_KEYFILE"),
        ("broker not trusted", "REBOUND_SSL_CAFILE"),
        ("wrong Redis password", "refused the credentials in REBOUND_REDIS_URL"),
    ],
)
def test_wrong_credentials_stop_the_start_naming_the_setting(
    settings: Settings, secured: Secured, case: str, named: str
) -> None:
    c = secured.certificates
    wrong = {
        "wrong password": sasl_ssl(settings, secured, sasl_password="not-it"),  # noqa: S106
        "untrusted client certificate": mutual_tls(
            settings, secured, ssl_certfile=str(c.untrusted_cert), ssl_keyfile=str(c.untrusted_key)
        ),
        "no client certificate": mutual_tls(settings, secured, ssl_certfile="", ssl_keyfile=""),
        "broker not trusted": sasl_ssl(settings, secured, ssl_cafile=str(c.untrusted_ca)),
        "wrong Redis password": sasl_ssl(
            settings, secured, redis_url=secured.redis.url.replace(REDIS_PASSWORD, "nope")
        ),
    }[case]
    started = time.monotonic()
    done = rebound(wrong, "worker", timeout=90)
    assert done.returncode == 2, done.stdout + done.stderr
    assert named in done.stderr
    assert "Traceback" not in done.stderr
    assert KAFKA_PASSWORD not in done.stderr
    assert REDIS_PASSWORD not in done.stderr
    assert time.monotonic() - started < 60


def test_the_worker_s_clients_are_all_secured() -> None:
    """Every Kafka client the worker makes takes the security settings: none is built with
    ``bootstrap_servers`` alone (the plaintext default)."""
    root = Path(__file__).resolve().parents[2] / "streams"
    kinds = ("KafkaConsumer(", "KafkaProducer(", "KafkaAdminClient(", "AIOKafkaClient(")
    unsecured = [
        f"{path.relative_to(root)}: {kind}"
        for path in root.rglob("*.py")
        for kind in kinds
        if kind in (text := path.read_text())
        and "security_options" not in text
        and "credentials" not in text
    ]
    assert unsecured == []
