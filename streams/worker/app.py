"""The Faust app factory: tables, the intake agent, the timer loop, the web pages."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from pathlib import Path
from typing import Any

import faust
from redis.asyncio import Redis

from streams import __version__
from streams.codecs import AvroCodec, SchemaRegistryClient
from streams.engine import Engine, TimerFired
from streams.kafka_admin import ssl_context
from streams.metrics import Metrics, create_metrics, init_scenario_labels
from streams.scenarios import load_scenarios
from streams.settings import Settings
from streams.topology import CUSTOMERS_TABLE, due_timers_topic
from streams.worker.catalog import Catalog
from streams.worker.commands import CommandPublisher
from streams.worker.consumer import BatchingConsumer, BatchRoute
from streams.worker.consumer import install as install_consumer
from streams.worker.dead_letter import DeadLetters
from streams.worker.intake import Intake
from streams.worker.ledger import Ledger
from streams.worker.processor import Processor
from streams.worker.producer import DirectProducer
from streams.worker.rocksdb import store_url
from streams.worker.tables import PartitionedTable
from streams.worker.timers import TimerWheel, timer_to_bytes
from streams.worker.web import add_pages, redis_answers

REDIS_CHECK_INTERVAL_S = 10.0
BATCHES_AHEAD = 2
"""Fetched batches waiting for the intake agent, at most: backpressure on the consumer."""
MIB = 1024 * 1024
GC_YOUNG_THRESHOLD = 10_000
log = logging.getLogger(__name__)


def create_app(
    settings: Settings, metrics: Metrics | None = None, engine: Engine | None = None
) -> faust.App:
    """A Faust app wired to ``settings``; the engine defaults to the scenario files'."""
    metrics = metrics or create_metrics(version=__version__)
    engine = engine or Engine(load_scenarios(Path(settings.scenarios_dir)))
    init_scenario_labels(metrics, (s.id for s in engine.scenarios))
    app = _faust_app(settings)
    codec = AvroCodec(
        registry=SchemaRegistryClient(settings.schema_registry_url)
        if settings.schema_registry_url
        else None,
        logical_types=False,  # timestamps as epoch ms: the engine takes either
    )
    redis = Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    producer = DirectProducer(app)
    customers = PartitionedTable(_table(app, CUSTOMERS_TABLE, settings), producer)
    wheel = TimerWheel()
    publisher = CommandPublisher(
        producer,
        settings.command_topics,
        codec,
        Catalog(redis, metrics),
        Ledger(redis, metrics, settings.ledger_ttl_s),
        metrics,
    )
    due_topic_name = due_timers_topic(settings)
    dead_letter_topic = _raw_topic(app, settings.dead_letter_topic, settings=settings)
    kinds_by_topic = {topic: kind for kind, topic in settings.event_topics.items()}
    kinds_by_topic[due_topic_name] = "timer"
    intake = Intake(kinds_by_topic, codec, DeadLetters(dead_letter_topic, metrics))
    processor = Processor(engine, intake, customers, wheel, publisher, metrics)

    # The intake topics come by batch (see streams.worker.consumer): the consumer puts each
    # fetch on this channel, and the intake agent handles it as a whole.
    batches = app.channel(maxsize=BATCHES_AHEAD)
    install_consumer(app, BatchRoute(frozenset(kinds_by_topic), batches.put))  # type: ignore[arg-type]
    app.topics.add(_raw_topic(app, *kinds_by_topic, settings=settings))

    # Firing due timers and handling a batch take turns: when many timers fall due at
    # once, they are all published before the intake takes the loop again.
    turns = asyncio.Lock()

    @app.agent(batches, name="intake", concurrency=1)
    async def intake_agent(stream: Any) -> None:
        async for batch in stream:
            await handle_or_stop(app, app.consumer, processor, batch, turns)  # type: ignore[arg-type]
            metrics.batch_size.observe(len(batch.records))

    @customers.table.on_recover  # type: ignore[untyped-decorator]
    async def rebuild_timer_schedules() -> None:
        owned = {tp.partition for tp in app.consumer.assignment() if tp.topic == due_topic_name}
        wheel.rebuild(owned, customers.items())
        metrics.timers_pending.set(len(wheel))
        log.info("timer schedules rebuilt for partitions %s: %d timers", sorted(owned), len(wheel))

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def stop_firing(app: Any, revoked: Any, **kwargs: Any) -> None:
        wheel.clear()

    @app.timer(settings.timer_tick_s)  # type: ignore[untyped-decorator]
    async def fire_due_timers() -> None:
        async with turns:
            await _fire_due(wheel, producer, due_topic_name, metrics)

    @app.timer(REDIS_CHECK_INTERVAL_S)  # type: ignore[untyped-decorator]
    async def check_redis() -> None:
        await redis_answers(redis, metrics)

    add_pages(app, metrics, redis)
    return app


