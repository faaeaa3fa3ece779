"""Redis calls that wait for Redis instead of failing: the stream pauses, nothing is lost;
and the check of whether Redis answers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from streams.metrics import Metrics

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BACKOFF_S = 5.0


async def until_redis_answers(
    call: Callable[[], Awaitable[T]], metrics: Metrics, operation: str
) -> T:
    """Run ``call``, retrying with backoff while Redis is unreachable (reported in metrics);
    the time of the call that answered is ``operation``'s in
    ``rebound_redis_command_duration_seconds``."""
    backoff = 0.1
    while True:
        started = time.perf_counter()
        try:
            result = await call()
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            metrics.redis_up.set(0)
            log.warning("Redis unreachable (%s); retrying in %.1fs", type(exc).__name__, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)
        else:
            metrics.redis_duration.labels(operation).observe(time.perf_counter() - started)
            metrics.redis_up.set(1)
            return result


async def redis_answers(redis: Redis, metrics: Metrics) -> bool:
    """Whether Redis answers a ping now (reported in ``rebound_redis_up``)."""
    try:
        ok = bool(await redis.ping())
    except (RedisError, OSError):
        ok = False
    metrics.redis_up.set(1 if ok else 0)
    return ok
