"""The events the engine decides on: typed, validated, with times as epoch seconds (UTC).

Decoded Avro records become these values at the edge of the engine; ``event_from_record``
rejects what breaks the contract with ``InvalidEvent``, which sends the record to the DLQ.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from streams.engine.exceptions import InvalidEvent
from streams.engine.values import value


@value
class OrderLine:
    sku: str
    name: str
    """Product name, used to personalise messages."""
    category: str
    quantity: int
    unit_price: int
    """In minor units of the currency."""


@value
class Order:
    event_id: str
    customer_id: str
    order_id: str
    occurred_at: float
    channel: str
    """web, app, store or b2b."""
    store_id: str | None
    lines: tuple[OrderLine, ...]
    total: int
    currency: str
    subscription_plan: str | None
    subscription_period: int | None
    """1 for the first order of a subscription, 2 for the second..."""
    subscription_id: str | None = None
    """The subscription's own id (Order version 2): the same across its renewals."""

    kind = "order"


@value
class Delivery:
    event_id: str
    customer_id: str
    order_id: str
    occurred_at: float

    kind = "delivery"


@value
class Open:
    event_id: str
    customer_id: str
    command_id: str
    """The send command whose message was opened."""
    channel: str
    occurred_at: float

    kind = "open"


@value
class Click:
    event_id: str
    customer_id: str
    command_id: str
    channel: str
    occurred_at: float
    url: str | None
    sku: str | None

    kind = "click"


@value
class Consent:
    """The customer withdrew (``granted`` False: unsubscribed) or gave consent, on one
    channel or (``channel`` None) every one. The most recent per channel wins over the
    profile's consent."""

    event_id: str
    customer_id: str
    occurred_at: float
    channel: str | None
    granted: bool
    command_id: str | None

    kind = "consent"


Event = Order | Delivery | Open | Click | Consent


def event_from_record(kind: str, record: dict[str, Any]) -> Event:
    """The typed event of a decoded record."""
    parse = _PARSERS.get(kind)
    if parse is None:
        raise InvalidEvent(f"unknown event kind {kind!r}")
    _require_text(record, "customer_id")
    _require_text(record, "event_id")
    return parse(record)


def _require_text(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    if type(value) is not str or not value:
        raise InvalidEvent(f"field {name!r} is empty")
    return value


def _seconds(value: datetime | int | float) -> float:
    """Epoch milliseconds (the worker decodes timestamps as such) or a datetime."""
    return value / 1000.0 if type(value) is int else _datetime_seconds(value)


def _datetime_seconds(value: datetime | float) -> float:
    return value.timestamp() if isinstance(value, datetime) else value / 1000.0


def _order(r: dict[str, Any]) -> Order:
    lines = tuple(
        [
            OrderLine(x["sku"], x["name"], x["category"], x["quantity"], x["unit_price"])
            for x in r["lines"]
        ]
    )
    if not lines:
        raise InvalidEvent("field 'lines' is empty: an order has at least one line")
    for line in lines:
        if line.quantity <= 0:
            raise InvalidEvent("field 'lines.quantity' must be positive")
    sub = r.get("subscription")
    return Order(
        r["event_id"],
        r["customer_id"],
        _require_text(r, "order_id"),
        _seconds(r["occurred_at"]),
        r["channel"],
        r.get("store_id"),
        lines,
        r["total"],
        r["currency"],
        sub["plan"] if sub else None,
        sub["period_index"] if sub else None,
        sub.get("id") if sub else None,
    )


def _delivery(r: dict[str, Any]) -> Delivery:
    return Delivery(
        r["event_id"], r["customer_id"], _require_text(r, "order_id"), _seconds(r["occurred_at"])
    )


def _open(r: dict[str, Any]) -> Open:
    return Open(
        r["event_id"],
        r["customer_id"],
        _require_text(r, "command_id"),
        r["channel"],
        _seconds(r["occurred_at"]),
    )


def _click(r: dict[str, Any]) -> Click:
    return Click(
        r["event_id"],
        r["customer_id"],
        _require_text(r, "command_id"),
        r["channel"],
        _seconds(r["occurred_at"]),
        r.get("url"),
        r.get("sku"),
    )


def _consent(r: dict[str, Any]) -> Consent:
    return Consent(
        r["event_id"],
        r["customer_id"],
        _seconds(r["occurred_at"]),
        r.get("channel"),
        bool(r["granted"]),
        r.get("command_id"),
    )


_PARSERS: dict[str, Callable[[dict[str, Any]], Event]] = {
    "order": _order,
    "delivery": _delivery,
    "open": _open,
    "click": _click,
    "consent": _consent,
}
