"""The Faust app factory: topics, the intake agent, the web pages."""

from __future__ import annotations

from typing import Any

import faust
from redis.asyncio import Redis

from streams import __version__
from streams.codecs import AvroCodec, SchemaRegistryClient
from streams.kafka_admin import ssl_context
from streams.metrics import Metrics, create_metrics
from streams.settings import Settings
from streams.worker.dead_letter import DeadLetters
from streams.worker.intake import Intake
from streams.worker.web import add_pages, redis_answers

REDIS_CHECK_INTERVAL_S = 10.0


def create_app(settings: Settings, metrics: Metrics | None = None) -> faust.App:
    """A Faust app wired to ``settings``; ``metrics`` defaults to a fresh registry."""
    metrics = metrics or create_metrics(version=__version__)
    app = faust.App(
        settings.app_id,
        broker=settings.broker_url,
        broker_credentials=_credentials(settings),
        store=settings.store,
        datadir=settings.data_dir,
        web_host=settings.web_host,
        web_port=settings.web_port,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        autodiscover=False,
    )
    codec = AvroCodec(
        registry=SchemaRegistryClient(settings.schema_registry_url)
        if settings.schema_registry_url
        else None
    )
    redis = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    dead_letter_topic = _raw_topic(app, settings.dead_letter_topic, settings=settings)
    dead_letters = DeadLetters(dead_letter_topic, metrics)
    kinds_by_topic = {topic: kind for kind, topic in settings.event_topics.items()}
    intake = Intake(kinds_by_topic, codec, dead_letters, metrics)
    events_topic = _raw_topic(app, *kinds_by_topic, settings=settings)

    @app.agent(events_topic, name="intake")
    async def intake_agent(stream: Any) -> None:
        async for event in stream.events():
            await intake.process(event.message)

    @app.timer(REDIS_CHECK_INTERVAL_S)  # type: ignore[untyped-decorator]
    async def check_redis() -> None:
        await redis_answers(redis, metrics)

    add_pages(app, metrics, redis)
    return app


def _raw_topic(app: faust.App, *names: str, settings: Settings) -> Any:
    return app.topic(
        *names,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.partitions,
    )


def _credentials(settings: Settings) -> Any:
    if settings.security_protocol == "SSL":
        return faust.SSLCredentials(ssl_context(settings))
    if settings.security_protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password,
            mechanism=settings.sasl_mechanism,
            ssl_context=ssl_context(settings) if settings.security_protocol == "SASL_SSL" else None,
        )
    return None
