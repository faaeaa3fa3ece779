"""The command ledger in Redis: ids of commands already published, so a replay or a
reprocessed batch does not publish them again. Channel services deduplicate as well."""

from __future__ import annotations

from redis.asyncio import Redis

from streams.metrics import Metrics
from streams.worker.redis_retry import until_redis_answers

KEY_PREFIX = "rebound:ledger:"


class Ledger:
    def __init__(self, redis: Redis, metrics: Metrics, ttl_s: int) -> None:
        self._redis = redis
        self._metrics = metrics
        self._ttl_s = ttl_s

    async def published(self, command_id: str) -> bool:
        """True when ``command_id`` was published before."""

        async def exists() -> int:
            return int(await self._redis.exists(KEY_PREFIX + command_id))

        return await until_redis_answers(exists, self._metrics) > 0

    async def record(self, command_id: str) -> None:
        """Remember ``command_id``, once the broker has acknowledged the command."""

        async def put() -> None:
            await self._redis.set(KEY_PREFIX + command_id, b"1", ex=self._ttl_s)

        await until_redis_answers(put, self._metrics)
