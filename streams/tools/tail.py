"""``rebound tail TOPIC``: a topic's records decoded, one per line (``streams.edge.kafka.tail``)."""

from __future__ import annotations

import argparse
import contextlib

from streams.settings import Settings
from streams.tools import KAFKA, TOPICS

NAME = "tail"
SUMMARY = "print a topic's records decoded, one per line, following new ones"
ENV = (*KAFKA, *TOPICS, "REBOUND_SCHEMA_REGISTRY_URL")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("topic", help="an event, command or dead-letter topic (full name)")
    parser.add_argument("--from-beginning", action="store_true", help="from the first record")
    parser.add_argument("--count", type=int, help="stop after this many records")
    parser.add_argument(
        "--no-follow", dest="follow", action="store_false", help="stop at the topic's end"
    )


def run(args: argparse.Namespace) -> None:
    from streams.edge.kafka.preflight import check_kafka
    from streams.edge.kafka.tail import tail

    settings = Settings.from_env()
    check_kafka(settings)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends a follow
        tail(settings, args.topic, args.from_beginning, args.count, args.follow)
