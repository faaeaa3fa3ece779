"""The events the engine decides on: typed, validated, with times as epoch seconds (UTC).

Decoded Avro records become these values at the edge of the engine; ``event_from_record``
rejects what breaks the contract with ``InvalidEvent``, which sends the record to the DLQ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from streams.engine.exceptions import InvalidEvent


@dataclass(slots=True, init=False)
class OrderLine:
    sku: Final[str]
    name: Final[str]
    """Product name, used to personalise messages."""
    category: Final[str]
    quantity: Final[int]
    unit_price: Final[int]
    """In minor units of the currency."""

    def __init__(self, sku: str, name: str, category: str, quantity: int, unit_price: int) -> None:
        self.sku = sku
        self.name = name
        self.category = category
        self.quantity = quantity
        self.unit_price = unit_price


@dataclass(slots=True, init=False)
class Order:
    event_id: Final[str]
    customer_id: Final[str]
    order_id: Final[str]
    occurred_at: Final[float]
    channel: Final[str]
    """web, app, store or b2b."""
    store_id: Final[str | None]
    lines: Final[tuple[OrderLine, ...]]
    total: Final[int]
    currency: Final[str]
    subscription_plan: Final[str | None]
    subscription_period: Final[int | None]
    """1 for the first order of a subscription, 2 for the second..."""
    subscription_id: Final[str | None]
    """The subscription's own id (Order version 2): the same across its renewals."""

    def __init__(
        self,
        event_id: str,
        customer_id: str,
        order_id: str,
        occurred_at: float,
        channel: str,
        store_id: str | None,
        lines: tuple[OrderLine, ...],
        total: int,
        currency: str,
        subscription_plan: str | None,
        subscription_period: int | None,
        subscription_id: str | None = None,
    ) -> None:
        self.event_id = event_id
        self.customer_id = customer_id
        self.order_id = order_id
        self.occurred_at = occurred_at
        self.channel = channel
        self.store_id = store_id
        self.lines = lines
        self.total = total
        self.currency = currency
        self.subscription_plan = subscription_plan
        self.subscription_period = subscription_period
        self.subscription_id = subscription_id

    @property
    def kind(self) -> str:
        return "order"


@dataclass(slots=True, init=False)
class Delivery:
    event_id: Final[str]
    customer_id: Final[str]
    order_id: Final[str]
    occurred_at: Final[float]

    def __init__(self, event_id: str, customer_id: str, order_id: str, occurred_at: float) -> None:
        self.event_id = event_id
        self.customer_id = customer_id
        self.order_id = order_id
        self.occurred_at = occurred_at

    @property
    def kind(self) -> str:
        return "delivery"


@dataclass(slots=True, init=False)
class Open:
    event_id: Final[str]
    customer_id: Final[str]
    command_id: Final[str]
    """The send command whose message was opened."""
    channel: Final[str]
    occurred_at: Final[float]

    def __init__(
        self,
        event_id: str,
        customer_id: str,
        command_id: str,
        channel: str,
        occurred_at: float,
    ) -> None:
        self.event_id = event_id
        self.customer_id = customer_id
        self.command_id = command_id
        self.channel = channel
        self.occurred_at = occurred_at

    @property
    def kind(self) -> str:
        return "open"


@dataclass(slots=True, init=False)
class Click:
    event_id: Final[str]
    customer_id: Final[str]
    command_id: Final[str]
    channel: Final[str]
    occurred_at: Final[float]
    url: Final[str | None]
    sku: Final[str | None]

    def __init__(
        self,
        event_id: str,
        customer_id: str,
        command_id: str,
        channel: str,
        occurred_at: float,
        url: str | None,
        sku: str | None,
    ) -> None:
        self.event_id = event_id
        self.customer_id = customer_id
        self.command_id = command_id
        self.channel = channel
        self.occurred_at = occurred_at
        self.url = url
        self.sku = sku

    @property
    def kind(self) -> str:
        return "click"


@dataclass(slots=True, init=False)
class Consent:
    """The customer withdrew (``granted`` False: unsubscribed) or gave consent, on one
    channel or (``channel`` None) every one. The most recent per channel wins over the
    profile's consent."""

    event_id: Final[str]
    customer_id: Final[str]
    occurred_at: Final[float]
    channel: Final[str | None]
    granted: Final[bool]
    command_id: Final[str | None]

    def __init__(
        self,
        event_id: str,
        customer_id: str,
        occurred_at: float,
        channel: str | None,
        granted: bool,
        command_id: str | None,
    ) -> None:
        self.event_id = event_id
        self.customer_id = customer_id
        self.occurred_at = occurred_at
        self.channel = channel
        self.granted = granted
        self.command_id = command_id

    @property
    def kind(self) -> str:
        return "consent"


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
