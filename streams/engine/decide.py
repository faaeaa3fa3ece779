"""The decision: ``Engine.decide(state, input, now, context) -> (state, effects)``, no I/O.

Inputs are events (order, delivery, open, click) and due timers; ``now`` is given, never read;
the customer's profile, the policies and the calendars come in the ``Context``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from streams.engine.conditions import Facts, evaluate, unsent_references
from streams.engine.context import (
    EXPIRED,
    NOTHING_TO_RECOMMEND,
    Calendar,
    Context,
    Policies,
    Profile,
)
from streams.engine.effects import (
    AdvanceInstance,
    Effect,
    Engaged,
    ExitInstance,
    RecordConversion,
    SendCommand,
    StartInstance,
    StepDeferred,
    StepDropped,
    StepHeldOut,
    TimerFired,
)
from streams.engine.events import Click, Consent, Delivery, Event, Open, Order, OrderLine
from streams.engine.exceptions import EngineError
from streams.engine.experiments import CONTROL, TREATMENT, held_out, pick_variant
from streams.engine.ids import command_id
from streams.engine.scenario import Scenario, Step, Trigger
from streams.engine.state import (
    ALL_CHANNELS,
    ENTRY_MEMORY_S,
    MAX_NAME_CHARS,
    MAX_ORDER_LINES,
    MAX_ORDERS,
    MAX_SENDS,
    ORDER_MEMORY_S,
    PRUNE_EVERY_S,
    SUBSCRIPTION_MEMORY_S,
    CustomerState,
    Instance,
    OrderSummary,
)
from streams.engine.timing import due_time

Input = Event | TimerFired
PREVIOUS_NOT_SENT = "previous_not_sent"
"""A step dropped because its condition asks of an earlier step that sent nothing."""
CATEGORY_PREFIX = "category:"
"""In a catalog's ``fits``: a category rather than a SKU."""
_ENGAGEMENTS = (Open, Click)
"""For isinstance: ``Open | Click`` would build a union object at every call."""
_NO_PROFILE = (Open, Click, Consent)
"""Inputs that start nothing and run no step."""


