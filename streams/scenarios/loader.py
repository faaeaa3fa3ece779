"""Scenario files (YAML) to validated ``Scenario`` values; every error names file, line, field.

See ``scenarios/README.md`` for the language.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from streams.engine.conditions import Expr, step_references
from streams.engine.experiments import BUCKETS
from streams.engine.scenario import (
    Candidate,
    Offer,
    Scenario,
    Step,
    Trigger,
    Variant,
    Wait,
)
from streams.exceptions import ConfigurationError
from streams.scenarios.conditions import parse_condition
from streams.scenarios.durations import parse_duration
from streams.scenarios.exceptions import ScenarioError, raise_all
from streams.scenarios.yaml_nodes import Located
from streams.settings import CHANNELS

_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_SHARE = re.compile(r"^\s*(\d{1,3}(?:\.\d{1,2})?)\s*%\s*$")
_SECTIONS = {
    "entry": {"once_per_order", "once_per_subscription", "not_while_running", "when", "cooldown"},
    "exit": {"on_purchase_of_recommended", "on_purchase", "on_click"},
    "goal": {"attribution_window"},
}
_TOP_FIELDS = {
    "id",
    "version",
    "timezone",
    "priority",
    "trigger",
    "entry",
    "steps",
    "exit",
    "goal",
    "expiry",
    "holdout",
    "salt",
}
NOT_SCENARIOS = ("catalog.yaml", "policies.yaml")
"""Files of a scenario folder that are not scenarios: the demo catalog and the policies."""


def load_scenarios(folder: Path) -> list[Scenario]:
    """Every ``*.yaml`` scenario of ``folder`` (``NOT_SCENARIOS`` aside), validated."""
    files = sorted(p for p in folder.glob("*.yaml") if p.name not in NOT_SCENARIOS)
    if not files:
        raise ConfigurationError(
            f"no scenario files (*.yaml) in {folder}; set REBOUND_SCENARIOS_DIR to their folder"
        )
    scenarios, errors = [], []
    for path in files:
        try:
            scenarios.append(load_scenario(path))
        except ScenarioError as error:  # the other files are checked too
            errors.append(error)
    raise_all(errors + duplicate_versions(scenarios))
    return scenarios


def duplicate_versions(scenarios: list[Scenario]) -> list[ScenarioError]:
    """A scenario version in two files: the second is a mistake."""
    seen: dict[tuple[str, int], str] = {}
    errors = []
    for scenario in scenarios:
        key = (scenario.id, scenario.version)
        if key in seen:
            problem = f"{scenario.id} v{scenario.version} is also in {seen[key]}"
            errors.append(ScenarioError(scenario.source, 1, "version", problem))
        seen[key] = scenario.source
    return errors


def load_scenario(path: Path) -> Scenario:
    return parse_scenario(path.read_text(), str(path))


def parse_scenario(text: str, source: str) -> Scenario:
    """The scenario of ``text``; every mistake in it is reported at once (``ScenarioErrors``),
    each with its line and field."""
    doc = Located(source, text)
    top = _mapping(doc, doc.value, "")
    attempt = doc.attempt
    _no_unknown(doc, top, "", _TOP_FIELDS)
    for section, known in _SECTIONS.items():
        empty: dict[str, Any] = {}
        raw = attempt(functools.partial(_mapping, doc, top.get(section, {}), section), empty)
        _no_unknown(doc, raw, section, known)
    no_steps: tuple[Step, ...] = ()
    fields: dict[str, Any] = {
        "id": attempt(lambda: _text(doc, top, "id"), ""),
        "version": attempt(lambda: _int(doc, top, "version", minimum=1), 1),
        "trigger": attempt(lambda: _trigger(doc, top), None),
        "steps": attempt(lambda: _steps(doc, top), no_steps),
        "once_per_order": attempt(lambda: _bool(doc, top, "entry.once_per_order", True), True),
        "once_per_subscription": attempt(
            lambda: _bool(doc, top, "entry.once_per_subscription", False), False
        ),
        "not_while_running": attempt(
            lambda: _bool(doc, top, "entry.not_while_running", True), True
        ),
        "exit_on_click": attempt(lambda: _bool(doc, top, "exit.on_click", False), False),
        "entry_condition": attempt(
            lambda: _condition(doc, _get(top, "entry.when", None), "entry.when"), None
        ),
        "cooldown_s": attempt(
            lambda: _duration(doc, _get(top, "entry.cooldown", "0s"), "entry.cooldown"), 0.0
        ),
        "attribution_window_s": attempt(
            lambda: _duration(
                doc, _get(top, "goal.attribution_window", "14d"), "goal.attribution_window"
            ),
            0.0,
        ),
        "expiry_s": attempt(lambda: _duration(doc, _get(top, "expiry", "2d"), "expiry"), 0.0),
        "timezone": attempt(lambda: _timezone(doc, top), ""),
        "priority": attempt(
            lambda: _int(doc, top, "priority", 0, 100) if "priority" in top else 0, 0
        ),
        "holdout": attempt(lambda: share(doc, top.get("holdout", 0), "holdout"), 0),
        "salt": attempt(lambda: _text(doc, top, "salt") if "salt" in top else "", ""),
    }
    no_rule: tuple[str, tuple[str, ...]] = ("recommended", ())
    fields["exit_on_purchase"], fields["exit_values"] = attempt(
        lambda: _exit_rule(doc, top), no_rule
    )
    raise_all(doc.errors)
    scenario = Scenario(**fields, source=source)
    _check_conditions(doc, scenario)
    raise_all(doc.errors)
    return scenario


def _trigger(doc: Located, top: dict[str, Any]) -> Trigger:
    raw = _mapping(doc, top.get("trigger"), "trigger")
    _no_unknown(doc, raw, "trigger", {"event", "order_contains", "order_channel", "subscription"})
    event = _choice(doc, raw.get("event"), "trigger.event", ("order", "delivery"))
    contains = _mapping(doc, raw.get("order_contains", {}), "trigger.order_contains")
    _no_unknown(doc, contains, "trigger.order_contains", {"category", "sku"})
    subscription = _mapping(doc, raw.get("subscription", {}), "trigger.subscription")
    _no_unknown(doc, subscription, "trigger.subscription", {"plan", "period"})
    channel = raw.get("order_channel")
    if channel is not None:
        _choice(doc, channel, "trigger.order_channel", ("web", "app", "store", "b2b"))
    period = subscription.get("period")
    if period is not None and (not isinstance(period, int) or period < 1):
        raise doc.fail(
            "trigger.subscription.period", f"must be a whole number >= 1, not {period!r}"
        )
    return Trigger(
        event=event,
        category=contains.get("category"),
        sku=contains.get("sku"),
        order_channel=channel,
        subscription_plan=subscription.get("plan"),
        subscription_period=period,
    )


def _steps(doc: Located, top: dict[str, Any]) -> tuple[Step, ...]:
    raw = top.get("steps")
    if not isinstance(raw, list) or not raw:
        raise doc.fail("steps", "a scenario needs a list of at least one step")
    steps = []
    for i, item in enumerate(raw):
        try:
            steps.append(_step(doc, item, f"steps[{i}]"))
        except ScenarioError as error:  # the other steps are read on
            doc.errors.append(error)
    ids = [s.id for s in steps]
    for i, step_id in enumerate(ids):
        if step_id in ids[:i]:
            doc.errors.append(doc.fail(f"steps[{i}].id", f"step id {step_id!r} is used twice"))
    return tuple(steps)


_STEP_FIELDS = {
    "id",
    "wait",
    "when",
    "otherwise",
    "to",
    "channel",
    "template",
    "recommendations",
    "offer",
    "variants",
}
_VARIANT_FIELDS = {"name", "weight", "channel", "template", "recommendations", "offer"}
"""What a variant may change of its step: what is sent, not when or whether."""


def _step(doc: Located, raw: Any, path: str) -> Step:
    item = _mapping(doc, raw, path)
    _no_unknown(doc, item, path, _STEP_FIELDS)
    step = _step_fields(doc, item, path)
    if "variants" not in item:
        return step
    return dataclasses.replace(step, variants=_variants(doc, item, step, path))


def _variants(doc: Located, item: dict[str, Any], step: Step, path: str) -> tuple[Variant, ...]:
    """``variants: [{name: A, weight: 50}, {name: B, weight: 50, template: ...}]``: each
    the step with the fields it names replaced."""
    raw = item["variants"]
    field = f"{path}.variants"
    if not isinstance(raw, list) or len(raw) < 2:
        raise doc.fail(field, "expected a list of at least two variants ({name, weight, ...})")
    variants: list[Variant] = []
    for i, entry in enumerate(raw):
        where = f"{field}[{i}]"
        fields = _mapping(doc, entry, where)
        _no_unknown(doc, fields, where, _VARIANT_FIELDS)
        name = _text(doc, fields, "name", where)
        if any(v.name == name for v in variants):
            raise doc.fail(f"{where}.name", f"variant name {name!r} is used twice")
        weight = _int(doc, fields, "weight", 1, BUCKETS, where) if "weight" in fields else 1
        variants.append(Variant(name, weight, _variant_step(doc, fields, step, where)))
    return tuple(variants)


def _variant_step(doc: Located, fields: dict[str, Any], step: Step, where: str) -> Step:
    """``step`` with what the variant names replaced, each checked at the variant's line."""
    changes: dict[str, Any] = {}
    if "channel" in fields:
        changes["channels"] = _channels(doc, fields["channel"], f"{where}.channel")
    if "template" in fields:
        changes["template"] = _text(doc, fields, "template", where)
    if "recommendations" in fields:
        changes["recommendations"], changes["pick"] = _recommendations(
            doc, fields["recommendations"], where
        )
    if "offer" in fields:
        changes["offer"] = _offer(doc, fields["offer"], f"{where}.offer")
    return dataclasses.replace(step, **changes)


