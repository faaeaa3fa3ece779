"""What a scenario is, once its YAML file has been read and validated (see ``scenarios/``).

A scenario starts an instance for a customer when its trigger matches an event, then runs its
steps in order, each after a wait and only if its condition holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.engine.conditions import Expr


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
    """(hour, minute) in the customer's time zone (the scenario's when the profile gives
    none): the first such moment after the delay."""
    business_days: bool = False
    """The delay is a number of business days (Monday to Friday, outside the public holidays
    of the customer's country), and the step falls on one."""


@dataclass(frozen=True, slots=True)
class Offer:
    code: str
    description: str
    discount_percent: int


@dataclass(frozen=True, slots=True)
class Candidate:
    """A product a step may recommend, when the customer's declared attributes match."""

    sku: str
    requires: tuple[tuple[str, str], ...] = ()
    """(attribute, value) pairs the profile must declare, e.g. (("skin_type", "dry"),)."""


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    wait: Wait
    channels: tuple[str, ...]
    """The channel, or channels in order of preference: the first the customer may get
    (consent; the app for push) is used."""
    template: str
    recommendations: tuple[Candidate, ...]
    """SKUs (the catalog gives their names, prices and links), in order of preference.
    Products the customer already bought are left out."""
    condition: Expr | None = None
    """``when``: the step runs only if it holds (``streams.engine.conditions``)."""
    offer: Offer | None = None
    pick: int | None = None
    """Recommend at most this many, preferring products not recommended yet in the
    instance; None: every candidate (a reminder repeats its list)."""
    to: str = "customer"
    """``customer``, or ``seller`` for a message to the store's staff (the tablet at the
    till): no consent, quiet hours or pressure apply, and it does not count for them."""
    variants: tuple[Variant, ...] = ()
    """A/B/n: each customer gets one, drawn by weight (``streams.engine.experiments``);
    none: the step as it is."""
    otherwise: str | None = None
    """When the condition does not hold: None, the next step; ``end``, the instance ends;
    a later step's id, the instance goes on there."""
    recommend_bought: bool = False
    """Recommend what the trigger order bought (its lines of the trigger's category or SKU,
    else all of them): replenishment. Products already bought are then not left out."""

    @property
    def channel(self) -> str:
        """The preferred channel."""
        return self.channels[0]


@dataclass(frozen=True, slots=True)
class Variant:
    """One arm of a step's A/B/n test: the step with some of its fields replaced."""

    name: str
    """In the command (``variant``) and the metrics' ``variant`` label."""
    weight: int
    step: Step
    """The step as this variant sends it (template, channels, recommendations, offer)."""


@dataclass(frozen=True, slots=True)
class Scenario:
    id: str
    version: int
    trigger: Trigger
    steps: tuple[Step, ...]
    once_per_order: bool = True
    """A second trigger for the same order (e.g. a repeated delivery) starts nothing."""
    once_per_subscription: bool = False
    """One instance per subscription id, ever: a renewal of the subscription starts nothing."""
    not_while_running: bool = True
    """No new instance while one of this scenario runs for the customer."""
    exit_on_purchase: str = "recommended"
    """Stop when the customer buys: ``recommended`` (a product a step recommended), ``any``
    (anything), ``category`` or ``sku`` (of ``exit_values``), or ``none``."""
    exit_values: tuple[str, ...] = ()
    exit_on_click: bool = False
    """Stop when the customer clicks a message of the instance."""
    entry_condition: Expr | None = None
    """``entry.when``: an instance starts only if it holds at the trigger."""
    cooldown_s: float = 0.0
    """``entry.cooldown``: no new instance this long after the customer's last entry."""
    attribution_window_s: float = 14 * 86400.0
    """A purchase of a recommended product this long after a send counts as a conversion."""
    expiry_s: float = 2 * 86400.0
    """A step's message goes out at most this long after the step fell due: one deferred
    (quiet hours, pressure) past it is dropped and counted as expired. The command's
    ``not_after``."""
    timezone: str = "Europe/Paris"
    """For local times of customers whose profile gives no time zone."""
    priority: int = 0
    """Among messages that fall due together for one customer, the higher goes first (and
    takes the last place a cap leaves)."""
    source: str = ""
    """The file it was read from, for messages."""
    holdout: int = 0
    """Buckets of ``experiments.BUCKETS`` held out (1,000 is 10%): those customers go
    through the scenario silently, the control group its uplift is measured against."""
    salt: str = ""
    """Of the holdout's and the variants' draws; empty: the scenario's id. A new salt is a
    new experiment: new groups."""

    @property
    def experiment_salt(self) -> str:
        return self.salt or self.id

    def step_index(self, step_id: str) -> int:
        return next(i for i, step in enumerate(self.steps) if step.id == step_id)
