"""The Faust side of the worker: the app, its tables and topics, the intake agent that hands
each fetched batch to the commit protocol, the timer loop, recovery hooks, the web pages."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from collections.abc import Sequence
from typing import Any, Protocol

import faust

from streams.edge.faust.consumer import BatchingConsumer, BatchRoute
from streams.edge.faust.consumer import install as install_consumer
from streams.edge.faust.rocksdb import store_url
from streams.edge.faust.stop import bound_the_stop, stop_worker
from streams.engine.scenario import Scenario
from streams.kafka_admin import ssl_context
from streams.metrics import Metrics
from streams.pipeline.commit import CommitProtocol
from streams.settings import Settings

BATCHES_AHEAD = 2
"""Fetched batches waiting for the intake agent, at most: backpressure on the consumer."""
MIB = 1024 * 1024
GC_OBJECTS_PER_RECORD = 60
"""Tracked objects a batch holds per record at its peak, with room to spare: about 26 for the
benchmark mix (decoded, decided, packed), ConsumerRecords and headers a few more."""
GC_YOUNG_THRESHOLD = 300_000
"""Tracked objects allocated (net of those freed) between two collections of the youngest
generation, at least: more than a batch holds at its peak, so a collection seldom falls
inside one (``gc_young_threshold``)."""
log = logging.getLogger(__name__)


class ScenarioVersions(Protocol):
    """The scenario versions other workers published (``streams.scenario_log``)."""

    def read_new(self) -> Sequence[Scenario]:
        """The versions the engine does not know; blocking."""
        ...

    def keep(self, scenarios: Sequence[Scenario]) -> None:
        """Give them to the engine, for the instances in flight on them."""
        ...


def attach(
    app: faust.App,
    table: Any,
    protocol: CommitProtocol,
    batch_topics: frozenset[str],
    due_topic: str,
    metrics: Metrics,
    tick_s: float,
    crash_at: str | None = None,
    versions: ScenarioVersions | None = None,
) -> None:
    """The intake agent, the recovery hooks and the timer loop of ``app``; ``table`` is the
    customers table. When partitions have come, before their timers are scheduled, the
    scenario ``versions`` published since the start are read and kept."""
    # The intake topics come by batch (see streams.edge.faust.consumer): the consumer puts
    # each fetch on this channel, and the intake agent handles it as a whole.
    batches = app.channel(maxsize=BATCHES_AHEAD)
    install_consumer(app, BatchRoute(batch_topics, batches.put))  # type: ignore[arg-type]
    # Firing due timers and handling a batch take turns: when many timers fall due at
    # once, they are all published before the intake takes the loop again.
    turns = asyncio.Lock()

    @app.agent(batches, name="intake", concurrency=1)
    async def intake_agent(stream: Any) -> None:
        async for batch in stream:
            started = time.perf_counter()
            await handle_or_stop(app, app.consumer, protocol, batch, turns, crash_at)  # type: ignore[arg-type]
            metrics.batch_duration.observe(time.perf_counter() - started)
            metrics.batch_size.observe(len(batch.records))

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def stop_firing(app: Any, revoked: Any, **kwargs: Any) -> None:
        protocol.forget_partitions()

    @app.timer(tick_s)  # type: ignore[untyped-decorator]
    async def tick() -> None:
        async with turns:
            await protocol.tick()

    @table.on_recover  # type: ignore[untyped-decorator]
    async def recover() -> None:
        owned = {tp.partition for tp in app.consumer.assignment() if tp.topic == due_topic}
        new: Sequence[Scenario] = ()
        if versions is not None:
            try:  # blocking I/O: in a thread; the engine changes on the loop, between batches
                new = await asyncio.get_running_loop().run_in_executor(None, versions.read_new)
            except Exception:  # the versions this worker has are the fallback
                log.exception("reading the scenario versions again failed; going on without")
        async with turns:
            if new and versions is not None:
                versions.keep(new)
            await protocol.recover(owned)


async def handle_or_stop(
    app: Any,
    consumer: BatchingConsumer,
    protocol: CommitProtocol,
    batch: Any,
    turns: asyncio.Lock,
    crash_at: str | None = None,
) -> None:
    """Handle one fetched batch. A record that cannot be handled goes to the dead-letter
    topic inside the protocol; anything else that fails (the store, the producer) stops the
    worker, so that its orchestrator restarts it and the batch, never acknowledged, is read
    again. Left to Faust, the agent would restart in place with the batch's offsets
    unacknowledged, and commits would stall behind them."""
    if not consumer.batch_begin(batch):
        await consumer.read_again(batch)  # fetched before a rebalance
        return
    handled = False
    try:
        async with turns:
            await protocol.handle_batch(batch.records)
        handled = True
    except Exception as exc:
        log.exception("a batch could not be handled; stopping the worker")
        await stop_worker(app, exc)
    finally:
        consumer.batch_done(batch, handled)
    if handled and crash_at == "acknowledged":  # tests only: before Faust's commit
        log.warning("REBOUND_TEST_CRASH_AT=acknowledged: exiting now")
        os._exit(86)


def gc_young_threshold(batch_max_records: int) -> int:
    """The youngest generation's threshold for batches of up to ``batch_max_records``."""
    return max(GC_YOUNG_THRESHOLD, GC_OBJECTS_PER_RECORD * batch_max_records)


