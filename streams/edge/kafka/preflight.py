"""Kafka checked before the worker starts, so bad configuration ends with a sentence, not a
traceback: which address does not answer, which variable sets it, what to do."""

from __future__ import annotations

from streams.edge.kafka.admin import admin_client
from streams.settings import Settings


def check_kafka(settings: Settings) -> None:
    """Raise ``ConfigurationError`` unless a broker of ``REBOUND_BROKER_URL`` answers."""
    admin = admin_client(settings, timeout_ms=5000)
    admin.close()
