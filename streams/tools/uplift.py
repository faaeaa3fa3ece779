"""Uplift with its uncertainty: a treated group's conversion rate against its control group's.

The statistics are statsmodels' (``statsmodels.stats.proportion``): the difference of two
independent proportions with Newcombe's hybrid score interval (good at small counts and at
rates near 0, where a cross-sell's conversion rates live), the score test's p-value, and the
sample size a two-sided test needs to see the observed difference with 80% power. None of it
is hand-written. statsmodels comes with the ``report`` extra (``pip install rebound[report]``):
the worker does not need it.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

from streams.engine.experiments import CONTROL, TREATMENT
from streams.exceptions import ConfigurationError

CONFIDENCE = 0.95
POWER = 0.8


@dataclass(frozen=True)
class Uplift:
    """Treated against control, for one scenario or one variant."""

    treated: int
    treated_converted: int
    control: int
    control_converted: int
    difference: float
    """Treated rate minus control rate (0.012: 1.2 points)."""
    low: float
    high: float
    """The difference's 95% confidence interval."""
    p_value: float
    needed: int | None
    """Customers (both groups, the current split) for 80% power at the observed
    difference; None when no difference was observed."""

    @property
    def significant(self) -> bool:
        """The interval excludes 0."""
        return self.low > 0 or self.high < 0

    @property
    def more_needed(self) -> int | None:
        """How many more customers (both groups) it would take, if not significant yet."""
        if self.significant or self.needed is None:
            return None
        return max(0, self.needed - self.treated - self.control)

    def verdict(self) -> str:
        """What a CRM team reads: significant or not, and what it would take."""
        points = f"{self.difference * 100:+.2f} points"
        interval = f"95% CI {self.low * 100:+.2f} to {self.high * 100:+.2f}"
        if self.significant:
            side = "more" if self.difference > 0 else "fewer"
            return f"{points} ({interval}): significant, the scenario converts {side}"
        if self.needed is None:
            return f"{points} ({interval}): no difference seen yet"
        return (
            f"{points} ({interval}): not significant yet; about {self.more_needed:,} more"
            " customers at this split would show it, if it is real"
        )


def compare(
    treated: int, treated_converted: int, control: int, control_converted: int
) -> Uplift | None:
    """None when either group is empty (nothing to compare)."""
    if treated <= 0 or control <= 0:
        return None
    proportion = _statsmodels()
    t_x, c_x = min(treated_converted, treated), min(control_converted, control)
    difference = t_x / treated - c_x / control
    with warnings.catch_warnings():  # a rate of 0 divides by 0 in the ratios it also computes
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = proportion.confint_proportions_2indep(
            t_x, treated, c_x, control, method="newcomb", compare="diff", alpha=1 - CONFIDENCE
        )
        test = proportion.test_proportions_2indep(
            t_x, treated, c_x, control, method="score", compare="diff"
        )
        needed = _needed(proportion, difference, c_x / control, control / treated)
    return Uplift(
        treated,
        t_x,
        control,
        c_x,
        difference,
        float(low),
        float(high),
        _number(test.pvalue, 1.0),
        needed,
    )


def _needed(proportion: Any, difference: float, control_rate: float, ratio: float) -> int | None:
    if difference == 0 or not 0 < control_rate + difference < 1:
        return None
    try:
        treated = proportion.samplesize_proportions_2indep_onetail(
            difference,
            control_rate,
            POWER,
            ratio=ratio,
            alpha=1 - CONFIDENCE,
            alternative="two-sided",
        )
    except (ValueError, ZeroDivisionError):
        return None
    value = _number(treated, math.nan)
    return None if math.isnan(value) else math.ceil(value * (1 + ratio))


def _number(value: object, default: float) -> float:
    number = float(value)  # type: ignore[arg-type]
    return default if math.isnan(number) else number


def _statsmodels() -> Any:
    """statsmodels' proportion module (it has no type hints)."""
    try:
        from statsmodels.stats import proportion  # type: ignore[import-untyped]
    except ImportError:
        raise ConfigurationError(
            "rebound report's uplift needs statsmodels: pip install 'rebound[report]'"
        ) from None
    return proportion


