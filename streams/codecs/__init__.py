"""Avro codecs: the committed schemas, the two wire formats, the schema registry client."""

from streams.codecs.avro import FINGERPRINT_HEADER, SCHEMA_HEADER, AvroCodec
from streams.codecs.exceptions import (
    CodecError,
    DecodeError,
    RegistryUnavailable,
    SchemaRegistryError,
    UnknownSchemaId,
)
from streams.codecs.records import EVENT_RECORDS, SEND_COMMAND
from streams.codecs.registry import SchemaRegistryClient
from streams.codecs.schemas import SchemaRepository, SchemaVersion

__all__ = [
    "EVENT_RECORDS",
    "FINGERPRINT_HEADER",
    "SCHEMA_HEADER",
    "SEND_COMMAND",
    "AvroCodec",
    "CodecError",
    "DecodeError",
    "RegistryUnavailable",
    "SchemaRegistryClient",
    "SchemaRegistryError",
    "SchemaRepository",
    "SchemaVersion",
    "UnknownSchemaId",
]
