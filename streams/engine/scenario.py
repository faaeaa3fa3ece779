"""What a scenario is, once its YAML file has been read and validated (see ``scenarios/``).

A scenario starts an instance for a customer when its trigger matches an event, then runs its
steps in order, each after a wait and only if its condition holds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Trigger:
    """Which event starts an instance; every condition given must hold."""

    event: str
    """``order`` or ``delivery`` (a delivery is matched against the order it delivers)."""
    category: str | None = None
    """An order line of this category."""
    sku: str | None = None
    """An order line of this SKU."""
    order_channel: str | None = None
    """web, app, store or b2b."""
    subscription_plan: str | None = None
    subscription_period: int | None = None
    """The n-th order of a subscription, e.g. 3 for the third monthly box."""


@dataclass(frozen=True, slots=True)
class Wait:
    delay_s: float
    """After the trigger (first step) or after the previous step."""
    at_local_time: tuple[int, int] | None = None
    """(hour, minute) in the scenario's time zone: the first such moment after the delay."""


@dataclass(frozen=True, slots=True)
class Condition:
    """``not opened(step)`` or ``not clicked(step)``: run only if that message was not."""

    kind: str
    """``opened`` or ``clicked``."""
    step_id: str


@dataclass(frozen=True, slots=True)
class Offer:
    code: str
    description: str
    discount_percent: int


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    wait: Wait
    channel: str
    template: str
    recommendations: tuple[str, ...]
    """SKUs; the catalog gives their names, prices and links."""
    condition: Condition | None = None
    offer: Offer | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    id: str
    version: int
    trigger: Trigger
    steps: tuple[Step, ...]
    once_per_order: bool = True
    """A second trigger for the same order (e.g. a repeated delivery) starts nothing."""
    not_while_running: bool = True
    """No new instance while one of this scenario runs for the customer."""
    exit_on_purchase: bool = True
    """Stop when the customer buys a recommended product."""
    attribution_window_s: float = 14 * 86400.0
    """A purchase of a recommended product this long after a send counts as a conversion."""
    expiry_s: float = 2 * 86400.0
    """A send command is not to be sent later than this after it was created."""
    timezone: str = "Europe/Paris"
    source: str = ""
    """The file it was read from, for messages."""

    def step_index(self, step_id: str) -> int:
        return next(i for i, step in enumerate(self.steps) if step.id == step_id)
