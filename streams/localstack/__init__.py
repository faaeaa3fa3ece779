"""Local Kafka (KRaft, Maven Central's jars) and Redis (Debian's redis-server) for dev and tests."""

from streams.localstack.exceptions import LocalStackError
from streams.localstack.kafka import KAFKA_VERSION, LocalKafka, kafka_libs
from streams.localstack.redis import LocalRedis

__all__ = ["KAFKA_VERSION", "LocalKafka", "LocalRedis", "LocalStackError", "kafka_libs"]
