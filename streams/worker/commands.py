"""Send commands: enriched from the catalog, encoded as Avro, published to the channel topic.

A command whose id is in the ledger is not published again; an id enters the ledger once the
broker has acknowledged the command. No contact details, no personal data: channel services
resolve the customer id themselves.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from typing import Any

from streams.codecs import SEND_COMMAND, AvroCodec
from streams.engine.effects import SendCommand
from streams.metrics import Metrics
from streams.worker.catalog import Catalog, Product
from streams.worker.ledger import Ledger
from streams.worker.producer import DirectProducer, KeyedRecord

log = logging.getLogger(__name__)


def command_record(command: SendCommand, products: list[Product]) -> dict[str, Any]:
    """The Avro ``SendCommand`` record of an engine effect."""
    offer = command.offer
    return {
        "command_id": command.command_id,
        "customer_id": command.customer_id,
        "channel": command.channel,
        "scenario_id": command.scenario_id,
        "scenario_version": command.scenario_version,
        "step_id": command.step_id,
        "template": command.template,
        "personalisation": dict(command.personalisation),
        "recommendations": [
            {"sku": p.sku, "name": p.name, "price": p.price, "currency": p.currency, "url": p.url}
            for p in products
        ],
        "offer": None
        if offer is None
        else {
            "code": offer.code,
            "description": offer.description,
            "discount_percent": offer.discount_percent,
        },
        "trigger": {
            "kind": command.trigger_kind,
            "event_id": command.trigger_event_id,
            "order_id": command.order_id,
        },
        "created_at": int(command.created_at * 1000),
        "not_after": int(command.not_after * 1000),
    }


class CommandPublisher:
    def __init__(
        self,
        producer: DirectProducer,
        topic_names: dict[str, str],
        codec: AvroCodec,
        catalog: Catalog,
        ledger: Ledger,
        metrics: Metrics,
    ) -> None:
        self._producer = producer
        self._names = topic_names
        self._codec = codec
        self._catalog = catalog
        self._ledger = ledger
        self._metrics = metrics
        self._to_record: list[str] = []
        self._recording: asyncio.Future[None] | None = None

    async def publish_many(self, commands: Sequence[SendCommand]) -> None:
        """Publish ``commands`` in order, but those the ledger knows; returns once they are
        in the producer's buffer (Faust flushes it before committing offsets)."""
        seen = await self._ledger.published_many([c.command_id for c in commands])
        by_topic: dict[str, tuple[list[KeyedRecord], list[SendCommand]]] = {}
        for command, published in zip(commands, seen, strict=True):
            if published:
                self._metrics.commands_suppressed.inc()
                continue
            topic = self._names[command.channel]
            products = await self._catalog.products(command.recommendations)
            value, headers = self._codec.encode(
                SEND_COMMAND, command_record(command, products), topic
            )
            records, sent = by_topic.setdefault(topic, ([], []))
            records.append((command.customer_id.encode(), value, headers))
            sent.append(command)
        for topic, (records, sent) in by_topic.items():
            await self._producer.send_keyed(
                topic, records, functools.partial(self._acknowledged, sent)
            )

    def _acknowledged(self, sent: list[SendCommand], indexes: list[int]) -> None:
        for index in indexes:
            self._to_record.append(sent[index].command_id)
        self._metrics.commands.labels(sent[0].channel).inc(len(indexes))  # one topic: one channel
        if self._recording is None:
            self._recording = asyncio.ensure_future(self._record_acknowledged())

    async def _record_acknowledged(self) -> None:
        """Write acknowledged ids to the ledger, as many per round trip as have come."""
        try:
            while self._to_record:
                ids, self._to_record = self._to_record, []
                await self._ledger.record_many(ids)
        finally:
            self._recording = None
