"""The demo of ``make run`` in its compressed form (a day in 5 s) against the local stack:
within two minutes, commands of all five shipped scenarios arrive, reminders and relaunches
among them, and the demo customers' purchases end instances."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from typing import Any

from devtools.localstack.stack import DEMO_TIME_SCALE, feed_demo
from streams.edge.kafka.topics import ensure_topics
from streams.settings import Settings

SHIPPED = {
    "coffee-machine-after-delivery",
    "smartphone-accessories",
    "beauty-third-box",
    "in-store-bike",
    "b2b-onboarding-options",
}
FOLLOW_UPS = {"reminder", "relaunch", "options-reminder"}


def test_the_demo_shows_every_scenario_within_two_minutes(
    settings: Settings, start_worker: Any
) -> None:
    demo = replace(settings, time_scale=DEMO_TIME_SCALE, time_origin=time.time())
    ensure_topics(demo)
    worker = start_worker(demo)
    lines: list[str] = []

    def everything(commands: list[dict[str, Any]]) -> bool:
        scenarios = {c["scenario_id"] for c in commands}
        steps = {c["step_id"] for c in commands}
        shown_all = scenarios >= SHIPPED and bool(FOLLOW_UPS & steps)
        return shown_all or time.monotonic() > deadline

    deadline = time.monotonic() + 120
    commands = feed_demo(
        demo,
        5.0,
        worker,
        until=everything,
        out=lines.append,
        customer_prefix=f"d{uuid.uuid4().hex[:4]}-",
    )
    assert {c["scenario_id"] for c in commands} >= SHIPPED, "\n".join(lines[-20:])
    assert FOLLOW_UPS & {c["step_id"] for c in commands}, "a reminder or a relaunch"
    shown = "\n".join(lines)
    assert "coffee-machine-after-delivery/accessories" in shown
    assert any(line.startswith("-- ") and "events " in line for line in lines), "the counters"
