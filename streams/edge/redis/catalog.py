"""The product catalog, owned by the retailer's systems and read from Redis.

One hash per product, ``rebound:catalog:<sku>`` with ``name``, ``price`` (minor units),
``currency`` and ``url``. Reads go through a small local cache.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from streams.edge.redis.retry import until_redis_answers
from streams.metrics import Metrics
from streams.pipeline.ports import Product

KEY_PREFIX = "rebound:catalog:"
CACHE_TTL_S = 60.0
log = logging.getLogger(__name__)


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
            self._cache[sku] = (now + CACHE_TTL_S, self._product(sku, fields))

    def _product(self, sku: str, fields: dict[bytes, bytes]) -> Product | None:
        """The product of a catalog hash; None when it is absent or lacks what a
        recommendation needs (a name, a whole price, a currency), which is counted and
        logged with the SKU. A missing link is sent empty, and counted too."""
        if not fields:
            return None
        text = {k.decode(errors="replace"): v.decode(errors="replace") for k, v in fields.items()}
        name, price, currency = text.get("name"), text.get("price", ""), text.get("currency")
        if not name or not currency or not price.isdigit():
            self._incomplete(sku, "name, price (minor units) or currency")
            return None
        url = text.get("url", "")
        if not url:
            self._incomplete(sku, "url")
        return Product(sku, name, int(price), currency, url)

    def _incomplete(self, sku: str, what: str) -> None:
        self._metrics.catalog_incomplete.inc()
        log.warning("catalog entry %s%s lacks a valid %s", KEY_PREFIX, sku, what)


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
