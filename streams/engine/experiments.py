"""Who is held out and who gets which variant: deterministic draws, no state, no clock.

A draw is a hash of a salt, the scenario (and step) and the customer id, read as a bucket of
``BUCKETS``; a group or a variant owns a range of buckets (GrowthBook's and Optimizely's
bucketing). So the worker, the replay and a worker after any restart or rebalance draw the
same; raising a holdout from 10% to 15% adds customers to the control group without moving
any out; a new ``salt`` draws new groups (a new experiment).

Principle 8 (docs/architecture.md): every send is measured against not sending.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

BUCKETS = 10_000
"""A share is a whole number of buckets: 0.01% steps."""
TREATMENT = "treatment"
CONTROL = "control"
GROUPS = (TREATMENT, CONTROL)


@dataclass(frozen=True, slots=True)
class ControlGroup:
    """A share of all customers held out of every scenario (``policies.yaml``,
    ``control_group``): the baseline of the whole programme."""

    share: int
    """Buckets of ``BUCKETS`` held out: 500 is 5%."""
    salt: str = "rebound"


def bucket(salt: str, *parts: str) -> int:
    """A number in [0, BUCKETS), uniform over customers, the same for the same arguments."""
    text = "\x1f".join((salt, *parts)).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "big") % BUCKETS


def in_control_group(customer_id: str, control: ControlGroup | None) -> bool:
    """Whether ``customer_id`` is in the programme's control group."""
    return (
        control is not None
        and control.share > 0
        and bucket(control.salt, customer_id) < (control.share)
    )


def held_out(
    customer_id: str, scenario_id: str, salt: str, holdout: int, control: ControlGroup | None
) -> bool:
    """Whether an instance of ``scenario_id`` for ``customer_id`` goes silently: the
    customer is in the programme's control group, or in the scenario's holdout (``holdout``
    buckets, drawn with the scenario's ``salt``)."""
    if in_control_group(customer_id, control):
        return True
    return holdout > 0 and bucket(salt, scenario_id, "holdout", customer_id) < holdout


def pick_variant(weights: tuple[int, ...], salt: str, *parts: str) -> int:
    """The index of the variant drawn: each owns a range of buckets proportional to its
    weight, in order."""
    total = sum(weights)
    point = bucket(salt, *parts) * total // BUCKETS
    for index, weight in enumerate(weights):
        if point < weight:
            return index
        point -= weight
    return len(weights) - 1
