"""Avro encoding and decoding with fastavro, in one of two wire formats.

* Plain (no schema registry): the body is the bare Avro encoding; the headers
  ``rebound.schema`` and ``rebound.schema.fingerprint`` name the writer's schema, so a reader
  can resolve records written with an earlier version. A record without these headers is
  read with the latest version of the schema its topic expects.
* Confluent (``REBOUND_SCHEMA_REGISTRY_URL`` set): magic byte 0, a 4-byte schema id, the body;
  schemas are registered under the subject ``{topic}-value``.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterable
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer

from streams.codecs.exceptions import CodecError, DecodeError
from streams.codecs.registry import SchemaRegistryClient
from streams.codecs.schemas import SchemaRepository, SchemaVersion, without_logical_types

SCHEMA_HEADER = "rebound.schema"
FINGERPRINT_HEADER = "rebound.schema.fingerprint"
_CONFLUENT_MAGIC = 0
_CONFLUENT_PREFIX = struct.Struct(">bI")

Headers = list[tuple[str, bytes]]


class AvroCodec:
    """Encodes and decodes the records named in ``schemas/``; schemas are parsed once."""

    def __init__(
        self,
        repository: SchemaRepository | None = None,
        registry: SchemaRegistryClient | None = None,
        logical_types: bool = True,
    ) -> None:
        """``logical_types=False`` decodes timestamps as epoch milliseconds, not datetimes:
        faster, for the worker's hot path."""
        self.repository = repository or SchemaRepository()
        self.registry = registry
        self.logical_types = logical_types
        self._registry_writers: dict[int, Any] = {}
        self._plain_headers: dict[str, Headers] = {}
        self._writers: dict[tuple[str, bytes], SchemaVersion] = {}
        """(record name, fingerprint header) -> the writer's schema, once known good."""

    def encode(self, name: str, record: dict[str, Any], topic: str) -> tuple[bytes, Headers]:
        """The bytes and headers of ``record`` written with the latest version of ``name``."""
        schema = self.repository.latest(name)
        buffer = io.BytesIO()
        if self.registry is not None:
            schema_id = self.registry.register(f"{topic}-value", schema.definition)
            buffer.write(_CONFLUENT_PREFIX.pack(_CONFLUENT_MAGIC, schema_id))
        try:
            schemaless_writer(buffer, schema.parsed, record)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise CodecError(f"cannot encode {name}: {exc}") from exc
        return buffer.getvalue(), self._headers_for(schema)

    def decode(self, name: str, payload: bytes | None, headers: Iterable[tuple[str, bytes]]) -> Any:
        """The record in ``payload``, resolved to the latest version of ``name``."""
        if not payload:
            raise DecodeError(f"empty record where a {name} was expected")
        latest = self.repository.latest(name)
        reader = latest.parsed if self.logical_types else latest.plain
        body: bytes | memoryview = payload
        if self.registry is not None:
            writer, body = self._confluent_writer(payload), memoryview(payload)[5:]
        else:
            version = self._plain_writer(name, headers)
            writer = version.parsed if self.logical_types else version.plain
        return _read(body, writer, None if writer is reader else reader, name)

    def _headers_for(self, schema: SchemaVersion) -> Headers:
        if schema.name not in self._plain_headers:
            self._plain_headers[schema.name] = [
                (SCHEMA_HEADER, schema.name.encode()),
                (FINGERPRINT_HEADER, schema.fingerprint.encode()),
            ]
        return self._plain_headers[schema.name]

    def _plain_writer(self, name: str, headers: Iterable[tuple[str, bytes]]) -> SchemaVersion:
        for key, value in headers or ():
            if key == FINGERPRINT_HEADER:
                writer = self._writers.get((name, value))
                if writer is None:
                    writer = self._writers[(name, bytes(value))] = self._by_fingerprint(name, value)
                return writer
        return self.repository.latest(name)

    def _by_fingerprint(self, name: str, value: bytes) -> SchemaVersion:
        writer = self.repository.by_fingerprint(bytes(value).decode(errors="replace"))
        if writer is None:
            raise DecodeError(f"unknown writer schema fingerprint {value!r} for {name}")
        if writer.name != name:
            raise DecodeError(f"record is a {writer.name}, this topic carries {name}")
        return writer

    def _confluent_writer(self, payload: bytes) -> Any:
        if len(payload) < 5 or payload[0] != _CONFLUENT_MAGIC:
            raise DecodeError("not in the Confluent wire format (no magic byte 0)")
        _, schema_id = _CONFLUENT_PREFIX.unpack_from(payload)
        if schema_id not in self._registry_writers and self.registry is not None:
            definition = self.registry.schema(schema_id)
            if not self.logical_types:
                definition = without_logical_types(definition)
            self._registry_writers[schema_id] = parse_schema(definition)
        return self._registry_writers[schema_id]


def _read(body: bytes | memoryview, writer: Any, reader: Any, name: str) -> Any:
    stream = io.BytesIO(body)
    try:
        record = schemaless_reader(stream, writer, reader)
    # fastavro raises any of a dozen exception types on bytes that are not its schema's.
    except Exception as exc:
        raise DecodeError(f"not a valid {name}: {type(exc).__name__}: {exc}") from exc
    if stream.tell() != len(body):
        raise DecodeError(f"not a valid {name}: {len(body) - stream.tell()} bytes left over")
    return record
