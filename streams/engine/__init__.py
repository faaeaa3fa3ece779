"""The pure engine: decisions without I/O. Nothing here imports Faust, Kafka or Redis."""

from streams.engine.decide import Engine, Input
from streams.engine.effects import Effect, TimerFired
from streams.engine.events import (
    Click,
    Consent,
    Delivery,
    Event,
    Open,
    Order,
    OrderLine,
    event_from_record,
)
from streams.engine.exceptions import EngineError, InvalidEvent
from streams.engine.scenario import Scenario
from streams.engine.state import CustomerState

__all__ = [
    "Click",
    "Consent",
    "CustomerState",
    "Delivery",
    "Effect",
    "Engine",
    "EngineError",
    "Event",
    "Input",
    "InvalidEvent",
    "Open",
    "Order",
    "OrderLine",
    "Scenario",
    "TimerFired",
    "event_from_record",
]
