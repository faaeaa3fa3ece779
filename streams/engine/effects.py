"""What ``decide`` asks the shell to do. Effects are values; the shell carries them out.

Timers are not effects: the state says which timers are pending
(``CustomerState.pending_timers``), and the shell stores and schedules exactly those, so
there is one way of knowing them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from streams.engine.scenario import Offer


@dataclass(slots=True, init=False)
class TimerFired:
    """An input: the timer of an instance fell due."""

    customer_id: Final[str]
    instance_id: Final[str]
    version: Final[int]
    due_at: Final[float]

    def __init__(self, customer_id: str, instance_id: str, version: int, due_at: float) -> None:
        self.customer_id = customer_id
        self.instance_id = instance_id
        self.version = version
        self.due_at = due_at

    @property
    def kind(self) -> str:
        return "timer"


@dataclass(slots=True, init=False)
class StartInstance:
    instance_id: Final[str]
    scenario_id: Final[str]
    version: Final[int]
    group: Final[str]
    """``treatment``, or ``control`` for an instance held out (it runs silently)."""

    def __init__(
        self, instance_id: str, scenario_id: str, version: int, group: str = "treatment"
    ) -> None:
        self.instance_id = instance_id
        self.scenario_id = scenario_id
        self.version = version
        self.group = group


@dataclass(slots=True, init=False)
class AdvanceInstance:
    instance_id: Final[str]
    step_id: Final[str]
    sent: Final[bool]
    """False when the step's condition did not hold (e.g. the first message was opened)."""

    def __init__(self, instance_id: str, step_id: str, sent: bool) -> None:
        self.instance_id = instance_id
        self.step_id = step_id
        self.sent = sent


@dataclass(slots=True, init=False)
class ExitInstance:
    instance_id: Final[str]
    scenario_id: Final[str]
    reason: Final[str]
    """``completed``, ``purchased``, ``unsubscribed`` or ``scenario_removed``."""

    def __init__(self, instance_id: str, scenario_id: str, reason: str) -> None:
        self.instance_id = instance_id
        self.scenario_id = scenario_id
        self.reason = reason


@dataclass(slots=True, init=False)
class StepDropped:
    """A step due to send sent nothing: no channel the customer may get (``no_consent``,
    ``no_app``), nothing left to recommend, or deferred past its expiry (``expired``)."""

    instance_id: Final[str]
    scenario_id: Final[str]
    step_id: Final[str]
    reason: Final[str]
    variant: Final[str]
    """The variant drawn, "" for a step without variants."""

    def __init__(
        self, instance_id: str, scenario_id: str, step_id: str, reason: str, variant: str = ""
    ) -> None:
        self.instance_id = instance_id
        self.scenario_id = scenario_id
        self.step_id = step_id
        self.reason = reason
        self.variant = variant


@dataclass(slots=True, init=False)
class StepDeferred:
    """A step due to send waits for the next allowed moment (``streams.engine.context``)."""

    instance_id: Final[str]
    scenario_id: Final[str]
    step_id: Final[str]
    reasons: Final[tuple[str, ...]]
    """``quiet_hours``, ``day_off``, ``holiday``, ``cap``, ``spacing``."""
    until: Final[float]
    variant: Final[str]

    def __init__(
        self,
        instance_id: str,
        scenario_id: str,
        step_id: str,
        reasons: tuple[str, ...],
        until: float,
        variant: str = "",
    ) -> None:
        self.instance_id = instance_id
        self.scenario_id = scenario_id
        self.step_id = step_id
        self.reasons = reasons
        self.until = until
        self.variant = variant


@dataclass(slots=True, init=False)
class StepHeldOut:
    """A step of a held-out instance ran silently: what it would have sent was decided
    (channel, recommendations) and nothing was published. The control group's exposure."""

    instance_id: Final[str]
    scenario_id: Final[str]
    step_id: Final[str]

    def __init__(self, instance_id: str, scenario_id: str, step_id: str) -> None:
        self.instance_id = instance_id
        self.scenario_id = scenario_id
        self.step_id = step_id


