"""Errors of the Avro codecs."""

from streams.exceptions import ReboundError


class CodecError(ReboundError):
    """A record could not be encoded or decoded."""


class DecodeError(CodecError):
    """The bytes on a topic are not a record Rebound can read; the record goes to the DLQ."""


class SchemaRegistryError(CodecError):
    """The schema registry refused a request or could not be reached."""
