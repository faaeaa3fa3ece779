"""A customer's state: recent orders, scenario instances, and which entries already happened.

Stored in a Faust table as the JSON-friendly dict of ``to_dict``; ``from_dict`` reads it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import orjson

ORDER_MEMORY_S = 60 * 86400.0
"""How long an order is remembered, so that its delivery can be matched to its lines."""
ENTRY_MEMORY_S = 180 * 86400.0
"""How long "once per order" remembers an entry."""
PRUNE_EVERY_S = 3600.0
"""Old entries are looked for at a customer's first input this long after the last look."""


@dataclass(slots=True)
class OrderSummary:
    """What a delivery trigger needs to know of the order it delivers."""

    placed_at: float
    channel: str
    skus: list[str]
    categories: list[str]
    names: list[str]
    subscription_plan: str | None = None
    subscription_period: int | None = None


@dataclass(slots=True)
class Instance:
    """One run of one scenario version for one customer."""

    id: str
    scenario_id: str
    version: int
    order_id: str
    trigger_kind: str
    trigger_event_id: str
    product_name: str
    """The purchased product's name, to personalise messages."""
    next_step: int
    """Index of the step the pending timer runs; ``len(steps)`` when none is left."""
    last_step_at: float
    """When the previous step ran (or the trigger happened): the next wait starts there."""
    timer_version: int = 0
    """Bumped at every schedule and cancel: a fire with another version is stale."""
    due_at: float | None = None
    sent: dict[str, str] = field(default_factory=dict)
    """step id -> command id."""
    sent_at: float | None = None
    opened: list[str] = field(default_factory=list)
    clicked: list[str] = field(default_factory=list)
    recommended: list[str] = field(default_factory=list)
    ended_at: float | None = None
    exit_reason: str | None = None

    @property
    def running(self) -> bool:
        return self.ended_at is None


@dataclass(slots=True)
class CustomerState:
    customer_id: str
    orders: dict[str, OrderSummary] = field(default_factory=dict)
    instances: dict[str, Instance] = field(default_factory=dict)
    entered: dict[str, float] = field(default_factory=dict)
    """``scenario:order`` -> when an instance was started for it."""
    early_deliveries: dict[str, list[Any]] = field(default_factory=dict)
    """order id -> [event id, delivered at]: deliveries read before their order. Topics are
    read in parallel, so a delivery may overtake its order; it is matched when the order
    comes."""
    pruned_at: float = 0.0
    """When old entries were last looked for and forgotten."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (what ``dataclasses.asdict`` gives, at a fraction of its cost:
        this runs for every event the worker handles)."""
        return {
            "customer_id": self.customer_id,
            "orders": {k: _fields(v, _ORDER_FIELDS) for k, v in self.orders.items()},
            "instances": {k: _fields(v, _INSTANCE_FIELDS) for k, v in self.instances.items()},
            "entered": dict(self.entered),
            "early_deliveries": {k: list(v) for k, v in self.early_deliveries.items()},
            "pruned_at": self.pruned_at,
        }

    def to_json(self) -> bytes:
        """The stored form: the JSON of ``to_dict`` (orjson reads the dataclasses itself)."""
        return orjson.dumps(self)

    @classmethod
    def from_json(cls, payload: bytes | memoryview) -> CustomerState:
        return cls.from_dict(orjson.loads(payload))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CustomerState:
        return cls(
            customer_id=data["customer_id"],
            orders={k: OrderSummary(**v) for k, v in data["orders"].items()},
            instances={k: Instance(**v) for k, v in data["instances"].items()},
            entered=dict(data["entered"]),
            early_deliveries=dict(data.get("early_deliveries", {})),
            pruned_at=data.get("pruned_at", 0.0),
        )

    def is_empty(self) -> bool:
        """Nothing worth storing: no order, instance, entry or early delivery."""
        return not (self.orders or self.instances or self.entered or self.early_deliveries)

    def instance_for_command(self, command_id: str) -> tuple[Instance, str] | None:
        """The instance and step that published ``command_id``."""
        for instance in self.instances.values():
            for step_id, sent_id in instance.sent.items():
                if sent_id == command_id:
                    return instance, step_id
        return None


def _fields(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    out = {}
    for name in names:
        value = getattr(obj, name)
        if type(value) is list:
            value = list(value)
        elif type(value) is dict:
            value = dict(value)
        out[name] = value
    return out


_ORDER_FIELDS = tuple(f.name for f in fields(OrderSummary))
_INSTANCE_FIELDS = tuple(f.name for f in fields(Instance))
