"""Local Kafka (KRaft, Maven Central's jars) and Redis (Debian's redis-server) for dev and tests."""

from devtools.localstack.exceptions import LocalStackError
from devtools.localstack.kafka import KAFKA_VERSION, LocalKafka, kafka_libs
from devtools.localstack.redis import LocalRedis

__all__ = ["KAFKA_VERSION", "LocalKafka", "LocalRedis", "LocalStackError", "kafka_libs"]
