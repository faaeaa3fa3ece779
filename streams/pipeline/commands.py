"""Send commands: enriched from the catalog, encoded as Avro, published to the channel topic.

A command whose id is in the ledger is not published again; an id enters the ledger once the
broker has acknowledged the command (``streams.pipeline.commit``). No contact details, no
personal data: channel services resolve the customer id themselves.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from streams.codecs import SEND_COMMAND, AvroCodec
from streams.engine.effects import SendCommand
from streams.metrics import Metrics
from streams.pipeline.ports import Catalog, KeyedRecord, Ledger, Product, Sender

Outgoing = tuple[SendCommand, str, KeyedRecord]
"""A command ready to go: the command, its topic, its record."""


class CommandError(Exception):
    """A command could not be built (encoded); it belongs to the input that decided it."""


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
        "due_at": int(command.due_at * 1000) if command.due_at else None,
        "deferred_from": None
        if command.deferred_from is None
        else int(command.deferred_from * 1000),
        "deferral_reasons": list(command.deferral_reasons),
        "variant": command.variant or None,
    }


class Commands:
    """Builds the records of send commands and hands them to the producer."""

    def __init__(
        self,
        topic_names: dict[str, str],
        codec: AvroCodec,
        catalog: Catalog,
        ledger: Ledger,
        metrics: Metrics,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """``clock``: the worker's, for the commands' latency (None: not measured)."""
        self._names = topic_names
        self._clock = clock
        self._codec = codec
        self._catalog = catalog
        self.ledger = ledger
        self._metrics = metrics

    async def not_published(self, commands: Sequence[SendCommand]) -> list[SendCommand]:
        """Those of ``commands`` the ledger does not know; the others are counted."""
        seen = await self.ledger.published_many([c.command_id for c in commands])
        fresh = [c for c, published in zip(commands, seen, strict=True) if not published]
        if len(fresh) < len(commands):
            self._metrics.commands_suppressed.inc(len(commands) - len(fresh))
        return fresh

    async def build(self, command: SendCommand) -> Outgoing:
        """The record of ``command``, its recommendations enriched from the catalog."""
        topic = self._names[command.channel]
        products = await self._catalog.products(command.recommendations)
        try:
            value, headers = self._codec.encode(
                SEND_COMMAND, command_record(command, products), topic
            )
        except Exception as exc:
            raise CommandError(f"cannot encode command {command.command_id}: {exc}") from exc
        return command, topic, (command.customer_id.encode(), value, headers)

    async def send(
        self,
        sender: Sender,
        outgoing: Sequence[Outgoing],
        on_delivery: Callable[[list[SendCommand]], None],
    ) -> None:
        """Hand ``outgoing`` to the producer, one record batch per topic partition;
        ``on_delivery`` gets the commands the broker has acknowledged."""
        by_topic: dict[str, list[Outgoing]] = {}
        for item in outgoing:
            by_topic.setdefault(item[1], []).append(item)
        for topic, items in by_topic.items():
            delivered = functools.partial(self._delivered, items, on_delivery)
            await sender.send_keyed(topic, [record for _, _, record in items], delivered)

    def _delivered(
        self,
        items: list[Outgoing],
        on_delivery: Callable[[list[SendCommand]], None],
        indexes: list[int],
    ) -> None:
        commands = [items[i][0] for i in indexes]
        self._metrics.commands.labels(commands[0].channel).inc(len(commands))  # one topic
        steps = Counter((c.scenario_id, c.step_id, c.variant, c.channel) for c in commands)
        sent = self._metrics.funnel["sent"]
        for labels, count in steps.items():
            sent.labels(*labels).inc(count)
        if self._clock is not None:
            now, latency = self._clock(), self._metrics.command_latency
            for command in commands:
                if command.due_at:
                    latency.observe(max(0.0, now - command.due_at))
        on_delivery(commands)
