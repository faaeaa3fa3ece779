"""``rebound topics``: create the topics Rebound needs."""

from __future__ import annotations

import argparse

from streams.settings import Settings
from streams.tools import KAFKA, TOPICS

NAME = "topics"
SUMMARY = "create the topics Rebound needs (idempotent)"
ENV = (*KAFKA, *TOPICS, "REBOUND_PARTITIONS", "REBOUND_REPLICATION_FACTOR")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> None:
    from streams.edge.kafka.topics import ensure_topics

    report = ensure_topics(Settings.from_env())
    for name in report.created:
        print(f"created  {name}")
    for name in report.existing:
        print(f"existing {name}")