def tune_gc(batch_max_records: int) -> None:
    """Fewer garbage collections in the worker: what exists at start (modules, Faust, the app) is
    frozen out of them, and the youngest generation is collected after more net allocations
    than a batch holds (``gc_young_threshold``: 300,000 for batches of 5,000) rather than 700.

    A batch holds its records, states and effects until it is done, then frees them by
    reference counting, which lowers the count again. A threshold under that peak runs
    collections inside the batch, each scanning and promoting objects that are all alive:
    11% of the worker's CPU in a native profile at a threshold of 10,000 (py-spy --native
    over the benchmark mix, 2026-12-03). Over it, collections only come as survivors and
    cyclic garbage add up across batches. Measured over the same 150,000 events, two runs
    each, interleaved: 43.0-47.2 ms of CPU per 1,000 events at 10,000, 39.1-40.8 at 300,000,
    39.8-42.1 with the collector off. (At 700, the default, against 10,000: 5.8-8.4k against
    9.1-9.5k events/s, 2026-11.) The cost: up to that many objects of cyclic garbage wait
    for the next collection (tens of MiB at most)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(gc_young_threshold(batch_max_records), 10, 10)


def faust_worker(app: faust.App, log_level: str, log_format: str = "text") -> faust.Worker:
    """The Faust worker that runs ``app``, without its terminal spinner: at a log level of
    WARNING or above, the spinner sets the root logger to DEBUG so that every record moves
    it, and every library's debug call then builds a record and runs the handlers (1% of
    the worker's CPU under load, in a py-spy profile). ``log_format`` json: one JSON object
    per log line on stdout, and no banner."""
    json_lines = log_format == "json"
    worker = BoundedWorker(
        app,
        loglevel=log_level,
        quiet=json_lines,
        logging_config=json_logging(log_level) if json_lines else None,
    )
    worker.spinner = None
    return worker


class BoundedWorker(faust.Worker):
    """Faust's worker, whose stop (a SIGTERM from Kubernetes) is bounded by
    ``STOP_TIMEOUT_S``, inside the pod's grace period: a stop while Redis is away waited on
    it for more than 90 s (``tests/integration/test_outage_stop.py``)."""

    async def on_stop(self) -> None:
        bound_the_stop()
        await super().on_stop()


def json_logging(log_level: str) -> dict[str, Any]:
    """The logging configuration of JSON lines: time, level, logger, message (and the
    exception, when there is one), through python-json-logger."""
    level = log_level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
        },
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "level": level,
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"level": level, "handlers": ["default"]},
    }


def faust_app(settings: Settings) -> faust.App:
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
        topic_allow_declare=settings.create_topics,  # else topics are resources, declared
    )


def customers_table(app: faust.App, name: str, settings: Settings) -> Any:
    """The table of customers' records (``streams.pipeline.stored``)."""
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


def raw_topic(app: faust.App, *names: str, settings: Settings) -> Any:
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
