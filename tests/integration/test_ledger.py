"""The command ledger against a real Redis: lookups and records by the thousand, with a TTL."""

from __future__ import annotations

import uuid

import redis
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from streams.edge.redis.ledger import CHUNK, KEY_PREFIX, Ledger
from streams.metrics import create_metrics


async def test_recorded_ids_are_known_and_expire(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    ledger = Ledger(client, create_metrics(CollectorRegistry()), ttl_s=3600)
    run = uuid.uuid4().hex
    ids = [f"{run}-{n}" for n in range(CHUNK * 2 + 5)]  # more than one call's worth
    try:
        assert await ledger.published_many(ids) == [False] * len(ids)
        await ledger.record_many(ids[::2])
        assert await ledger.published_many(ids) == [n % 2 == 0 for n in range(len(ids))]
        assert await ledger.published_many([]) == []
        ttl = redis.Redis.from_url(redis_url).ttl(KEY_PREFIX + ids[0])
        assert 3590 < ttl <= 3600
    finally:
        await client.aclose()
