"""The product catalog, owned by the retailer's systems and read from Redis.

One hash per product, ``rebound:catalog:<sku>`` with ``name``, ``price`` (minor units),
``currency`` and ``url``. Reads go through a small local cache.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from streams.metrics import Metrics
from streams.worker.redis_retry import until_redis_answers

KEY_PREFIX = "rebound:catalog:"
CACHE_TTL_S = 60.0


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    name: str
    price: int
    currency: str
    url: str


class Catalog:
    """Products by SKU, from Redis, cached for ``CACHE_TTL_S``."""

    def __init__(self, redis: Redis, metrics: Metrics) -> None:
        self._redis = redis
        self._metrics = metrics
        self._cache: dict[str, tuple[float, Product | None]] = {}

    async def products(self, skus: Iterable[str]) -> list[Product]:
        """The known products among ``skus``, in order; unknown SKUs are counted and left out."""
        skus = list(skus)
        now = time.monotonic()
        missing = [s for s in skus if s not in self._cache or self._cache[s][0] < now]
        if missing:
            await self._load(missing, now)
        found = [p for p in (self._cache[s][1] for s in skus) if p is not None]
        if len(found) < len(skus):
            self._metrics.catalog_misses.inc(len(skus) - len(found))
        return found

    async def _load(self, skus: list[str], now: float) -> None:
        async def fetch() -> list[Any]:
            async with self._redis.pipeline(transaction=False) as pipe:
                for sku in skus:
                    pipe.hgetall(KEY_PREFIX + sku)
                return list(await pipe.execute())

        for sku, fields in zip(skus, await until_redis_answers(fetch, self._metrics), strict=True):
            self._cache[sku] = (now + CACHE_TTL_S, _product(sku, fields))


def _product(sku: str, fields: dict[bytes, bytes]) -> Product | None:
    if not fields:
        return None
    text = {k.decode(): v.decode() for k, v in fields.items()}
    return Product(sku, text["name"], int(text["price"]), text["currency"], text["url"])


def load_catalog_file(redis: SyncRedis, path: Path) -> int:
    """Write the products of a catalog YAML file (see ``scenarios/catalog.yaml``) to Redis."""
    data = yaml.safe_load(path.read_text())
    currency = data.get("currency", "EUR")
    pipe = redis.pipeline(transaction=False)
    for sku, product in data["products"].items():
        pipe.hset(
            KEY_PREFIX + sku,
            mapping={
                "name": product["name"],
                "price": int(product["price"]),
                "currency": product.get("currency", currency),
                "url": product["url"],
            },
        )
    pipe.execute()
    return len(data["products"])
