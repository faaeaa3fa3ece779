"""Where the integration tests and benchmarks find Kafka and Redis, in this order:

1. services named by environment variables (``<prefix>_KAFKA_BOOTSTRAP`` and
   ``<prefix>_REDIS_URL``, e.g. ``REBOUND_TEST_...``): a user's own;
2. testcontainers, when a Docker engine answers;
3. local processes: Kafka from Maven Central's jars, Debian's ``redis-server``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from devtools.localstack.kafka import LocalKafka
from devtools.localstack.redis import LocalRedis

KAFKA_IMAGE = "confluentinc/cp-kafka:7.9.0"  # the image testcontainers' KafkaContainer drives
REDIS_IMAGE = "redis:7.4"


def docker_engine_answers() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=3)
        return bool(client.ping())
    # docker raises its own errors, requests' or OSError depending on what is missing.
    except Exception:  # noqa: BLE001
        return False


@contextlib.contextmanager
def kafka_service(workdir: Path, env_prefix: str) -> Iterator[str]:
    """Bootstrap servers (``host:port``) of a Kafka broker, for as long as the block runs."""
    if os.environ.get(f"{env_prefix}_KAFKA_BOOTSTRAP"):
        yield os.environ[f"{env_prefix}_KAFKA_BOOTSTRAP"]
    elif docker_engine_answers():
        from testcontainers.community.kafka import KafkaContainer

        with KafkaContainer(KAFKA_IMAGE).with_kraft() as container:
            yield container.get_bootstrap_server()
    else:
        kafka = LocalKafka(workdir).start()
        try:
            yield kafka.bootstrap
        finally:
            kafka.stop()


@contextlib.contextmanager
def redis_service(workdir: Path, env_prefix: str) -> Iterator[str]:
    """A ``redis://`` URL of a Redis server, for as long as the block runs."""
    if os.environ.get(f"{env_prefix}_REDIS_URL"):
        yield os.environ[f"{env_prefix}_REDIS_URL"]
    elif docker_engine_answers():
        from testcontainers.community.redis import RedisContainer

        with RedisContainer(REDIS_IMAGE) as container:
            host = container.get_container_host_ip()
            yield f"redis://{host}:{container.get_exposed_port(6379)}/0"
    else:
        redis = LocalRedis(workdir).start()
        try:
            yield redis.url
        finally:
            redis.stop()