async def handle_or_stop(
    app: Any, consumer: BatchingConsumer, processor: Processor, batch: Any, turns: asyncio.Lock
) -> None:
    """Handle one fetched batch. A record that cannot be handled goes to the dead-letter
    topic inside ``handle_batch``; anything else that fails (the store, the producer) stops
    the worker, so that its orchestrator restarts it and the batch, never acknowledged, is
    read again. Left to Faust, the agent would restart in place with the batch's offsets
    unacknowledged, and commits would stall behind them."""
    if not consumer.batch_begin(batch):
        await consumer.read_again(batch)  # fetched before a rebalance
        return
    handled = False
    try:
        async with turns:
            await processor.handle_batch(batch.records)
        handled = True
    except Exception as exc:
        log.exception("a batch could not be handled; stopping the worker")
        await app.crash(exc)
    finally:
        consumer.batch_done(batch, handled)


async def _fire_due(
    wheel: TimerWheel, producer: DirectProducer, topic: str, metrics: Metrics
) -> None:
    """Publish every due timer, as one record batch per partition.

    A timer rescheduled or cancelled since it was scheduled is published too: its
    version no longer matches, so the engine makes its fire a no-op. Checking it against
    the ``customers`` table here instead cost a table read per timer, which made a hundred
    thousand due at once seconds late.
    """
    if not wheel.ready:
        return
    for partition, entries in wheel.pop_due(time.time()).items():
        records = (
            (key, timer_to_bytes(TimerFired(key.decode(), instance_id, version, due_at)))
            for due_at, key, instance_id, version in entries
        )
        await producer.send_partition(topic, partition, records, lambda _: None)
        metrics.timers_fired.inc(len(entries))
    metrics.timers_pending.set(len(wheel))


def tune_gc() -> None:
    """Fewer garbage collections in the worker: what exists at start (modules, Faust, the
    app) is frozen out of them, and the youngest generation is collected every 10,000
    allocations rather than 700. Each batch allocates tens of thousands of short-lived
    objects (decoded records, states, effects), so the default thresholds ran a collection
    many times per batch; worker throughput over the benchmark mix went from 5.8-8.4k to
    9.1-9.5k events/s (three runs each)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)


def _faust_app(settings: Settings) -> faust.App:
    return faust.App(
        settings.app_id,
        broker=settings.broker_url,
        broker_credentials=_credentials(settings),
        store=store_url(settings.store),
        datadir=settings.data_dir,
        web_host=settings.web_host,
        web_port=settings.web_port,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_session_timeout=settings.session_timeout_s,
        broker_max_poll_records=settings.batch_max_records,
        producer_max_batch_size=settings.producer_batch_kib * 1024,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 4),
        autodiscover=False,
    )


def _table(app: faust.App, name: str, settings: Settings) -> Any:
    # Keys are customer ids, values JSON, both as bytes written by Rebound (bytes types
    # give Faust's raw codec).
    options = None
    if settings.store.startswith("rocksdb"):
        options = {
            "write_buffer_size": settings.rocksdb_write_buffer_mib * MIB,
            "max_write_buffer_number": 2,
            "block_cache_size": settings.rocksdb_block_cache_mib * MIB,
        }
    return app.Table(
        name,
        key_type=bytes,
        value_type=bytes,
        partitions=settings.partitions,
        options=options,
    )


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
