"""Conditions of steps and of entry: a small language, parsed by ``streams.scenarios`` into
these values and evaluated here, without I/O.

    when: not opened(accessories) and not purchased(category:coffee-capsules)
    when: clicked(first) or order_value >= 50000
    entry: {when: "profile.segment == vip and not purchased(any) within 30d"}

``opened(step)``, ``clicked(step)``, ``sent(step)``: what became of a step's message (a click
implies an open; a held-out customer's silent step counts as sent). ``purchased(any)``,
``purchased(recommended)``, ``purchased(sku:X)``, ``purchased(category:Y)``: an order since the
instance began (its own trigger order aside), or, with ``within 30d``, in the last 30 days.
``order_value`` compares the trigger order's total (minor units); ``profile.NAME`` a declared
attribute of the customer's profile (``==`` or ``!=``). ``and``, ``or``, ``not`` and
parentheses combine them.

A follow-up refers only to what happened (docs/architecture.md, rule 8): a step whose
condition asks whether an earlier step was opened or clicked does not go out when that step
sent nothing (dropped for consent, expiry, nothing to recommend); ``sent(step)`` asks it
plainly, for a step that should go out instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from streams.engine.state import CustomerState, Instance, OrderSummary

ENGAGEMENTS = ("opened", "clicked", "sent")
PURCHASES = ("any", "recommended", "sku", "category")
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


@dataclass(frozen=True, slots=True)
class Step:
    """``opened(step)``, ``clicked(step)`` or ``sent(step)``."""

    kind: str
    step_id: str


@dataclass(frozen=True, slots=True)
class Purchased:
    """``purchased(any | recommended | sku:X | category:Y) [within DURATION]``."""

    what: str
    value: str = ""
    within_s: float | None = None


@dataclass(frozen=True, slots=True)
class OrderValue:
    """``order_value OP AMOUNT``: the trigger order's total, in minor units."""

    op: str
    amount: int


@dataclass(frozen=True, slots=True)
class Attribute:
    """``profile.NAME == VALUE`` (or ``!=``)."""

    name: str
    op: str
    value: str


@dataclass(frozen=True, slots=True)
class Not:
    item: Expr


@dataclass(frozen=True, slots=True)
class All:
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Any_:
    items: tuple[Expr, ...]


Expr = Step | Purchased | OrderValue | Attribute | Not | All | Any_


@dataclass(frozen=True, slots=True)
class Facts:
    """What a condition is evaluated against."""

    state: CustomerState
    instance: Instance | None
    """None at entry: no step to ask about."""
    order: OrderSummary | None
    """The trigger order."""
    attribute: Callable[[str], str | None]
    """The profile's declared attributes."""
    since: float
    """When the instance began (at entry: now)."""
    now: float


def evaluate(expr: Expr, facts: Facts) -> bool:
    if isinstance(expr, Step):
        return _step(expr, facts.instance)
    if isinstance(expr, Purchased):
        return _purchased(expr, facts)
    if isinstance(expr, Not):
        return not evaluate(expr.item, facts)
    if isinstance(expr, All):
        return all(evaluate(item, facts) for item in expr.items)
    if isinstance(expr, Any_):
        return any(evaluate(item, facts) for item in expr.items)
    if isinstance(expr, OrderValue):
        total = facts.order.total if facts.order is not None else 0
        return COMPARISONS[expr.op](total, expr.amount)
    found = facts.attribute(expr.name)
    return (found == expr.value) == (expr.op == "==")


def unsent_references(expr: Expr, instance: Instance) -> list[str]:
    """The steps ``expr`` asks were opened or clicked that sent nothing: the condition then
    refers to what did not happen, and its step does not go out."""
    if isinstance(expr, Step):
        refers = expr.kind != "sent" and expr.step_id not in instance.sent
        return [expr.step_id] if refers else []
    if isinstance(expr, Not):
        return unsent_references(expr.item, instance)
    if isinstance(expr, All | Any_):
        return [s for item in expr.items for s in unsent_references(item, instance)]
    return []


def step_references(expr: Expr) -> list[str]:
    """Every step ``expr`` names."""
    if isinstance(expr, Step):
        return [expr.step_id]
    if isinstance(expr, Not):
        return step_references(expr.item)
    if isinstance(expr, All | Any_):
        return [s for item in expr.items for s in step_references(item)]
    return []


def _step(expr: Step, instance: Instance | None) -> bool:
    if instance is None:
        return False
    if expr.kind == "opened":
        return expr.step_id in instance.opened
    if expr.kind == "clicked":
        return expr.step_id in instance.clicked
    return expr.step_id in instance.sent


def _purchased(expr: Purchased, facts: Facts) -> bool:
    start = facts.since if expr.within_s is None else facts.now - expr.within_s
    trigger = facts.instance.order_id if facts.instance is not None else None
    recommended = facts.instance.recommended if facts.instance is not None else []
    for order_id, order in facts.state.orders.items():
        if order_id == trigger or order.placed_at <= start or order.placed_at > facts.now:
            continue
        if expr.what == "any":
            return True
        if expr.what == "sku" and expr.value in order.skus:
            return True
        if expr.what == "category" and expr.value in order.categories:
            return True
        if expr.what == "recommended" and any(s in recommended for s in order.skus):
            return True
    return False
