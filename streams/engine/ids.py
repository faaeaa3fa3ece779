"""Deterministic ids: the same inputs give the same id, so a replay publishes the same
commands and channel services can deduplicate."""

from __future__ import annotations

import hashlib
import uuid


def command_id(
    customer_id: str, scenario_id: str, version: int, instance_id: str, step: str
) -> str:
    """A UUID derived from customer, scenario, version, instance and step."""
    text = "\x1f".join((customer_id, scenario_id, str(version), instance_id, step))
    return str(uuid.UUID(bytes=hashlib.sha256(text.encode()).digest()[:16], version=5))
