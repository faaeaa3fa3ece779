"""Customer profiles, owned by the CRM and read from Redis; ``rebound profiles FILE`` loads them.

One hash per customer, ``rebound:profile:<customer_id>``, its fields those of
``streams.scenarios.profiles``.

The worker reads the profiles a batch needs while it parses the batch, a call per 500
customers (a script that returns every hash: one command and one reply, where a pipeline of a
thousand ``HGETALL`` cost as much in redis-py as the rest of the batch), through a local
cache that keeps each for
``REBOUND_PROFILE_CACHE_S``: a consent withdrawn in Redis holds
from the next read on. A value Rebound cannot use is ignored (the default applies), counted
and logged with the customer id and the field: never the value, which may be personal.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Collection, Iterable

from redis.asyncio import Redis

from streams.edge.redis.retry import until_redis_answers
from streams.engine.context import Profile
from streams.metrics import Metrics
from streams.scenarios.profiles import parse_flat

KEY_PREFIX = "rebound:profile:"
CHUNK = 1000
"""Profiles per call, so that no call holds Redis for long."""
SEPARATOR = "\x1f"
"""Between the customer ids of a call and the fields of a reply (ASCII unit separator)."""
_READ = """
local found = {}
local i = 0
for id in string.gmatch(ARGV[1], "[^\\31]+") do
    i = i + 1
    local flat = redis.call('HGETALL', ARGV[2] .. id)
    local plain = true
    for _, part in ipairs(flat) do
        if string.find(part, "\\31", 1, true) then plain = false end
    end
    if plain then found[i] = table.concat(flat, "\\31") else found[i] = flat end
end
return found
"""
"""The profiles of the customer ids in ARGV[1] (joined by the separator), each as one
string (its fields and values joined by the separator, "" when absent), or as the HGETALL
array when a value holds the separator: one argument and a string per profile cost redis-py
half what a key and an array per profile did."""
MAX_CACHED = 200_000
"""Profiles kept in the local cache at most (about 100 MB)."""
log = logging.getLogger(__name__)


class Profiles:
    """Profiles by customer id, from Redis, each cached for ``cache_s`` seconds. ``redis``
    decodes its responses (``decode_responses=True``): hiredis decodes them in C."""

    def __init__(self, redis: Redis, metrics: Metrics, cache_s: float) -> None:
        self._redis = redis
        self._metrics = metrics
        self._cache_s = cache_s
        self._cache: dict[str, tuple[float, Profile | None]] = {}
        self._read_script = redis.register_script(_READ)

    async def get_many(self, customer_ids: Iterable[str]) -> dict[str, Profile | None]:
        now = time.monotonic()
        found: dict[str, Profile | None] = {}
        missing = []
        cache = self._cache
        for customer_id in customer_ids:
            hit = cache.get(customer_id)
            if hit is not None and hit[0] > now:
                found[customer_id] = hit[1]
            else:
                missing.append(customer_id)
        if found:
            self._count("cache", found.values())
        if missing:
            read = await self._read(missing)
            self._count("redis", read.values())
            if len(cache) + len(read) > MAX_CACHED:
                self._evict(now)
            expires = now + self._cache_s
            for customer_id, profile in read.items():
                cache[customer_id] = (expires, profile)
            found.update(read)
        return found

    async def _read(self, customer_ids: list[str]) -> dict[str, Profile | None]:
        read: dict[str, Profile | None] = {}
        plain = [c for c in customer_ids if SEPARATOR not in c]
        for customer_id in set(customer_ids).difference(plain):  # cannot be joined: alone
            alone = functools.partial(self._redis.hgetall, KEY_PREFIX + customer_id)
            fields = await until_redis_answers(alone, self._metrics, "profiles")
            flat = [str(part) for pair in fields.items() for part in pair]
            read[customer_id] = self._profile(customer_id, flat) if flat else None
        for start in range(0, len(plain), CHUNK):
            chunk = plain[start : start + CHUNK]
            call = functools.partial(self._read_script, args=[SEPARATOR.join(chunk), KEY_PREFIX])
            replies = await until_redis_answers(call, self._metrics, "profiles")
            for customer_id, reply in zip(chunk, replies, strict=True):
                if not reply:  # no profile: the defaults apply
                    read[customer_id] = None
                    continue
                if isinstance(reply, str):
                    flat = reply.split(SEPARATOR)
                else:  # a value holds the separator: the fields came as an array
                    flat = [str(part) for part in reply]
                read[customer_id] = self._profile(customer_id, flat)
        return read

    def _profile(self, customer_id: str, flat: list[str]) -> Profile:
        """The profile of a hash's fields: field, value, field, value..."""
        profile, problems = parse_flat(flat)
        for problem in problems:
            self._metrics.profiles_invalid.inc()
            log.warning("profile %s%s: field ignored, %s", KEY_PREFIX, customer_id, problem)
        return profile

    def _count(self, source: str, profiles: Collection[Profile | None]) -> None:
        absent = sum(1 for p in profiles if p is None)
        reads = self._metrics.profile_reads
        if len(profiles) - absent:
            reads.labels(source, "found").inc(len(profiles) - absent)
        if absent:
            reads.labels(source, "absent").inc(absent)

    def _evict(self, now: float) -> None:
        """Drop the expired entries; all of them if that is not enough."""
        cache = self._cache
        for customer_id in [k for k, (expires, _) in cache.items() if expires <= now]:
            del cache[customer_id]
        if len(cache) > MAX_CACHED // 2:
            cache.clear()
