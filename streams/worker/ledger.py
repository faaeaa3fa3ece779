"""The command ledger in Redis: ids of commands already published, so a replay or a
reprocessed batch does not publish them again. Channel services deduplicate as well."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from streams.metrics import Metrics
from streams.worker.redis_retry import until_redis_answers

KEY_PREFIX = "rebound:ledger:"


class Ledger:
    def __init__(self, redis: Redis, metrics: Metrics, ttl_s: int) -> None:
        self._redis = redis
        self._metrics = metrics
        self._ttl_s = ttl_s

    async def published_many(self, command_ids: list[str]) -> list[bool]:
        """For each of ``command_ids``, whether it was published before: one round trip."""

        async def exist() -> list[Any]:
            async with self._redis.pipeline(transaction=False) as pipe:
                for command_id in command_ids:
                    pipe.exists(KEY_PREFIX + command_id)
                return list(await pipe.execute())

        return [bool(n) for n in await until_redis_answers(exist, self._metrics)]

    async def record_many(self, command_ids: list[str]) -> None:
        """Remember ``command_ids``, once the broker has acknowledged them: one round trip."""

        async def put() -> None:
            async with self._redis.pipeline(transaction=False) as pipe:
                for command_id in command_ids:
                    pipe.set(KEY_PREFIX + command_id, b"1", ex=self._ttl_s)
                await pipe.execute()

        await until_redis_answers(put, self._metrics)
