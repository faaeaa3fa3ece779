"""``rebound catalog FILE``: load a product catalog file into Redis."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from streams.exceptions import ConfigurationError
from streams.settings import Settings
from streams.tools import REDIS

NAME = "catalog"
SUMMARY = "load a product catalog file into Redis"
ENV = REDIS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file", type=Path, nargs="?", default=Path("scenarios/catalog.yaml"), help="YAML"
    )


def run(args: argparse.Namespace) -> None:
    from streams.edge.redis.catalog import load_catalog_file
    from streams.edge.redis.preflight import check_redis, sync_client

    if not args.file.is_file():
        raise ConfigurationError(f"{args.file}: no such file")
    settings = Settings.from_env()
    check_redis(settings)
    catalog = load_catalog_file(sync_client(settings), args.file)
    for problem in catalog.problems:
        print(f"{problem} (left out)", file=sys.stderr)
    print(
        f"loaded {len(catalog.products)} products from {args.file}; "
        f"{len(catalog.problems)} bad entries left out"
    )
    if catalog.problems:
        sys.exit(1)