class Engine:
    """Decides for every loaded scenario; older versions stay for instances in flight."""

    def __init__(
        self,
        scenarios: Iterable[Scenario],
        policies: Policies | None = None,
        retained: Iterable[Scenario] = (),
    ) -> None:
        """``scenarios``: what new entries get, the latest version of each id. ``retained``:
        versions that only finish the instances started on them (earlier versions, or
        scenarios no longer in the folder): no trigger starts them."""
        self.policies = policies or Policies()
        self.calendar = Calendar()
        self.defaults = Context(None, self.policies, self.calendar)
        """The context of a customer without a profile."""
        self.unread = Context(None, self.policies, self.calendar, read=False)
        """The context of an input for which the profile was not read (``needs_profile``)."""
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
        self._any_order_triggers = any(
            s.trigger.category is None and s.trigger.sku is None for s in self._latest.values()
        )
        self.fits: dict[str, frozenset[str]] = {}
        """SKU -> what it fits (SKUs, ``category:<name>``): the catalog's compatibility
        rules. A candidate listed here is recommended only when the instance's order holds
        one of them; one not listed fits everything. Replaced as a whole by the shell."""
        self._priority: dict[tuple[str, int], int] = {}
        self.retained: list[Scenario] = []
        """The versions kept for instances in flight only."""
        self.retain(retained)

    def retain(self, scenarios: Iterable[Scenario]) -> int:
        """Keep ``scenarios`` for the instances in flight on them (a version already known
        stays as it is); how many were new."""
        added = 0
        for scenario in scenarios:
            key = (scenario.id, scenario.version)
            if key not in self._versions:
                self._versions[key] = scenario
                self.retained.append(scenario)
                added += 1
        self._priority = {key: s.priority for key, s in self._versions.items()}
        return added

    def knows(self, scenario_id: str, version: int) -> bool:
        """Whether instances of this version can go on here."""
        return (scenario_id, version) in self._versions

    def context(self, profile: Profile | None) -> Context:
        """The context of a customer whose profile is ``profile`` (None: has none)."""
        return Context(profile, self.policies, self.calendar)

    def needs_profile(self, event: Input) -> bool:
        """Whether deciding on ``event`` may start an instance or run a step, the only
        decisions that read the profile: the worker reads profiles for these inputs only
        (opens, clicks and orders that no trigger looks for are most of a stream)."""
        if isinstance(event, _NO_PROFILE):
            return False
        if isinstance(event, Order) and not self._any_order_triggers:
            relevant = self._relevant
            return any(line.category in relevant or line.sku in relevant for line in event.lines)
        return True

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
        self,
        state: CustomerState | None,
        event: Input,
        now: float,
        context: Context | None = None,
    ) -> tuple[CustomerState, list[Effect]]:
        """``context`` None: a customer without a profile."""
        state = state or CustomerState(event.customer_id)
        ctx = context or self.defaults
        if now - state.pruned_at >= PRUNE_EVERY_S:
            self._forget_old(state, now, ctx)  # before deciding: what is forgotten plays no part
        effects: list[Effect] = []
        if ctx.unsubscribed:
            _unsubscribe(state, now, effects)
        if isinstance(event, Order):
            self._on_order(state, event, now, ctx, effects)
        elif isinstance(event, Delivery):
            self._on_delivery(state, event, now, ctx, effects)
        elif isinstance(event, _ENGAGEMENTS):
            self._on_engagement(state, event, now, effects)
        elif isinstance(event, TimerFired):
            self._on_timer(state, event, now, ctx, effects)
        elif isinstance(event, Consent):
            _on_consent(state, event, now, effects)
        return state, effects

    def _on_order(
        self, state: CustomerState, order: Order, now: float, ctx: Context, out: list[Effect]
    ) -> None:
        self._convert(state, order, now, out)
        summary = _summary(order, self._relevant)
        orders = state.orders
        orders[order.order_id] = summary
        if len(orders) > MAX_ORDERS:
            del orders[min(orders, key=lambda k: orders[k].placed_at)]
        self._trigger(
            state,
            "order",
            order.order_id,
            order.event_id,
            order.occurred_at,
            summary,
            now,
            ctx,
            out,
        )
        early = state.early_deliveries.pop(order.order_id, None)
        if early is not None:
            event_id, delivered_at = early
            self._trigger(
                state, "delivery", order.order_id, event_id, delivered_at, summary, now, ctx, out
            )

    def _on_delivery(
        self,
        state: CustomerState,
        delivery: Delivery,
        now: float,
        ctx: Context,
        out: list[Effect],
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
            ctx,
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
        ctx: Context,
        out: list[Effect],
    ) -> None:
        if ctx.unsubscribed or state.withdrawn_all():
            return
        for scenario in self._triggered_by.get(kind, ()):
            trigger = scenario.trigger
            if not _matches(trigger, summary):
                continue
            if not _may_enter(state, scenario, order_id, summary.subscription_id, now):
                continue
            if scenario.entry_condition is not None and not evaluate(
                scenario.entry_condition,
                Facts(state, None, summary, ctx.attribute, now, now),
            ):
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
                started_at=at,
                held_out=held_out(
                    state.customer_id,
                    scenario.id,
                    scenario.experiment_salt,
                    scenario.holdout,
                    self.policies.control_group,
                ),
            )
            state.instances[instance.id] = instance
            state.entered[instance.id] = now
            if scenario.once_per_subscription and summary.subscription_id:
                state.entered[_subscription_key(scenario.id, summary.subscription_id)] = now
            group = CONTROL if instance.held_out else TREATMENT
            out.append(StartInstance(instance.id, scenario.id, scenario.version, group))
            self._advance(state, scenario, instance, now, ctx, out, None)

    def _on_timer(
        self, state: CustomerState, fired: TimerFired, now: float, ctx: Context, out: list[Effect]
    ) -> None:
        """Run the fired instance's step, and every other step of the customer due by then,
        the scenarios of higher priority first: they compete for the same caps. (The other
        instances' own fires then find their timers moved on: no-ops.)"""
        instance = state.instances.get(fired.instance_id)
        if instance is None or not instance.running or instance.timer_version != fired.version:
            return  # stale or repeated fire: a no-op
        at = max(now, fired.due_at)
        due = [
            i
            for i in state.instances.values()
            if i.ended_at is None and i.due_at is not None and i.due_at <= at
        ]
        if len(due) > 1:
            priority = self._priority
            due.sort(key=lambda i: (-priority.get((i.scenario_id, i.version), 0), i.due_at, i.id))
        for instance in due:
            scheduled, instance.due_at = instance.due_at, None
            scenario = self._versions.get((instance.scenario_id, instance.version))
            if scenario is None:
                _end(instance, "scenario_removed", now, out)
                continue
            self._advance(state, scenario, instance, at, ctx, out, scheduled)

    def _advance(
        self,
        state: CustomerState,
        scenario: Scenario,
        instance: Instance,
        now: float,
        ctx: Context,
        out: list[Effect],
        scheduled: float | None,
    ) -> None:
        """Run every step that is due, then schedule the next one or end the instance.
        ``scheduled``: when the timer that runs the first step was due."""
        zone_name = ctx.zone_name(scenario.timezone)
        while instance.next_step < len(scenario.steps):
            step = scenario.steps[instance.next_step]
            due = due_time(step.wait, instance.last_step_at, zone_name, ctx.business_day)
            if due > now:  # the timer is the state's: CustomerState.pending_timers
                _schedule(instance, due)
                return
            if instance.deferred_from is not None and scheduled is not None:
                due = max(due, scheduled)  # the deferred moment it was due at
            scheduled = None
            if not self._run_step(state, scenario, instance, step, due, now, ctx, zone_name, out):
                return  # deferred
            if not instance.running:
                return  # ended by its condition (``otherwise: end``)
        _end(instance, "completed", now, out)

    def _run_step(
        self,
        state: CustomerState,
        scenario: Scenario,
        instance: Instance,
        step: Step,
        due: float,
        now: float,
        ctx: Context,
        zone_name: str,
        out: list[Effect],
    ) -> bool:
        """The step sends, is skipped or dropped (True), or is deferred (False: its timer
        is set). A held-out instance's step goes the same way but publishes nothing."""
        condition = step.condition
        if condition is not None:
            if unsent_references(condition, instance):  # a follow-up of what did not happen
                return _drop(instance, step, PREVIOUS_NOT_SENT, now, out, "")
            since = instance.started_at or instance.last_step_at
            order = state.orders.get(instance.order_id)
            if not evaluate(condition, Facts(state, instance, order, ctx.attribute, since, now)):
                return _otherwise(scenario, instance, step, now, out)
        variant = ""
        if step.variants:
            weights = tuple(v.weight for v in step.variants)
            drawn = step.variants[
                pick_variant(
                    weights, scenario.experiment_salt, scenario.id, step.id, state.customer_id
                )
            ]
            step, variant = drawn.step, drawn.name
            instance.variants[step.id] = variant
        first_due = instance.deferred_from if instance.deferred_from is not None else due
        channel = step.channels[0]
        if step.to == "customer":
            if not ctx.read:
                raise EngineError(f"step {step.id} of {instance.id} ran without the profile")
            chosen, refusal = ctx.channel(step.channels, state.consent_override)
            if chosen is None:
                return _drop(instance, step, refusal, now, out, variant)
            channel = chosen
            slot, reasons = ctx.next_slot(channel, now, state.sends, zone_name)
            if slot > now:
                if slot > first_due + scenario.expiry_s:
                    return _drop(instance, step, EXPIRED, now, out, variant)
                instance.deferred_from = first_due
                instance.deferrals = [
                    *instance.deferrals,
                    *(r for r in reasons if r not in instance.deferrals),
                ]
                _schedule(instance, slot)
                out.append(StepDeferred(instance.id, scenario.id, step.id, reasons, slot, variant))
                return False
        if now > first_due + scenario.expiry_s:
            return _drop(instance, step, EXPIRED, now, out, variant)
        recommendations = _recommend(state, scenario, instance, step, ctx, self.fits)
        if step.recommendations and not recommendations:
            return _drop(instance, step, NOTHING_TO_RECOMMEND, now, out, variant)
        deferred_from, reasons = instance.deferred_from, tuple(instance.deferrals)
        _next_step(instance, now)
        instance.sent_at = now
        instance.recommended = sorted({*instance.recommended, *recommendations})
        if instance.held_out:  # the control group: the same decisions, nothing published
            instance.sent[step.id] = ""
            out.append(AdvanceInstance(instance.id, step.id, sent=False))
            out.append(StepHeldOut(instance.id, scenario.id, step.id))
            return True
        cid = command_id(state.customer_id, scenario.id, scenario.version, instance.id, step.id)
        instance.sent[step.id] = cid
        if step.to == "customer":
            sends = state.sends
            sends.append([now, channel])
            if len(sends) > MAX_SENDS:
                del sends[0]
        out.append(AdvanceInstance(instance.id, step.id, sent=True))
        out.append(
            SendCommand(
                command_id=cid,
                customer_id=state.customer_id,
                channel=channel,
                scenario_id=scenario.id,
                scenario_version=scenario.version,
                step_id=step.id,
                template=step.template,
                personalisation=(("product_name", instance.product_name),),
                recommendations=recommendations,
                offer=step.offer,
                trigger_kind=instance.trigger_kind,
                trigger_event_id=instance.trigger_event_id,
                order_id=instance.order_id,
                created_at=now,
                not_after=first_due + scenario.expiry_s,
                due_at=due,
                deferred_from=deferred_from,
                deferral_reasons=reasons,
                variant=variant,
            )
        )
        return True

    def _convert(self, state: CustomerState, order: Order, now: float, out: list[Effect]) -> None:
        """A purchase: a conversion of each instance that recommended what it holds (within
        the attribution window), and the end of the instances whose exit rule it meets."""
        for instance in state.instances.values():
            scenario = self._versions.get((instance.scenario_id, instance.version))
            bought = [line for line in order.lines if line.sku in instance.recommended]
            if bought and instance.sent_at is not None:
                self._attribute(instance, order, bought, out)
            if instance.running and scenario is not None:
                reason = _exit_reason(scenario, order, bool(bought))
                if reason is not None:
                    _cancel_timer(instance)
                    _end(instance, reason, now, out)
            elif instance.running and scenario is None and bought:
                _cancel_timer(instance)
                _end(instance, "purchased", now, out)

    def _attribute(
        self, instance: Instance, order: Order, bought: list[OrderLine], out: list[Effect]
    ) -> None:
        """A conversion of ``instance``, when ``order`` falls in its attribution window."""
        sent_at = instance.sent_at
        if sent_at is None or order.occurred_at - sent_at > self._attribution_window(instance):
            return
        step_id = next(reversed(instance.sent), "")  # the last step that ran
        first = not instance.converted
        instance.converted = True
        out.append(
            RecordConversion(
                instance.id,
                instance.scenario_id,
                order.order_id,
                sum(line.quantity * line.unit_price for line in bought),
                order.currency,
                CONTROL if instance.held_out else TREATMENT,
                step_id,
                instance.variants.get(step_id, ""),
                order.total,
                first,
            )
        )

    def _on_engagement(
        self, state: CustomerState, event: Open | Click, now: float, out: list[Effect]
    ) -> None:
        """The first open and the first click of a message count, for the step and variant
        that sent it; a click implies the message was opened. A click ends an instance whose
        scenario exits on one."""
        found = state.instance_for_command(event.command_id)
        if found is None:
            return
        instance, step_id = found
        variant = instance.variants.get(step_id, "")
        if step_id not in instance.opened:
            instance.opened.append(step_id)
            out.append(Engaged(instance.scenario_id, step_id, variant, event.channel, "opened"))
        if isinstance(event, Click) and step_id not in instance.clicked:
            instance.clicked.append(step_id)
            out.append(Engaged(instance.scenario_id, step_id, variant, event.channel, "clicked"))
            scenario = self._versions.get((instance.scenario_id, instance.version))
            if instance.running and scenario is not None and scenario.exit_on_click:
                _cancel_timer(instance)
                _end(instance, "clicked", now, out)

    def _forget_old(self, state: CustomerState, now: float, ctx: Context) -> None:
        state.pruned_at = now
        for order_id in [k for k, o in state.orders.items() if now - o.placed_at > ORDER_MEMORY_S]:
            del state.orders[order_id]
        for key, at in list(state.entered.items()):
            memory = SUBSCRIPTION_MEMORY_S if _SUBSCRIPTION in key else ENTRY_MEMORY_S
            if now - at > memory:
                del state.entered[key]
        if state.sends:
            oldest = now - ctx.policies.memory_s
            state.sends = [s for s in state.sends if s[0] > oldest]
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


