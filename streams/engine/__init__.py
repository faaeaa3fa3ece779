"""The pure engine: decisions without I/O. Nothing here imports Faust, Kafka or Redis."""

from streams.engine.events import Click, Delivery, Event, Open, Order, OrderLine, event_from_record
from streams.engine.exceptions import EngineError, InvalidEvent

__all__ = [
    "Click",
    "Delivery",
    "EngineError",
    "Event",
    "InvalidEvent",
    "Open",
    "Order",
    "OrderLine",
    "event_from_record",
]