def _step_fields(doc: Located, item: dict[str, Any], path: str) -> Step:
    raw = item.get("recommendations", [])
    bought = raw == "bought"
    candidates, pick = _recommendations(doc, [] if bought else raw, path)
    otherwise = item.get("otherwise")
    if otherwise is not None and (not isinstance(otherwise, str) or not otherwise.strip()):
        raise doc.fail(f"{path}.otherwise", "expected end or the id of a later step")
    return Step(
        otherwise=otherwise,
        recommend_bought=bought,
        id=_text(doc, item, "id", path),
        wait=_wait(doc, item.get("wait", "0s"), f"{path}.wait"),
        channels=_channels(doc, item.get("channel"), f"{path}.channel"),
        template=_text(doc, item, "template", path),
        recommendations=candidates,
        condition=_condition(doc, item.get("when"), f"{path}.when"),
        offer=_offer(doc, item.get("offer"), f"{path}.offer"),
        pick=pick,
        to=_choice(doc, item.get("to", "customer"), f"{path}.to", ("customer", "seller")),
    )


def share(doc: Located, raw: Any, path: str) -> int:
    """A share of customers, ``"10%"`` (0% to 100%, two decimals at most), in buckets of
    ``experiments.BUCKETS``."""
    if raw == 0:
        return 0
    match = _SHARE.match(str(raw)) if isinstance(raw, str) else None
    if match is None or float(match.group(1)) > 100:
        raise doc.fail(path, f'expected a share like "10%" (0% to 100%), not {raw!r}')
    return round(float(match.group(1)) * BUCKETS / 100)