_SUBSCRIPTION = ":subscription:"


def _subscription_key(scenario_id: str, subscription_id: str) -> str:
    return f"{scenario_id}{_SUBSCRIPTION}{subscription_id}"


def _may_enter(
    state: CustomerState,
    scenario: Scenario,
    order_id: str,
    subscription_id: str | None,
    now: float,
) -> bool:
    if scenario.once_per_order and f"{scenario.id}:{order_id}" in state.entered:
        return False
    if (
        scenario.once_per_subscription
        and subscription_id
        and _subscription_key(scenario.id, subscription_id) in state.entered
    ):
        return False
    if scenario.cooldown_s:
        prefix = scenario.id + ":"
        last = max(
            (at for key, at in state.entered.items() if key.startswith(prefix)), default=None
        )
        if last is not None and now - last < scenario.cooldown_s:
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
        order.subscription_id,
        order.total,
    )


def _product_name(trigger: Trigger, order: OrderSummary) -> str:
    """The name of the order line that matched the trigger (else the first line)."""
    # Not strict: the three lists are built together (_summary), and strict checks cost.
    for sku, category, name in zip(order.skus, order.categories, order.names):  # noqa: B905
        if sku == trigger.sku or category == trigger.category:
            return name
    return order.names[0] if order.names else ""


