"""What ``decide`` asks the shell to do. Effects are values; the shell carries them out.

Timers are not effects: the state says which timers are pending
(``CustomerState.pending_timers``), and the shell stores and schedules exactly those, so
there is one way of knowing them."""

from __future__ import annotations

from streams.engine.scenario import Offer
from streams.engine.values import value


@value
class TimerFired:
    """An input: the timer of an instance fell due."""

    customer_id: str
    instance_id: str
    version: int
    due_at: float

    kind = "timer"


@value
class StartInstance:
    instance_id: str
    scenario_id: str
    version: int


@value
class AdvanceInstance:
    instance_id: str
    step_id: str
    sent: bool
    """False when the step's condition did not hold (e.g. the first message was opened)."""


@value
class ExitInstance:
    instance_id: str
    scenario_id: str
    reason: str
    """``completed``, ``purchased``, ``unsubscribed`` or ``scenario_removed``."""


@value
class StepDropped:
    """A step due to send sent nothing: no channel the customer may get (``no_consent``,
    ``no_app``), nothing left to recommend, or deferred past its expiry (``expired``)."""

    instance_id: str
    scenario_id: str
    step_id: str
    reason: str


@value
class StepDeferred:
    """A step due to send waits for the next allowed moment (``streams.engine.context``)."""

    instance_id: str
    scenario_id: str
    step_id: str
    reasons: tuple[str, ...]
    """``quiet_hours``, ``day_off``, ``holiday``, ``cap``, ``spacing``."""
    until: float


@value
class RecordConversion:
    instance_id: str
    scenario_id: str
    order_id: str
    revenue: int
    """In minor units of ``currency``."""
    currency: str


@value
class SendCommand:
    """Publish one send command; the shell adds the catalog's names, prices and links."""

    command_id: str
    customer_id: str
    channel: str
    scenario_id: str
    scenario_version: int
    step_id: str
    template: str
    personalisation: tuple[tuple[str, str], ...]
    recommendations: tuple[str, ...]
    offer: Offer | None
    trigger_kind: str
    trigger_event_id: str
    order_id: str
    created_at: float
    not_after: float
    due_at: float = 0.0
    """When the step was due to send, after deferrals (0: unknown, an older record)."""
    deferred_from: float | None = None
    """When it first fell due, if it was deferred."""
    deferral_reasons: tuple[str, ...] = ()


Effect = (
    StartInstance
    | AdvanceInstance
    | ExitInstance
    | RecordConversion
    | SendCommand
    | StepDropped
    | StepDeferred
)
