"""Avro codecs: the committed schemas, the two wire formats, what they need of a schema registry."""

from streams.codecs.avro import FINGERPRINT_HEADER, SCHEMA_HEADER, AvroCodec
from streams.codecs.exceptions import (
    CodecError,
    DecodeError,
    RegistryUnavailable,
    SchemaRegistryError,
    UnknownSchemaId,
)
from streams.codecs.records import EVENT_RECORDS, SEND_COMMAND
from streams.codecs.registry import SchemaRegistry
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
    "SchemaRegistry",
    "SchemaRegistryError",
    "SchemaRepository",
    "SchemaVersion",
    "UnknownSchemaId",
]
