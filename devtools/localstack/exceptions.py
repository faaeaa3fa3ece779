"""Errors of the local stack."""

from streams.exceptions import ReboundError


class LocalStackError(ReboundError):
    """A local service could not be fetched, started or reached; the message says what to do."""