def _recommend(
    state: CustomerState,
    scenario: Scenario,
    instance: Instance,
    step: Step,
    ctx: Context,
    fits: dict[str, frozenset[str]],
) -> tuple[str, ...]:
    """The step's candidates the customer has not bought, whose attributes the profile
    declares and that fit the instance's order (the catalog's ``fits``); with ``pick``, at
    most that many, those not recommended yet first. A step that recommends what was bought
    (replenishment) starts with the trigger order's products and leaves none out for having
    been bought."""
    order = state.orders.get(instance.order_id)
    skus: list[str] = []
    if step.recommend_bought and order is not None:
        skus = _bought_again(scenario, order)
    bought = set() if step.recommend_bought else state.bought()
    skus += [
        c.sku
        for c in step.recommendations
        if c.sku not in bought
        and c.sku not in skus
        and all(ctx.attribute(k) == v for k, v in c.requires)
        and (c.sku not in fits or _fits(fits[c.sku], order))
    ]
    if step.pick is not None:
        seen = instance.recommended
        skus = ([s for s in skus if s not in seen] + [s for s in skus if s in seen])[: step.pick]
    return tuple(skus)


def _bought_again(scenario: Scenario, order: OrderSummary) -> list[str]:
    """The trigger order's products to buy again: its lines of the trigger's SKU or category,
    else all of them."""
    trigger = scenario.trigger
    # Not strict: the lists are built together (_summary), and strict checks cost.
    matching = [
        sku
        for sku, category in zip(order.skus, order.categories)  # noqa: B905
        if sku == trigger.sku or category == trigger.category
    ]
    return matching or list(order.skus)