def _channels(doc: Located, raw: Any, path: str) -> tuple[str, ...]:
    """``email``, or a fallback list in order of preference: ``[push, email]``."""
    names = raw if isinstance(raw, list) else [raw]
    channels = tuple(_choice(doc, name, path, CHANNELS) for name in names)
    if not channels or len(set(channels)) < len(channels):
        raise doc.fail(path, f"expected a channel or a list of distinct channels, not {raw!r}")
    return channels


def _recommendations(doc: Located, raw: Any, path: str) -> tuple[tuple[Candidate, ...], int | None]:
    """A list of candidates, or ``{from: [candidates], pick: N}``; a candidate is a SKU or
    ``{sku: SKU, if: {attribute: value}}``; or ``bought``: the trigger order's products
    (replenishment)."""
    field = f"{path}.recommendations"
    pick = None
    if isinstance(raw, dict):
        _no_unknown(doc, raw, field, {"from", "pick"})
        pick = _int(doc, raw, "pick", 1, None, field)
        raw = raw.get("from")
        field += ".from"
    if not isinstance(raw, list):
        raise doc.fail(
            field, "must be a list of SKUs (or of {sku, if} mappings), or bought (what was bought)"
        )
    candidates = []
    for i, item in enumerate(raw):
        if isinstance(item, str) and item:
            candidates.append(Candidate(item))
            continue
        entry = _mapping(doc, item, f"{field}[{i}]")
        _no_unknown(doc, entry, f"{field}[{i}]", {"sku", "if"})
        requires = _mapping(doc, entry.get("if", {}), f"{field}[{i}].if")
        if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in requires.values()):
            raise doc.fail(f"{field}[{i}].if", "expected attribute: value pairs of text")
        candidates.append(
            Candidate(
                _text(doc, entry, "sku", f"{field}[{i}]"),
                tuple((str(k), str(v)) for k, v in requires.items()),
            )
        )
    if pick is not None and not candidates:
        raise doc.fail(field, "pick needs at least one candidate")
    return tuple(candidates), pick


