"""Errors of the pure engine."""

from streams.exceptions import ReboundError


class EngineError(ReboundError):
    """Base class of the engine's errors."""


class InvalidEvent(EngineError):
    """A decoded event breaks a rule of its contract (e.g. no customer id); it goes to the DLQ."""
