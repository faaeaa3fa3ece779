"""Catalog files: every bad product reported with its line and field and left out, the good
ones kept; a price that is not in minor units is refused, not read a hundred times too low."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from streams.scenarios import ScenarioError
from streams.scenarios.catalog import CatalogProduct, read_catalog

SHIPPED = Path(__file__).resolve().parents[3] / "scenarios" / "catalog.yaml"


def catalog(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_bad_products_are_reported_with_their_line_and_the_good_ones_kept(tmp_path: Path) -> None:
    path = catalog(
        tmp_path,
        """\
        currency: EUR
        products:
          CAPS: {name: Capsules, price: 1490, url: "https://shop/p/CAPS", fits: [CM-1]}
          CHEAP: {name: Descaler, price: 14.90, url: "https://shop/p/CHEAP"}
          NOLINK: {name: Box, price: 2490}
          ODD: {name: Pump, price: 990, url: "https://shop/p/ODD", colour: red}
        """,
    )
    read = read_catalog(path)
    assert read.products == [
        CatalogProduct("CAPS", "Capsules", 1490, "EUR", "https://shop/p/CAPS", ("CM-1",))
    ]
    assert [str(p) for p in read.problems] == [
        f"{path}:4: products.CHEAP.price: 14.9 is not in minor units of the currency: "
        "write 1490 (cents) for that amount",
        f"{path}:5: products.NOLINK.url: missing, or not an http(s) link",
        f"{path}:6: products.ODD.colour: unknown field (known: currency, fits, name, price, url)",
    ]


def test_a_file_that_is_no_catalog_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="products"):
        read_catalog(catalog(tmp_path, "id: coffee\nversion: 1\n"))


def test_the_shipped_catalog_is_clean() -> None:
    read = read_catalog(SHIPPED)
    assert read.problems == []
    assert {p.sku for p in read.products} >= {"CAPS-INTENSO-50", "CAPS-PODS-40", "HELMET-URBAN"}
