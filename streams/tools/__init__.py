"""The ``rebound`` command's sub-commands, one module each: its name, summary, the
environment it reads, its arguments (``add_arguments``) and what it does (``run``).
``streams.cli`` gathers them; the worker's boot is the composition root's (``streams.app``)."""

from __future__ import annotations

from types import ModuleType

KAFKA = ("REBOUND_BROKER_URL", "REBOUND_SECURITY_PROTOCOL", "REBOUND_SASL_*", "REBOUND_SSL_*")
REDIS = ("REBOUND_REDIS_URL",)
TOPICS = ("REBOUND_TOPIC_PREFIX", "REBOUND_TOPIC_*", "REBOUND_APP_ID")


def commands() -> list[ModuleType]:
    """The sub-commands, in the order ``rebound --help`` lists them."""
    from streams.tools import (
        catalog,
        profiles,
        replay,
        report,
        scenarios,
        settings,
        tail,
        topics,
        validate,
        worker,
    )

    return [worker, topics, catalog, profiles, validate, tail, replay, report, scenarios, settings]
