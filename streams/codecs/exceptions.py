"""Errors of the Avro codecs."""

from streams.exceptions import ReboundError


class CodecError(ReboundError):
    """A record could not be encoded or decoded."""


class DecodeError(CodecError):
    """The bytes on a topic are not a record Rebound can read; the record goes to the DLQ."""


class SchemaRegistryError(CodecError):
    """The schema registry refused a request or could not be reached."""


class UnknownSchemaId(SchemaRegistryError, DecodeError):
    """The registry does not know a record's schema id: that record's fault, so it goes to
    the dead-letter topic."""


class RegistryUnavailable(SchemaRegistryError):
    """The registry cannot be reached or failed (5xx): nobody's record is at fault, so the
    worker waits and tries again."""
