"""Catalog files (``catalog.yaml``): products read and checked, every bad entry reported with
its file, line and field, the good ones kept.

    currency: EUR
    products:
      CAPS-INTENSO-50: {name: "Intenso capsules", price: 1490, url: "https://...",
                        fits: [CM-1000]}

``price`` is in minor units of the currency (cents): a whole number. ``14.90`` is refused
rather than read as 14, a hundred times too low.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams.scenarios.exceptions import ScenarioError
from streams.scenarios.yaml_nodes import Located

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_FIELDS = {"name", "price", "url", "currency", "fits"}


@dataclass(frozen=True)
class CatalogProduct:
    sku: str
    name: str
    price: int
    """In minor units of ``currency``."""
    currency: str
    url: str
    fits: tuple[str, ...] = ()
    """What the product is compatible with: SKUs, or ``category:<name>``."""


@dataclass(frozen=True)
class CatalogFile:
    products: list[CatalogProduct]
    problems: list[ScenarioError]
    """One per bad product (it is left out), with file, line and field."""


def read_catalog(path: Path) -> CatalogFile:
    """The products of a catalog file; a file that is not a catalog at all raises."""
    doc = Located(str(path), path.read_text())
    top = doc.value
    if not isinstance(top, dict) or not isinstance(top.get("products"), dict):
        raise doc.fail("products", "a catalog is a mapping with `products:` (SKU -> product)")
    currency = top.get("currency", "EUR")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise doc.fail("currency", f"{currency!r} is not an ISO 4217 code such as EUR")
    products, problems = [], []
    for sku, raw in top["products"].items():
        try:
            products.append(_product(doc, str(sku), raw, currency))
        except ScenarioError as problem:
            problems.append(problem)
    return CatalogFile(products, problems)


def file_fits(path: Path) -> dict[str, frozenset[str]]:
    """The compatibility rules of a catalog file's good products, as the worker reads them
    from Redis once the file is loaded (for simulations)."""
    return {p.sku: frozenset(p.fits) for p in read_catalog(path).products if p.fits}


def _product(doc: Located, sku: str, raw: Any, currency: str) -> CatalogProduct:
    path = f"products.{sku}"
    if not isinstance(raw, dict):
        raise doc.fail(path, "a product is a mapping: {name: ..., price: ..., url: ...}")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise doc.fail(
            f"{path}.{unknown[0]}", f"unknown field (known: {', '.join(sorted(_FIELDS))})"
        )
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise doc.fail(f"{path}.name", "missing or empty")
    price = raw.get("price")
    if isinstance(price, float):
        raise doc.fail(
            f"{path}.price",
            f"{price} is not in minor units of the currency: write {round(price * 100)} "
            "(cents) for that amount",
        )
    if not isinstance(price, int) or isinstance(price, bool) or price < 0:
        raise doc.fail(f"{path}.price", "a whole number of minor units (cents), 0 or more")
    url = raw.get("url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise doc.fail(f"{path}.url", "missing, or not an http(s) link")
    own_currency = raw.get("currency", currency)
    if not isinstance(own_currency, str) or not _CURRENCY.match(own_currency):
        raise doc.fail(f"{path}.currency", f"{own_currency!r} is not an ISO 4217 code")
    fits = raw.get("fits") or []
    if not isinstance(fits, list) or not all(isinstance(f, str) and f for f in fits):
        raise doc.fail(f"{path}.fits", "a list of SKUs or category:<name>")
    return CatalogProduct(sku, name, price, own_currency, url, tuple(fits))
