"""What the codec needs of a Confluent-compatible schema registry (subjects
``{topic}-value``); the HTTP client is ``streams.edge.registry.SchemaRegistryClient``."""

from __future__ import annotations

from typing import Any, Protocol


class SchemaRegistry(Protocol):
    def register(self, subject: str, definition: dict[str, Any]) -> int:
        """The id of ``definition`` under ``subject``, registering it the first time."""
        ...

    def schema(self, schema_id: int) -> dict[str, Any]:
        """The schema registered under ``schema_id``."""
        ...