def _wait(doc: Located, raw: Any, path: str) -> Wait:
    if not isinstance(raw, dict):
        return Wait(_duration(doc, raw, path))
    _no_unknown(doc, raw, path, {"after", "at", "business_days"})
    at = raw.get("at")
    clock = _clock(doc, at, f"{path}.at") if at is not None else None
    delay = _duration(doc, raw.get("after", "0s"), f"{path}.after")
    business = _bool(doc, raw, "business_days", False, path)
    if business and delay % 86400:
        raise doc.fail(f"{path}.after", "with business_days, the delay is whole days (2d)")
    return Wait(delay, clock, business)


def _clock(doc: Located, raw: Any, path: str) -> tuple[int, int]:
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < 24 * 60:
        written = f"{raw // 60}:{raw % 60:02d}"  # YAML 1.1 reads 10:00 as 600 (base 60)
        raise doc.fail(path, f'write the time in quotes: "{written}" (unquoted, YAML reads'
                             f" {written} as the number {raw})")  # fmt: skip
    match = _CLOCK.match(str(raw))
    if match is None:
        raise doc.fail(path, f'expected a time of day like "10:00", not {raw!r}')
    return int(match.group(1)), int(match.group(2))


def _condition(doc: Located, raw: Any, path: str) -> Expr | None:
    if raw is None:
        return None
    try:
        return parse_condition(str(raw))
    except ValueError as exc:
        raise doc.fail(path, str(exc)) from None