class Results:
    """The figures of a funnel (``Funnel.rows``, whatever its source): groups, rates,
    revenue per currency, uplift."""

    def __init__(self, funnel: dict[str, list[dict[str, Any]]]) -> None:
        self.funnel = funnel

    def sum(self, field: str, **labels: str) -> int:
        """The field's count over the rows whose labels match ``labels``."""
        return sum(
            int(row["value"])
            for row in self.funnel.get(field, [])
            if all(row.get(k, "") == v for k, v in labels.items())
        )

    def scenarios(self) -> list[str]:
        return sorted({row["scenario"] for rows in self.funnel.values() for row in rows})

    def started(self, scenario: str, group: str) -> int:
        return self.sum("started", scenario=scenario, group=group)

    def converted(self, scenario: str, group: str) -> int:
        return self.sum("converted", scenario=scenario, group=group)

    def steps(self) -> list[tuple[str, str, str]]:
        """(scenario, step, variant) of every step that sent or dropped."""
        keys = {
            (row["scenario"], row["step"], row["variant"])
            for field in ("sent", "dropped")
            for row in self.funnel.get(field, [])
        }
        return sorted(keys)

    def step_uplift(self, scenario: str, step: str, variant: str) -> Uplift | None:
        """A step's variant against the control group at the same step: its sends and the
        conversions that followed them (last touch) against the control instances that
        reached the step silently and the conversions that followed."""
        return compare(
            self.sum("sent", scenario=scenario, step=step, variant=variant),
            self.sum("converted", scenario=scenario, group=TREATMENT, step=step, variant=variant),
            self.sum("held_out", scenario=scenario, step=step),
            self.sum("converted", scenario=scenario, group=CONTROL, step=step),
        )

    def amounts(self, field: str, **labels: str) -> dict[str, int]:
        """currency -> minor units of ``revenue`` or ``basket``."""
        out: dict[str, int] = {}
        for row in self.funnel.get(field, []):
            if all(row.get(k, "") == v for k, v in labels.items()):
                out[row["currency"]] = out.get(row["currency"], 0) + int(row["value"])
        return out

    def money(self, field: str, **labels: str) -> str:
        amounts = self.amounts(field, **labels)
        return ", ".join(money(v, c) for c, v in sorted(amounts.items())) or "-"

    def average_basket(self, **labels: str) -> str:
        baskets = self.amounts("basket", **labels)
        orders = self.amounts("conversions", **labels)
        return (
            ", ".join(
                money(round(total / orders[c]), c)
                for c, total in sorted(baskets.items())
                if orders[c]
            )
            or "-"
        )

    def incremental_revenue(self, scenario: str) -> str:
        """Per currency: the treated group's revenue minus what the control group's revenue
        per customer predicts for as many customers."""
        treated, control = self.started(scenario, TREATMENT), self.started(scenario, CONTROL)
        if not control:
            return "no control group"
        mine = self.amounts("revenue", scenario=scenario, group=TREATMENT)
        theirs = self.amounts("revenue", scenario=scenario, group=CONTROL)
        parts = [
            money(round(mine.get(c, 0) - theirs.get(c, 0) / control * treated), c)
            for c in sorted({*mine, *theirs})
        ]
        return ", ".join(parts) or "none"

    def facts(self) -> list[tuple[str, str]]:
        sent = self.sum("sent")
        treated, control = self.sum("started", group=TREATMENT), self.sum("started", group=CONTROL)
        return [
            ("commands sent", f"{sent:,}"),
            ("instances: treated / control", f"{treated:,} / {control:,}"),
            ("open rate", _percent(self.sum("opened"), sent)),
            ("click rate", _percent(self.sum("clicked"), sent)),
            (
                "converted: treated / control",
                f"{self.sum('converted', group=TREATMENT):,} / "
                f"{self.sum('converted', group=CONTROL):,}",
            ),
            ("revenue (treated)", self.money("revenue", group=TREATMENT)),
        ]


def money(minor: int, currency: str) -> str:
    """``minor`` units of ``currency`` as people write it: 1490 EUR is €14.90, 1500 JPY
    is ¥1,500 (the yen has no minor unit; Babel knows each currency's)."""
    try:
        from babel.numbers import format_currency, get_currency_precision
    except ImportError:
        raise ConfigurationError(
            "rebound report needs Babel for amounts: pip install 'rebound[report]'"
        ) from None
    return str(
        format_currency(minor / 10 ** get_currency_precision(currency), currency, locale="en")
    )


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"
