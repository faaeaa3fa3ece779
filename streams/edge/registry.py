"""A small HTTP client of a Confluent-compatible schema registry (subjects ``{topic}-value``).

Lookups are cached forever: a schema id never changes meaning, and a registered schema keeps
its id. Only the first encode or decode of each schema goes over the network.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from streams.codecs.exceptions import RegistryUnavailable, SchemaRegistryError, UnknownSchemaId

_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class SchemaRegistryClient:
    """Registers schemas and fetches them by id."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self._timeout_s = timeout_s
        self._ids: dict[tuple[str, str], int] = {}
        self._schemas: dict[int, dict[str, Any]] = {}

    def register(self, subject: str, definition: dict[str, Any]) -> int:
        """The id of ``definition`` under ``subject``, registering it the first time."""
        text = json.dumps(definition, sort_keys=True)
        key = (subject, text)
        if key not in self._ids:
            body = self._request("POST", f"/subjects/{subject}/versions", {"schema": text})
            self._ids[key] = int(body["id"])
            self._schemas[self._ids[key]] = definition
        return self._ids[key]

    def schema(self, schema_id: int) -> dict[str, Any]:
        """The schema registered under ``schema_id``."""
        if schema_id not in self._schemas:
            body = self._request("GET", f"/schemas/ids/{schema_id}", None)
            self._schemas[schema_id] = json.loads(body["schema"])
        return self._schemas[schema_id]

    def _request(self, method: str, path: str, payload: dict[str, Any] | None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(  # noqa: S310 (the URL is the operator's setting)
            self.url + path, data=data, method=method, headers={"Content-Type": _CONTENT_TYPE}
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            error = (
                UnknownSchemaId
                if exc.code == 404 and path.startswith("/schemas/ids/")
                else RegistryUnavailable
                if exc.code >= 500
                else SchemaRegistryError
            )
            raise error(
                f"schema registry {self.url} answered {exc.code} to {method} {path}: "
                f"{exc.read().decode(errors='replace')[:200]}"
            ) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise RegistryUnavailable(
                f"cannot reach the schema registry at {self.url} ({exc}); "
                "check REBOUND_SCHEMA_REGISTRY_URL"
            ) from exc
