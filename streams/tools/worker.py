"""``rebound worker``: the stream worker (its boot is ``streams.app.run_worker``)."""

from __future__ import annotations

import argparse

from streams.tools import KAFKA, REDIS, TOPICS

NAME = "worker"
SUMMARY = "run the stream worker (Faust)"
ENV = (*KAFKA, *REDIS, *TOPICS, "REBOUND_SCENARIOS_DIR", "REBOUND_DATA_DIR",
       "REBOUND_PARTITIONS", "REBOUND_CREATE_TOPICS", "REBOUND_WEB_PORT",
       "REBOUND_LOG_LEVEL", "REBOUND_LOG_FORMAT", "and every other REBOUND_*")  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-create-topics",
        dest="create_topics",
        action="store_false",
        help="do not create missing topics: refuse to start if any is missing "
        "(REBOUND_CREATE_TOPICS=false)",
    )


def run(args: argparse.Namespace) -> None:
    from streams.app import run_worker

    run_worker(create_topics=args.create_topics)
