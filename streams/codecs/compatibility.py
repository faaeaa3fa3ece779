"""Schema evolution rules, checked with the ``avro`` package's compatibility checker."""

from __future__ import annotations

import json

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from streams.codecs.schemas import SchemaVersion

MODES = (
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
)


def compatibility_mode(name: str) -> str:
    """Commands must stay readable by every channel service: FULL_TRANSITIVE. Events: BACKWARD."""
    return "FULL_TRANSITIVE" if name.startswith("rebound.commands.") else "BACKWARD"


def incompatibilities(versions: list[SchemaVersion], mode: str) -> list[str]:
    """What breaks ``mode`` when the last of ``versions`` follows the others (empty: none)."""
    if mode not in MODES:
        raise ValueError(f"unknown compatibility mode {mode!r}; one of {', '.join(MODES)}")
    if len(versions) < 2:
        return []
    *earlier, latest = versions
    against = earlier if mode.endswith("_TRANSITIVE") else earlier[-1:]
    problems = []
    for previous in against:
        if not mode.startswith("FORWARD"):
            problems += _problems(reader=latest, writer=previous)
        if not mode.startswith("BACKWARD"):
            problems += _problems(reader=previous, writer=latest)
    return problems


def _problems(reader: SchemaVersion, writer: SchemaVersion) -> list[str]:
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    result = checker.get_compatibility(_parse(reader), _parse(writer))
    if result.compatibility is SchemaCompatibilityType.compatible:
        return []
    return [
        f"{reader.path.name} cannot read {writer.path.name} of {reader.name}: {message}"
        for message in result.messages
    ]


def _parse(version: SchemaVersion) -> avro.schema.Schema:
    return avro.schema.parse(json.dumps(version.definition))
