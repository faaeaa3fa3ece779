"""The command ledger in Redis: ids of commands already published, so a replay or a
reprocessed batch does not publish them again. Channel services deduplicate as well.

One key per command id (``rebound:ledger:<id>``, expiring after ``REBOUND_LEDGER_TTL_S``).
A batch's ids are looked up with one ``MGET`` and recorded with one script call, rather than
a command per id: redis-py spent more on packing and parsing a thousand pipelined commands
than the rest of the command path did. The multi-key calls need a single Redis (or keys in
one cluster slot), which is what ``REBOUND_REDIS_URL`` names.
"""

from __future__ import annotations

import functools

from redis.asyncio import Redis

from streams.edge.redis.retry import until_redis_answers
from streams.metrics import Metrics

KEY_PREFIX = "rebound:ledger:"
CHUNK = 1000
"""Ids per Redis call, so that no call holds Redis for long."""
_RECORD = """
for _, key in ipairs(KEYS) do
    redis.call('SET', key, '1', 'EX', ARGV[1])
end
return #KEYS
"""


class Ledger:
    def __init__(self, redis: Redis, metrics: Metrics, ttl_s: int) -> None:
        self._redis = redis
        self._metrics = metrics
        self._ttl_s = ttl_s
        self._record = redis.register_script(_RECORD)

    async def published_many(self, command_ids: list[str]) -> list[bool]:
        """For each of ``command_ids``, whether it was published before."""
        seen: list[bool] = []
        for chunk in _chunks([KEY_PREFIX + c for c in command_ids]):
            values = await until_redis_answers(
                functools.partial(self._redis.mget, chunk), self._metrics, "ledger_read"
            )
            seen += [value is not None for value in values]
        return seen

    async def record_many(self, command_ids: list[str]) -> None:
        """Remember ``command_ids``, once the broker has acknowledged them."""
        for chunk in _chunks([KEY_PREFIX + c for c in command_ids]):
            record = functools.partial(self._record, keys=chunk, args=[self._ttl_s])
            await until_redis_answers(record, self._metrics, "ledger_write")


def _chunks(keys: list[str]) -> list[list[str]]:
    return [keys[i : i + CHUNK] for i in range(0, len(keys), CHUNK)]
