"""``rebound profiles FILE``: load customer profiles into Redis."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from streams.exceptions import ConfigurationError
from streams.settings import Settings
from streams.tools import REDIS

NAME = "profiles"
SUMMARY = "load customer profiles (CSV or JSON Lines) into Redis; bad lines are reported"
ENV = REDIS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help=".csv, or JSON Lines (.jsonl, .ndjson)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> None:
    from streams.edge.redis.preflight import check_redis, sync_client
    from streams.edge.redis.profile_files import load_profiles_file

    if not args.file.is_file():
        raise ConfigurationError(f"{args.file}: no such file")
    settings = Settings.from_env()
    check_redis(settings)
    report = load_profiles_file(
        sync_client(settings),
        args.file,
        progress=not args.quiet,
        report=lambda line: print(f"{args.file}: {line}", file=sys.stderr),
    )
    print(f"loaded {report.loaded} profiles from {args.file}; {len(report.bad)} bad lines skipped")
    if report.bad:
        sys.exit(1)