def _exit_reason(scenario: Scenario, order: Order, bought_recommended: bool) -> str | None:
    """Why ``order`` ends an instance of ``scenario``, if it does."""
    rule = scenario.exit_on_purchase
    if rule == "recommended":
        return "purchased" if bought_recommended else None
    if rule == "any":
        return "purchased_any"
    if rule == "category":
        hit = any(line.category in scenario.exit_values for line in order.lines)
        return "purchased_category" if hit else None
    if rule == "sku":
        return (
            "purchased_sku"
            if any(line.sku in scenario.exit_values for line in order.lines)
            else None
        )
    return None


def _cancel_timer(instance: Instance) -> None:
    """Its pending timer's fire becomes a no-op."""
    if instance.due_at is not None:
        instance.timer_version += 1
        instance.due_at = None


def _otherwise(
    scenario: Scenario, instance: Instance, step: Step, now: float, out: list[Effect]
) -> bool:
    """The step's condition does not hold: the next step, the end, or the step named."""
    out.append(AdvanceInstance(instance.id, step.id, sent=False))
    if step.otherwise == "end":
        _next_step(instance, now)
        _end(instance, "condition", now, out)
    elif step.otherwise is not None:
        _next_step(instance, now)
        instance.next_step = scenario.step_index(step.otherwise)
    else:
        _next_step(instance, now)
    return True