def _exit_rule(doc: Located, top: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """``exit.on_purchase``: recommended (the default), any, none, ``{category: [..]}`` or
    ``{sku: [..]}``; ``exit.on_purchase_of_recommended: false`` is ``none``."""
    field = "exit.on_purchase"
    raw = _get(top, field, None)
    if raw is None:
        kept = _bool(doc, top, "exit.on_purchase_of_recommended", True)
        return ("recommended" if kept else "none"), ()
    if raw in ("recommended", "any", "none"):
        return str(raw), ()
    if isinstance(raw, dict) and len(raw) == 1 and next(iter(raw)) in ("category", "sku"):
        kind, values = next(iter(raw.items()))
        names = values if isinstance(values, list) else [values]
        if names and all(isinstance(v, str) and v for v in names):
            return str(kind), tuple(names)
    raise doc.fail(
        field, f"expected recommended, any, none, {{category: NAME}} or {{sku: [SKU]}}; not {raw!r}"
    )


def _offer(doc: Located, raw: Any, path: str) -> Offer | None:
    if raw is None:
        return None
    item = _mapping(doc, raw, path)
    _no_unknown(doc, item, path, {"code", "description", "discount_percent"})
    return Offer(
        _text(doc, item, "code", path),
        _text(doc, item, "description", path),
        _int(doc, item, "discount_percent", 1, 100, path),
    )


def _check_conditions(doc: Located, scenario: Scenario) -> None:
    ids = [s.id for s in scenario.steps]
    fail = doc.errors.append
    if scenario.entry_condition is not None and step_references(scenario.entry_condition):
        fail(doc.fail("entry.when", "an entry condition cannot ask about steps: none ran yet"))
    for i, step in enumerate(scenario.steps):
        if step.condition is not None:
            for name in step_references(step.condition):
                if name not in ids[:i]:
                    close = difflib.get_close_matches(name, ids[:i], n=1)
                    guess = f"; did you mean {close[0]}?" if close else ""
                    fail(
                        doc.fail(
                            f"steps[{i}].when",
                            f"{name!r} is not an earlier step ({ids[:i] or 'none'}){guess}",
                        )
                    )
        if step.otherwise is not None and step.otherwise != "end":
            if step.condition is None:
                fail(doc.fail(f"steps[{i}].otherwise", "needs a when: condition"))
            elif step.otherwise not in ids[i + 1 :]:
                fail(
                    doc.fail(
                        f"steps[{i}].otherwise",
                        f"expected end or a later step ({', '.join(ids[i + 1 :]) or 'none'}),"
                        f" not {step.otherwise!r}",
                    )
                )


def _timezone(doc: Located, top: dict[str, Any]) -> str:
    return _timezone_name(doc, top.get("timezone", "Europe/Paris"), "timezone")


def _timezone_name(doc: Located, raw: Any, path: str) -> str:
    name = str(raw)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise doc.fail(path, f"unknown time zone {name!r}") from None
    return name


def _duration(doc: Located, raw: Any, path: str) -> float:
    if raw == 0:
        return 0.0
    seconds = parse_duration(str(raw))
    if seconds is None:
        raise doc.fail(path, f"expected a duration like 3d, 12h, 30m, 0s; not {raw!r}")
    return seconds


def _get(top: dict[str, Any], dotted: str, default: Any) -> Any:
    value: Any = top
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return default
        value = value[part]
    return value


def _mapping(doc: Located, raw: Any, path: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise doc.fail(path, "expected a mapping of fields" if raw is not None else "is missing")
    return raw


def _no_unknown(doc: Located, raw: dict[str, Any], path: str, known: set[str]) -> None:
    """Every field of ``raw`` that is not ``known`` is a mistake (kept in ``doc.errors``;
    the rest is read on), with the name it most likely meant."""
    for key in raw:
        if key not in known:
            field = f"{path}.{key}" if path else key
            close = difflib.get_close_matches(str(key), known, n=1)
            guess = f"did you mean {close[0]}? " if close else ""
            expected = f"expected one of {', '.join(sorted(known))}"
            doc.errors.append(doc.fail(field, f"unknown field; {guess}{expected}"))


def _text(doc: Located, raw: dict[str, Any], name: str, path: str = "") -> str:
    value = raw.get(name)
    field = f"{path}.{name}" if path else name
    if not isinstance(value, str) or not value.strip():
        raise doc.fail(field, "is missing" if value is None else f"must be text, not {value!r}")
    return value


def _int(
    doc: Located,
    raw: dict[str, Any],
    name: str,
    minimum: int = 0,
    maximum: int | None = None,
    path: str = "",
) -> int:
    value = raw.get(name)
    field = f"{path}.{name}" if path else name
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        bounds = f">= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
        raise doc.fail(field, f"must be a whole number {bounds}, not {value!r}")
    return value


def _bool(doc: Located, top: dict[str, Any], dotted: str, default: bool, path: str = "") -> bool:
    value = _get(top, dotted, default)
    if not isinstance(value, bool):
        field = f"{path}.{dotted}" if path else dotted
        raise doc.fail(field, f"must be true or false, not {value!r}")
    return value


def _choice(doc: Located, value: Any, path: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise doc.fail(path, f"must be one of {', '.join(allowed)}, not {value!r}")
    return str(value)
