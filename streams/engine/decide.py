"""The decision: ``Engine.decide(state, input, now) -> (state, effects)``, with no I/O.

Inputs are events (order, delivery, open, click) and due timers; ``now`` is given, never read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from streams.engine.effects import (
    AdvanceInstance,
    Effect,
    ExitInstance,
    RecordConversion,
    SendCommand,
    StartInstance,
    TimerFired,
)
from streams.engine.events import Click, Delivery, Event, Open, Order
from streams.engine.ids import command_id
from streams.engine.scenario import Scenario, Trigger
from streams.engine.state import (
    ENTRY_MEMORY_S,
    MAX_NAME_CHARS,
    MAX_ORDER_LINES,
    MAX_ORDERS,
    ORDER_MEMORY_S,
    PRUNE_EVERY_S,
    CustomerState,
    Instance,
    OrderSummary,
)
from streams.engine.timing import due_time

Input = Event | TimerFired
_ENGAGEMENTS = (Open, Click)
"""For isinstance: ``Open | Click`` would build a union object at every call."""


class Engine:
    """Decides for every loaded scenario; older versions stay for instances in flight."""

    def __init__(self, scenarios: Iterable[Scenario]) -> None:
        self._versions: dict[tuple[str, int], Scenario] = {}
        self._latest: dict[str, Scenario] = {}
        for scenario in scenarios:
            self._versions[(scenario.id, scenario.version)] = scenario
            current = self._latest.get(scenario.id)
            if current is None or scenario.version > current.version:
                self._latest[scenario.id] = scenario
        self._triggered_by: dict[str, list[Scenario]] = {}
        """order or delivery -> the latest scenarios that this event kind triggers."""
        for scenario in self._latest.values():
            self._triggered_by.setdefault(scenario.trigger.event, []).append(scenario)
        self._relevant = frozenset(
            value
            for scenario in self._versions.values()
            for value in (scenario.trigger.category, scenario.trigger.sku)
            if value is not None
        )
        """Categories and SKUs that some trigger looks for: an order's lines of these are
        the first it remembers."""

    @property
    def scenarios(self) -> list[Scenario]:
        """The version of each scenario that new entries get."""
        return list(self._latest.values())

    def may_change(self, event: Input, mentions: Callable[[str], bool]) -> bool:
        """False when deciding on ``event`` cannot change a state of which ``mentions(text)``
        says whether it holds ``text``: an open or a click of a command the state does not
        hold, i.e. another system's message, the bulk of a real click stream. Only the
        hourly forgetting of old entries would run, and it runs at the next input. Lets the
        worker skip loading the state."""
        if isinstance(event, _ENGAGEMENTS):
            return mentions(event.command_id)
        return True

    def decide(
        self, state: CustomerState | None, event: Input, now: float
    ) -> tuple[CustomerState, list[Effect]]:
        state = state or CustomerState(event.customer_id)
        if now - state.pruned_at >= PRUNE_EVERY_S:
            self._forget_old(state, now)  # before deciding: what is forgotten plays no part
        effects: list[Effect] = []
        if isinstance(event, Order):
            self._on_order(state, event, now, effects)
        elif isinstance(event, Delivery):
            self._on_delivery(state, event, now, effects)
        elif isinstance(event, _ENGAGEMENTS):
            _on_engagement(state, event)
        elif isinstance(event, TimerFired):
            self._on_timer(state, event, now, effects)
        return state, effects

    def _on_order(self, state: CustomerState, order: Order, now: float, out: list[Effect]) -> None:
        self._convert(state, order, now, out)
        summary = _summary(order, self._relevant)
        orders = state.orders
        orders[order.order_id] = summary
        if len(orders) > MAX_ORDERS:
            del orders[min(orders, key=lambda k: orders[k].placed_at)]
        self._trigger(
            state, "order", order.order_id, order.event_id, order.occurred_at, summary, now, out
        )
        early = state.early_deliveries.pop(order.order_id, None)
        if early is not None:
            event_id, delivered_at = early
            self._trigger(
                state, "delivery", order.order_id, event_id, delivered_at, summary, now, out
            )

    def _on_delivery(
        self, state: CustomerState, delivery: Delivery, now: float, out: list[Effect]
    ) -> None:
        summary = state.orders.get(delivery.order_id)
        if summary is None:  # not read yet (or forgotten): matched when the order comes
            state.early_deliveries[delivery.order_id] = [delivery.event_id, delivery.occurred_at]
            return
        self._trigger(
            state,
            "delivery",
            delivery.order_id,
            delivery.event_id,
            delivery.occurred_at,
            summary,
            now,
            out,
        )

    def _trigger(
        self,
        state: CustomerState,
        kind: str,
        order_id: str,
        event_id: str,
        at: float,
        summary: OrderSummary,
        now: float,
        out: list[Effect],
    ) -> None:
        for scenario in self._triggered_by.get(kind, ()):
            trigger = scenario.trigger
            if not _matches(trigger, summary):
                continue
            if not _may_enter(state, scenario, order_id):
                continue
            instance = Instance(
                id=f"{scenario.id}:{order_id}",
                scenario_id=scenario.id,
                version=scenario.version,
                order_id=order_id,
                trigger_kind=kind,
                trigger_event_id=event_id,
                product_name=_product_name(trigger, summary),
                next_step=0,
                last_step_at=at,
            )
            state.instances[instance.id] = instance
            state.entered[instance.id] = now
            out.append(StartInstance(instance.id, scenario.id, scenario.version))
            self._advance(state, scenario, instance, now, out)

    def _on_timer(
        self, state: CustomerState, fired: TimerFired, now: float, out: list[Effect]
    ) -> None:
        instance = state.instances.get(fired.instance_id)
        if instance is None or not instance.running or instance.timer_version != fired.version:
            return  # stale or repeated fire: a no-op
        scenario = self._versions.get((instance.scenario_id, instance.version))
        if scenario is None:
            _end(instance, "scenario_removed", now, out)
            return
        instance.due_at = None
        self._advance(state, scenario, instance, max(now, fired.due_at), out)

    def _advance(
        self,
        state: CustomerState,
        scenario: Scenario,
        instance: Instance,
        now: float,
        out: list[Effect],
    ) -> None:
        """Run every step that is due, then schedule the next one or end the instance."""
        while instance.next_step < len(scenario.steps):
            step = scenario.steps[instance.next_step]
            due = due_time(step.wait, instance.last_step_at, scenario.timezone)
            if due > now:  # the timer is the state's: CustomerState.pending_timers
                instance.timer_version += 1
                instance.due_at = due
                return
            self._run_step(state, scenario, instance, now, out)
        _end(instance, "completed", now, out)

    def _run_step(
        self,
        state: CustomerState,
        scenario: Scenario,
        instance: Instance,
        now: float,
        out: list[Effect],
    ) -> None:
        step = scenario.steps[instance.next_step]
        instance.next_step += 1
        instance.last_step_at = now
        condition = step.condition
        if condition is not None:
            done = instance.opened if condition.kind == "opened" else instance.clicked
            if condition.step_id in done:
                out.append(AdvanceInstance(instance.id, step.id, sent=False))
                return
        cid = command_id(state.customer_id, scenario.id, scenario.version, instance.id, step.id)
        instance.sent[step.id] = cid
        instance.sent_at = now
        instance.recommended = sorted({*instance.recommended, *step.recommendations})
        out.append(AdvanceInstance(instance.id, step.id, sent=True))
        out.append(
            SendCommand(
                command_id=cid,
                customer_id=state.customer_id,
                channel=step.channel,
                scenario_id=scenario.id,
                scenario_version=scenario.version,
                step_id=step.id,
                template=step.template,
                personalisation=(("product_name", instance.product_name),),
                recommendations=step.recommendations,
                offer=step.offer,
                trigger_kind=instance.trigger_kind,
                trigger_event_id=instance.trigger_event_id,
                order_id=instance.order_id,
                created_at=now,
                not_after=now + scenario.expiry_s,
            )
        )

    def _convert(self, state: CustomerState, order: Order, now: float, out: list[Effect]) -> None:
        """A purchase of a recommended product: a conversion, and the end of the instance."""
        for instance in state.instances.values():
            if instance.sent_at is None:
                continue
            bought = [line for line in order.lines if line.sku in instance.recommended]
            if not bought:
                continue
            scenario = self._versions.get((instance.scenario_id, instance.version))
            if order.occurred_at - instance.sent_at <= self._attribution_window(instance):
                revenue = sum(line.quantity * line.unit_price for line in bought)
                out.append(
                    RecordConversion(
                        instance.id, instance.scenario_id, order.order_id, revenue, order.currency
                    )
                )
            if instance.running and (scenario is None or scenario.exit_on_purchase):
                if instance.due_at is not None:  # its timer's fire becomes a no-op
                    instance.timer_version += 1
                    instance.due_at = None
                _end(instance, "purchased", now, out)

    def _forget_old(self, state: CustomerState, now: float) -> None:
        state.pruned_at = now
        for order_id in [k for k, o in state.orders.items() if now - o.placed_at > ORDER_MEMORY_S]:
            del state.orders[order_id]
        for key in [k for k, at in state.entered.items() if now - at > ENTRY_MEMORY_S]:
            del state.entered[key]
        for key in [k for k, d in state.early_deliveries.items() if now - d[1] > ORDER_MEMORY_S]:
            del state.early_deliveries[key]
        for instance in list(state.instances.values()):
            ended = instance.ended_at
            if ended is not None and now - ended > self._attribution_window(instance):
                del state.instances[instance.id]

    def _attribution_window(self, instance: Instance) -> float:
        scenario = self._versions.get((instance.scenario_id, instance.version))
        return scenario.attribution_window_s if scenario else 0.0


def _matches(trigger: Trigger, order: OrderSummary) -> bool:
    return (
        (trigger.category is None or trigger.category in order.categories)
        and (trigger.sku is None or trigger.sku in order.skus)
        and (trigger.order_channel is None or trigger.order_channel == order.channel)
        and (
            trigger.subscription_plan is None
            or trigger.subscription_plan == order.subscription_plan
        )
        and (
            trigger.subscription_period is None
            or trigger.subscription_period == order.subscription_period
        )
    )


def _may_enter(state: CustomerState, scenario: Scenario, order_id: str) -> bool:
    if scenario.once_per_order and f"{scenario.id}:{order_id}" in state.entered:
        return False
    if scenario.not_while_running:
        for instance in state.instances.values():
            if instance.ended_at is None and instance.scenario_id == scenario.id:
                return False
    return True


def _summary(order: Order, relevant: frozenset[str]) -> OrderSummary:
    """What is remembered of an order: at most ``MAX_ORDER_LINES`` lines, one per SKU, the
    lines a trigger looks for first, names cut to ``MAX_NAME_CHARS``: a huge order cannot
    make a huge record, and still triggers what its lines call for."""
    skus: list[str] = []
    categories: list[str] = []
    names: list[str] = []
    for wanted in (True, False):
        for line in order.lines:
            if len(skus) == MAX_ORDER_LINES:
                break
            if ((line.category in relevant) or (line.sku in relevant)) != wanted:
                continue
            if line.sku in skus:
                continue
            skus.append(line.sku)
            categories.append(line.category)
            names.append(line.name[:MAX_NAME_CHARS])
    return OrderSummary(
        order.occurred_at,
        order.channel,
        skus,
        categories,
        names,
        order.subscription_plan,
        order.subscription_period,
    )


def _product_name(trigger: Trigger, order: OrderSummary) -> str:
    """The name of the order line that matched the trigger (else the first line)."""
    # Not strict: the three lists are built together (_summary), and strict checks cost.
    for sku, category, name in zip(order.skus, order.categories, order.names):  # noqa: B905
        if sku == trigger.sku or category == trigger.category:
            return name
    return order.names[0] if order.names else ""


def _on_engagement(state: CustomerState, event: Open | Click) -> None:
    found = state.instance_for_command(event.command_id)
    if found is None:
        return
    instance, step_id = found
    if step_id not in instance.opened:
        instance.opened.append(step_id)  # a click implies the message was opened
    if isinstance(event, Click) and step_id not in instance.clicked:
        instance.clicked.append(step_id)


def _end(instance: Instance, reason: str, now: float, out: list[Effect]) -> None:
    instance.ended_at = now
    instance.exit_reason = reason
    out.append(ExitInstance(instance.id, instance.scenario_id, reason))
