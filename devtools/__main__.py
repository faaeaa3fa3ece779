"""``python -m devtools``: Kafka, Redis, the topics, a worker and demo traffic on this
machine (what ``make run`` starts). Development tools: not part of the installed package."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from devtools.localstack import LocalStackError, kafka_libs
from devtools.localstack.stack import run_local
from streams.exceptions import ReboundError


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools", description=__doc__)
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path("var/local"),
        help="folder for the services' data and logs (default: var/local)",
    )
    parser.add_argument("--rate", type=float, default=5.0, help="demo events per second")
    parser.add_argument(
        "--fetch-only",
        action="store_true",
        help="only fetch the Kafka broker's jars with Maven, then exit",
    )
    args = parser.parse_args(argv)
    try:
        if args.fetch_only:
            print(f"rebound: Kafka broker jars in {kafka_libs()}")
            return
        logging.basicConfig(level=logging.WARNING)
        logging.getLogger("kafka").setLevel(logging.ERROR)
        run_local(args.dir.resolve(), args.rate)
    except (LocalStackError, ReboundError) as exc:
        print(f"rebound: error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