def _fits(targets: frozenset[str], order: OrderSummary | None) -> bool:
    """Whether ``order`` holds a product that a candidate fits: a SKU of ``targets``, or a
    category named ``category:<name>`` there. An order no longer remembered fits nothing:
    nothing is recommended that may not fit."""
    if order is None:
        return False
    return any(sku in targets for sku in order.skus) or any(
        CATEGORY_PREFIX + category in targets for category in order.categories
    )


def _schedule(instance: Instance, due: float) -> None:
    instance.timer_version += 1
    instance.due_at = due


def _next_step(instance: Instance, now: float) -> None:
    instance.next_step += 1
    instance.last_step_at = now
    instance.deferred_from = None
    instance.deferrals = []


def _drop(
    instance: Instance, step: Step, reason: str, now: float, out: list[Effect], variant: str
) -> bool:
    _next_step(instance, now)
    out.append(StepDropped(instance.id, instance.scenario_id, step.id, reason, variant))
    return True


def _on_consent(state: CustomerState, event: Consent, now: float, out: list[Effect]) -> None:
    """A consent event, unless one more recent for its channel was seen (events may come
    late). Withdrawn on every channel: every running instance ends, and none starts until
    consent is given again on every channel; that lifts the withdrawal only (the per-channel
    consents, events' or profile's, apply again)."""
    key = event.channel or ALL_CHANNELS
    seen = state.consents.get(key)
    if seen is not None and float(seen[1]) > event.occurred_at:
        return
    if key == ALL_CHANNELS and event.granted:
        state.consents.pop(ALL_CHANNELS, None)
        return
    state.consents[key] = [event.granted, event.occurred_at]
    if key == ALL_CHANNELS:
        _unsubscribe(state, now, out)


def _unsubscribe(state: CustomerState, now: float, out: list[Effect]) -> None:
    """Unsubscribed (the profile, or a consent event on every channel): every running
    instance ends (its timer's fire becomes a no-op)."""
    for instance in state.instances.values():
        if instance.ended_at is None:
            if instance.due_at is not None:
                instance.timer_version += 1
                instance.due_at = None
            _end(instance, "unsubscribed", now, out)


def _end(instance: Instance, reason: str, now: float, out: list[Effect]) -> None:
    instance.ended_at = now
    instance.exit_reason = reason
    out.append(ExitInstance(instance.id, instance.scenario_id, reason))
