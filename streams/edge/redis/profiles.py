"""Customer profiles, owned by the CRM and read from Redis; ``rebound profiles FILE`` loads them.

One hash per customer, ``rebound:profile:<customer_id>``, every field optional (an absent
field gets the default of ``policies.yaml``, see ``streams.engine.context.ProfileDefaults``):

=================  ==========================================================
``consent.email``  ``1`` or ``0``: the customer agreed to cross-sell e-mails
``consent.sms``    ``1`` or ``0``
``consent.push``   ``1`` or ``0``
``has_app``        ``1`` or ``0``: push needs the app (and its consent)
``timezone``       IANA name (``America/New_York``): local times of the steps
``country``        ISO 3166-1 alpha-2 (``FR``): public holidays
``language``       e.g. ``fr``
``unsubscribed``   ``1``: no cross-sell message at all; running instances end
``attr.<name>``    a declared attribute (``attr.skin_type`` = ``dry``)
=================  ==========================================================

The worker reads the profiles a batch needs in one pipelined round trip, through a local
cache that keeps each for ``REBOUND_PROFILE_CACHE_S``: a consent withdrawn in Redis holds
from the next read on. A value Rebound cannot use is ignored (the default applies), counted
and logged with the customer id and the field: never the value, which may be personal.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from redis.asyncio import Redis

from streams.edge.redis.retry import until_redis_answers
from streams.engine.context import CHANNELS, Profile, known_country
from streams.metrics import Metrics

KEY_PREFIX = "rebound:profile:"
ATTRIBUTE_PREFIX = "attr."
FIELDS = (
    *(f"consent.{channel}" for channel in CHANNELS),
    "has_app",
    "timezone",
    "country",
    "language",
    "unsubscribed",
)
"""The fields of a profile hash, beside the ``attr.<name>`` attributes."""
MAX_CACHED = 200_000
"""Profiles kept in the local cache at most (about 100 MB)."""
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n", ""}
log = logging.getLogger(__name__)


class InvalidField(ValueError):
    """A profile field whose value cannot be used; the message names the field only."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


def parse_profile(fields: Mapping[str, str]) -> tuple[Profile, list[InvalidField]]:
    """The profile of a hash's fields (as text), and the fields that were ignored."""
    problems: list[InvalidField] = []
    consent: dict[str, bool] = {}
    attributes: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, raw in fields.items():
        try:
            if name.startswith("consent.") and name[8:] in CHANNELS:
                consent[name[8:]] = _flag(name, raw)
            elif name in ("has_app", "unsubscribed"):
                values[name] = _flag(name, raw)
            elif name == "timezone":
                values[name] = _timezone(raw)
            elif name == "country":
                values[name] = _country(raw)
            elif name == "language":
                values[name] = raw or None
            elif name.startswith(ATTRIBUTE_PREFIX) and len(name) > len(ATTRIBUTE_PREFIX):
                attributes[name[len(ATTRIBUTE_PREFIX) :]] = raw
            else:
                problems.append(InvalidField(name, "unknown field"))
        except InvalidField as problem:
            problems.append(problem)
    return Profile(consent=consent, attributes=attributes, **values), problems


def profile_fields(profile: Profile) -> dict[str, str]:
    """The hash fields of ``profile`` (``parse_profile`` reads them back)."""
    fields = {f"consent.{c}": "1" if ok else "0" for c, ok in profile.consent.items()}
    if profile.has_app is not None:
        fields["has_app"] = "1" if profile.has_app else "0"
    for name in ("timezone", "country", "language"):
        value = getattr(profile, name)
        if value:
            fields[name] = value
    if profile.unsubscribed:
        fields["unsubscribed"] = "1"
    fields.update({ATTRIBUTE_PREFIX + k: v for k, v in profile.attributes.items()})
    return fields


def _flag(name: str, raw: str) -> bool:
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidField(name, "expected 1 or 0 (true/false, yes/no)")


def _country(raw: str) -> str:
    if not known_country(raw):
        raise InvalidField("country", "not an ISO 3166 country code the calendars know")
    return raw.upper()


def _timezone(raw: str) -> str:
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidField("timezone", "not an IANA time zone (e.g. Europe/Paris)") from None
    return raw


class Profiles:
    """Profiles by customer id, from Redis, each cached for ``cache_s`` seconds."""

    def __init__(self, redis: Redis, metrics: Metrics, cache_s: float) -> None:
        self._redis = redis
        self._metrics = metrics
        self._cache_s = cache_s
        self._cache: dict[str, tuple[float, Profile | None]] = {}

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
        if len(found):
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
        async def fetch() -> list[Any]:
            async with self._redis.pipeline(transaction=False) as pipe:
                for customer_id in customer_ids:
                    pipe.hgetall(KEY_PREFIX + customer_id)
                return list(await pipe.execute())

        hashes = await until_redis_answers(fetch, self._metrics)
        return {
            customer_id: self._profile(customer_id, fields) if fields else None
            for customer_id, fields in zip(customer_ids, hashes, strict=True)
        }

    def _profile(self, customer_id: str, fields: dict[bytes, bytes]) -> Profile:
        text = {k.decode(errors="replace"): v.decode(errors="replace") for k, v in fields.items()}
        profile, problems = parse_profile(text)
        for problem in problems:
            self._metrics.profiles_invalid.inc()
            log.warning("profile %s%s: field ignored, %s", KEY_PREFIX, customer_id, problem)
        return profile

    def _count(self, source: str, profiles: Iterable[Profile | None]) -> None:
        absent = sum(1 for p in profiles if p is None)
        total = sum(1 for _ in profiles)
        reads = self._metrics.profile_reads
        if total - absent:
            reads.labels(source, "found").inc(total - absent)
        if absent:
            reads.labels(source, "absent").inc(absent)

    def _evict(self, now: float) -> None:
        """Drop the expired entries; all of them if that is not enough."""
        cache = self._cache
        for customer_id in [k for k, (expires, _) in cache.items() if expires <= now]:
            del cache[customer_id]
        if len(cache) > MAX_CACHED // 2:
            cache.clear()
