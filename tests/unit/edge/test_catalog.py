"""Catalog entries as Redis holds them: an incomplete one is left out or sent with what is
known, counted and logged with its SKU, never a crash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from streams.edge.redis.catalog import Catalog, parse_fits
from streams.metrics import create_metrics
from streams.pipeline.ports import Product
from streams.scenarios.catalog import file_fits


def catalog() -> tuple[Catalog, Any]:
    metrics = create_metrics(CollectorRegistry())
    return Catalog(None, metrics), metrics  # type: ignore[arg-type]


def test_a_complete_entry_is_a_product() -> None:
    found, _ = catalog()
    fields = {b"name": b"Pump", b"price": b"1990", b"currency": b"EUR", b"url": b"https://p"}
    assert found._product("PUMP", fields) == Product("PUMP", "Pump", 1990, "EUR", "https://p")


def test_a_missing_link_is_sent_empty_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    found, metrics = catalog()
    fields = {b"name": b"Pump", b"price": b"1990", b"currency": b"EUR"}
    assert found._product("PUMP", fields) == Product("PUMP", "Pump", 1990, "EUR", "")
    assert metrics.registry.get_sample_value("rebound_catalog_incomplete_total") == 1
    assert "rebound:catalog:PUMP" in caplog.text


@pytest.mark.parametrize(
    "fields",
    [
        {b"price": b"1990", b"currency": b"EUR", b"url": b"u"},
        {b"name": b"Pump", b"price": b"19.90", b"currency": b"EUR", b"url": b"u"},
        {b"name": b"Pump", b"price": b"1990", b"url": b"u"},
    ],
)
def test_an_entry_without_name_whole_price_or_currency_is_left_out(fields: Any) -> None:
    found, metrics = catalog()
    assert found._product("PUMP", fields) is None
    assert metrics.registry.get_sample_value("rebound_catalog_incomplete_total") == 1


def test_compatibility_rules_read_from_redis_and_from_a_catalog_file() -> None:
    raw = {b"CAPS": b"CM-1, CM-2", b"PODS": b"category:pod-machine", b"EMPTY": b""}
    assert parse_fits(raw) == {
        "CAPS": frozenset({"CM-1", "CM-2"}),
        "PODS": frozenset({"category:pod-machine"}),
    }
    shipped = file_fits(Path(__file__).resolve().parents[3] / "scenarios" / "catalog.yaml")
    assert shipped["CAPS-PODS-40"] == frozenset({"CM-POD-2"})
    assert "DESCALER-500" not in shipped, "a product without rules fits every order"