@dataclass(slots=True, init=False)
class Engaged:
    """The first open, or the first click, of a step's message (a click counts as an open
    too), attributed to the step and variant of the command it follows."""

    scenario_id: Final[str]
    step_id: Final[str]
    variant: Final[str]
    channel: Final[str]
    kind: Final[str]
    """``opened`` or ``clicked``."""

    def __init__(
        self, scenario_id: str, step_id: str, variant: str, channel: str, kind: str
    ) -> None:
        self.scenario_id = scenario_id
        self.step_id = step_id
        self.variant = variant
        self.channel = channel
        self.kind = kind


@dataclass(slots=True, init=False)
class RecordConversion:
    """An order holding a recommended product within the attribution window of a send
    (or, for a held-out instance, of a step that ran silently), attributed to the last such
    step and its variant."""

    instance_id: Final[str]
    scenario_id: Final[str]
    order_id: Final[str]
    revenue: Final[int]
    """The recommended products bought, in minor units of ``currency``."""
    currency: Final[str]
    group: Final[str]
    step_id: Final[str]
    variant: Final[str]
    basket: Final[int]
    """The whole order's total, in minor units of ``currency``."""
    first: Final[bool]
    """The instance's first conversion: it counts once among the converted instances."""

    def __init__(
        self,
        instance_id: str,
        scenario_id: str,
        order_id: str,
        revenue: int,
        currency: str,
        group: str = "treatment",
        step_id: str = "",
        variant: str = "",
        basket: int = 0,
        first: bool = True,
    ) -> None:
        self.instance_id = instance_id
        self.scenario_id = scenario_id
        self.order_id = order_id
        self.revenue = revenue
        self.currency = currency
        self.group = group
        self.step_id = step_id
        self.variant = variant
        self.basket = basket
        self.first = first


@dataclass(slots=True, init=False)
class SendCommand:
    """Publish one send command; the shell adds the catalog's names, prices and links."""

    command_id: Final[str]
    customer_id: Final[str]
    channel: Final[str]
    scenario_id: Final[str]
    scenario_version: Final[int]
    step_id: Final[str]
    template: Final[str]
    personalisation: Final[tuple[tuple[str, str], ...]]
    recommendations: Final[tuple[str, ...]]
    offer: Final[Offer | None]
    trigger_kind: Final[str]
    trigger_event_id: Final[str]
    order_id: Final[str]
    created_at: Final[float]
    not_after: Final[float]
    due_at: Final[float]
    """When the step was due to send, after deferrals (0: unknown, an older record)."""
    deferred_from: Final[float | None]
    """When it first fell due, if it was deferred."""
    deferral_reasons: Final[tuple[str, ...]]
    variant: Final[str]
    """The step's variant drawn for this customer; "" for a step without variants."""

    def __init__(
        self,
        command_id: str,
        customer_id: str,
        channel: str,
        scenario_id: str,
        scenario_version: int,
        step_id: str,
        template: str,
        personalisation: tuple[tuple[str, str], ...],
        recommendations: tuple[str, ...],
        offer: Offer | None,
        trigger_kind: str,
        trigger_event_id: str,
        order_id: str,
        created_at: float,
        not_after: float,
        due_at: float = 0.0,
        deferred_from: float | None = None,
        deferral_reasons: tuple[str, ...] = (),
        variant: str = "",
    ) -> None:
        self.command_id = command_id
        self.customer_id = customer_id
        self.channel = channel
        self.scenario_id = scenario_id
        self.scenario_version = scenario_version
        self.step_id = step_id
        self.template = template
        self.personalisation = personalisation
        self.recommendations = recommendations
        self.offer = offer
        self.trigger_kind = trigger_kind
        self.trigger_event_id = trigger_event_id
        self.order_id = order_id
        self.created_at = created_at
        self.not_after = not_after
        self.due_at = due_at
        self.deferred_from = deferred_from
        self.deferral_reasons = deferral_reasons
        self.variant = variant


Effect = (
    StartInstance
    | AdvanceInstance
    | ExitInstance
    | RecordConversion
    | SendCommand
    | StepDropped
    | StepDeferred
    | StepHeldOut
    | Engaged
)
