"""The composition root: the engine, the per-batch pipeline and the edges, wired together.

Nothing is decided here and nothing touches the network by itself: the engine decides
(``streams.engine``), the pipeline runs a batch (``streams.pipeline``), and the edges speak
to Kafka through Faust (``streams.edge.faust``) and to Redis (``streams.edge.redis``).
"""

from __future__ import annotations

import functools
import os
from dataclasses import replace
from pathlib import Path

import faust
from redis.asyncio import Redis

from streams import __version__
from streams.codecs import AvroCodec
from streams.edge.faust.observe import observe
from streams.edge.faust.producer import DirectProducer
from streams.edge.faust.runtime import FaustRuntime, customers_table, faust_app, raw_topic
from streams.edge.faust.tables import PartitionedTable
from streams.edge.faust.web import add_pages
from streams.edge.kafka.scenario_log import PublishedSince
from streams.edge.redis.catalog import FITS_REFRESH_S, Catalog, read_fits
from streams.edge.redis.ledger import Ledger
from streams.edge.redis.profiles import Profiles
from streams.edge.redis.retry import redis_answers
from streams.edge.registry import SchemaRegistryClient
from streams.engine import Engine
from streams.metrics import Metrics, create_metrics, init_scenario_labels
from streams.pipeline.commands import Commands
from streams.pipeline.commit import CRASH_POINTS, CommitProtocol
from streams.pipeline.dead_letters import DeadLetters
from streams.pipeline.intake import REPARTITION, Intake
from streams.pipeline.processor import Processor
from streams.pipeline.timers import TimerWheel
from streams.scenarios import load_engine
from streams.settings import Settings
from streams.topology import CUSTOMERS_TABLE, due_timers_topic, repartition_topic

REDIS_TIMEOUT_S = 2.0
"""A Redis that does not answer within this is retried (``streams.edge.redis.retry``)."""
CRASH_AT_VARIABLE = "REBOUND_TEST_CRASH_AT"
"""Tests only: the step of the commit protocol at which the worker exits at once, to prove
that a crash there loses nothing (``streams.pipeline.commit.CRASH_POINTS``)."""


def create_app(
    settings: Settings, metrics: Metrics | None = None, engine: Engine | None = None
) -> faust.App:
    """A Faust app wired to ``settings``; the engine defaults to the scenario files'."""
    metrics = metrics or create_metrics(version=__version__)
    engine = engine or load_engine(Path(settings.scenarios_dir))
    init_scenario_labels(metrics, engine.scenarios)
    app = faust_app(settings)
    codec = AvroCodec(
        registry=SchemaRegistryClient(settings.schema_registry_url)
        if settings.schema_registry_url
        else None,
        logical_types=False,  # timestamps as epoch ms: the engine takes either
    )
    redis = _redis(settings.redis_url)
    producer = DirectProducer(app, metrics)
    table = customers_table(app, CUSTOMERS_TABLE, settings)
    customers = PartitionedTable(table, producer)
    due_topic, repartition = due_timers_topic(settings), repartition_topic(settings)
    kinds_by_topic = {topic: kind for kind, topic in settings.event_topics.items()}
    kinds_by_topic[due_topic] = "timer"
    kinds_by_topic[repartition] = REPARTITION
    dead_letters = DeadLetters(producer, settings.dead_letter_topic, metrics)
    intake = Intake(kinds_by_topic, codec, dead_letters, settings.max_future_s)
    commands = Commands(
        settings.command_topics,
        codec,
        Catalog(redis, metrics),
        Ledger(redis, metrics, settings.ledger_ttl_s),
        metrics,
        clock=settings.clock(),
    )
    protocol = CommitProtocol(
        Processor(
            engine,
            intake,
            customers,
            producer,
            repartition,
            metrics,
            Profiles(
                _redis(settings.redis_url, decode_responses=True),
                metrics,
                settings.profile_cache_s,
            ),
        ),
        commands,
        customers,
        producer,
        TimerWheel(),
        due_topic,
        metrics,
        clock=settings.clock(),
        crash_at=_crash_at(),
        versions=PublishedSince(settings, engine),
    )
    app.topics.add(raw_topic(app, *kinds_by_topic, settings=settings))
    runtime = FaustRuntime(app, table, frozenset(kinds_by_topic), due_topic, settings.timer_tick_s)
    runtime.serve(protocol)
    check_redis = functools.partial(redis_answers, redis, metrics)
    app.timer(REDIS_CHECK_INTERVAL_S)(check_redis)

    async def refresh_fits() -> None:  # the catalog's compatibility rules, as they change
        engine.fits = await read_fits(redis, metrics)

    app.timer(FITS_REFRESH_S)(refresh_fits)
    add_pages(app, metrics, check_redis)
    observe(app, metrics)
    return app


REDIS_CHECK_INTERVAL_S = 10.0


def run_worker(create_topics: bool = True) -> None:
    """The worker's boot, from the environment's settings: check what it relies on (Faust's
    private parts, the scenario files, Kafka, Redis, the topics) so that a bad configuration
    stops it with a sentence before it joins the group; load the scenario versions of the
    customers in flight; then run the app until it stops."""
    import mode.loop

    from streams.edge.faust import private
    from streams.edge.faust.runtime import faust_worker, tune_gc
    from streams.edge.kafka import scenario_log
    from streams.edge.kafka.preflight import check_kafka
    from streams.edge.kafka.topics import check_topics, ensure_topics
    from streams.edge.redis.catalog import fits_now
    from streams.edge.redis.preflight import check_redis, sync_client

    private.check()  # a Faust or aiokafka without what Rebound relies on stops the start
    settings = Settings.from_env()
    if not create_topics:
        settings = replace(settings, create_topics=False)
    load_engine(Path(settings.scenarios_dir))  # a bad file stops the start, before connecting
    check_kafka(settings)
    check_redis(settings)
    if settings.create_topics:
        ensure_topics(settings)
    else:
        check_topics(settings)
    engine = scenario_log.load(settings)  # with the versions of customers in flight
    engine.fits = fits_now(sync_client(settings))  # then every minute
    if settings.event_loop == "uvloop":
        mode.loop.use("uvloop")  # before the worker creates its loop
    app = create_app(settings, engine=engine)
    tune_gc(settings.batch_max_records)
    faust_worker(app, settings.log_level, settings.log_format).execute_from_commandline()


def _redis(url: str, decode_responses: bool = False) -> Redis:
    return Redis.from_url(
        url,
        decode_responses=decode_responses,
        socket_timeout=REDIS_TIMEOUT_S,
        socket_connect_timeout=REDIS_TIMEOUT_S,
    )


def _crash_at() -> str | None:
    step = os.environ.get(CRASH_AT_VARIABLE) or None
    if step is not None and step not in CRASH_POINTS:
        raise ValueError(f"{CRASH_AT_VARIABLE}={step!r}: one of {', '.join(CRASH_POINTS)}")
    return step
