"""The root of Rebound's exceptions: catch `ReboundError` to catch them all."""


class ReboundError(Exception):
    """Base class of every error Rebound raises on purpose."""


class ConfigurationError(ReboundError):
    """A setting is missing, malformed, or names a service that does not answer."""
