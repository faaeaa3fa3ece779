"""The product catalog, owned by the retailer's systems and read from Redis.

One hash per product, ``rebound:catalog:<sku>`` with ``name``, ``price`` (minor units),
``currency`` and ``url``. Reads go through a small local cache.

Compatibility rules: ``rebound:catalog:fits``, one hash for the whole catalog, SKU -> what
the product fits, comma-separated (machine SKUs, or ``category:<name>``): capsules that fit
one machine model are recommended only to customers whose order holds that model. The
worker reads it whole at start and every ``FITS_REFRESH_S`` (``Engine.fits``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from redis import Redis as SyncRedis
from redis.asyncio import Redis

from streams.edge.redis.retry import until_redis_answers
from streams.metrics import Metrics
from streams.pipeline.ports import Product
from streams.scenarios.catalog import CatalogFile, read_catalog

KEY_PREFIX = "rebound:catalog:"
FITS_KEY = "rebound:catalog:fits"
CACHE_TTL_S = 60.0
FITS_REFRESH_S = 60.0
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

        found = await until_redis_answers(fetch, self._metrics, "catalog")
        for sku, fields in zip(skus, found, strict=True):
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


def parse_fits(raw: dict[Any, Any]) -> dict[str, frozenset[str]]:
    """The compatibility map of the ``FITS_KEY`` hash's fields and values."""
    fits = {}
    for sku, value in raw.items():
        text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
        targets = frozenset(t.strip() for t in text.split(",") if t.strip())
        if targets:
            fits[sku.decode(errors="replace") if isinstance(sku, bytes) else str(sku)] = targets
    return fits


def fits_now(redis: SyncRedis) -> dict[str, frozenset[str]]:
    """The catalog's compatibility rules, read once (at the worker's start)."""
    return parse_fits(redis.hgetall(FITS_KEY))


async def read_fits(redis: Redis, metrics: Metrics) -> dict[str, frozenset[str]]:
    """The catalog's compatibility rules, waiting for Redis if it is away."""

    async def fetch() -> dict[Any, Any]:
        return dict(await redis.hgetall(FITS_KEY))

    return parse_fits(await until_redis_answers(fetch, metrics, "catalog_fits"))


def load_catalog_file(redis: SyncRedis, path: Path) -> CatalogFile:
    """Write the good products of a catalog file (``streams.scenarios.catalog``) to Redis;
    the file's problems (bad products, left out) are returned with their lines."""
    catalog = read_catalog(path)
    pipe = redis.pipeline(transaction=False)
    for product in catalog.products:
        pipe.hset(
            KEY_PREFIX + product.sku,
            mapping={
                "name": product.name,
                "price": product.price,
                "currency": product.currency,
                "url": product.url,
            },
        )
        if product.fits:
            pipe.hset(FITS_KEY, product.sku, ",".join(product.fits))
        else:  # a rule the file no longer has is gone
            pipe.hdel(FITS_KEY, product.sku)
    pipe.execute()
    return catalog
