"""The Faust side of the worker: the app, its tables and topics, and ``FaustRuntime``, the
commit protocol's runtime (``streams.pipeline.ports.Runtime``) on Faust and the broker."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

import faust

from streams.edge.faust.consumer import BatchingConsumer, BatchRoute, RecordBatch
from streams.edge.faust.consumer import install as install_consumer
from streams.edge.faust.rocksdb import store_url
from streams.edge.faust.stop import bound_the_stop, stop_worker
from streams.edge.kafka.admin import ssl_context
from streams.pipeline.ports import RuntimeListener
from streams.settings import Settings

BATCHES_AHEAD = 2
"""Fetched batches waiting for the commit protocol, at most: backpressure on the consumer."""
MIB = 1024 * 1024
GC_OBJECTS_PER_RECORD = 60
"""Tracked objects a batch holds per record at its peak, with room to spare: about 26 for the
benchmark mix (decoded, decided, packed), ConsumerRecords and headers a few more."""
GC_YOUNG_THRESHOLD = 300_000
"""Tracked objects allocated (net of those freed) between two collections of the youngest
generation, at least: more than a batch holds at its peak, so a collection seldom falls
inside one (``gc_young_threshold``)."""
log = logging.getLogger(__name__)


class FaustRuntime:
    """The commit protocol's runtime on Faust.

    * ``next_batch``: the intake topics come by batch (``streams.edge.faust.consumer``): the
      consumer puts each fetch on a queue of ``BATCHES_AHEAD``; a batch fetched before a
      rebalance is sought back to its first offsets and read again, never returned.
    * ``acknowledge``: the batch's offsets join Faust's acknowledged ones, which its commit
      (every ``broker_commit_interval``) commits after flushing the producer.
    * ``listen``: Faust's revocation signal, the customers table's recovery (partitions
      ready) and a timer every ``tick_s``.
    """

    def __init__(
        self, app: faust.App, table: Any, batch_topics: frozenset[str], due_topic: str,
        tick_s: float,
    ) -> None:  # fmt: skip
        self._app = app
        self._table = table
        self._due_topic = due_topic
        self._tick_s = tick_s
        self._batches: asyncio.Queue[RecordBatch] | None = None
        install_consumer(app, BatchRoute(batch_topics, self._put))

    async def _put(self, batch: RecordBatch) -> None:
        await self._queue().put(batch)

    def _queue(self) -> asyncio.Queue[RecordBatch]:
        if self._batches is None:  # on the worker's loop, which exists once it runs
            self._batches = asyncio.Queue(maxsize=BATCHES_AHEAD)
        return self._batches

    @property
    def _consumer(self) -> BatchingConsumer:
        return self._app.consumer  # type: ignore[return-value]

    async def next_batch(self) -> RecordBatch | None:
        queue = self._queue()
        while not self._app.should_stop:
            batch = await queue.get()
            if self._consumer.batch_begin(batch):
                return batch
            await self._consumer.read_again(batch)  # fetched before a rebalance
        return None

    def acknowledge(self, batch: RecordBatch, handled: bool) -> None:
        self._consumer.batch_done(batch, handled)

    def listen(self, listener: RuntimeListener) -> None:
        app, due_topic = self._app, self._due_topic

        @app.on_partitions_revoked.connect  # type: ignore[arg-type]
        async def revoked(app: Any, revoked: Any, **kwargs: Any) -> None:
            listener.revoked()

        @self._table.on_recover  # type: ignore[untyped-decorator]
        async def ready() -> None:
            owned = {tp.partition for tp in app.consumer.assignment() if tp.topic == due_topic}
            await listener.ready(owned)

        async def tick() -> None:  # a function of its own: Faust names its timers by them
            await listener.tick()

        app.timer(self._tick_s)(tick)

    def serve(self, protocol: Any) -> None:
        """Run ``protocol`` (``CommitProtocol``) on this runtime, as one of the app's tasks.
        A failure that is not one record's (the store, the producer) stops the worker, so
        that its orchestrator restarts it and the batch, never acknowledged, is read again.
        Left to Faust, the task would end with the worker running and nothing consumed."""
        self.listen(protocol)

        async def run() -> None:
            try:
                await protocol.run(self)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("a batch could not be handled; stopping the worker")
                await stop_worker(self._app, exc)

        self._app.task(run)


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
        table_standby_replicas=settings.standby_replicas,
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
