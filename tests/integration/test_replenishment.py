"""The sixth shipped scenario through a real worker, on a clock running a day every half
second (``REBOUND_TIME_SCALE``): the capsules' rebuy e-mail 30 days after a capsules order,
none for an order the customer renewed meanwhile, the 30 days counted again from the renewal;
and the replay of the same events predicts the same commands."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from devtools.demo import DemoEvent, DemoProducer, order_event
from devtools.localstack.command_reader import CommandReader
from streams.scenarios import load_engine
from streams.scenarios.catalog import file_fits
from streams.settings import Settings
from streams.tools.simulation import read_events, replay
from tests.integration.conftest import CATALOG
from tests.unit.test_replay import write_jsonl

DAY = 86400.0
SCALE = DAY / 0.5
"""A simulated day every half second of real time."""
CAPSULES = {
    "sku": "CAPS-INTENSO-50",
    "name": "Intenso capsules x50",
    "category": "coffee-capsules",
    "quantity": 2,
    "unit_price": 1490,
}
SCENARIO = "capsules-replenishment"


def test_the_rebuy_goes_out_thirty_days_on_and_not_after_a_renewal(
    settings: Settings, start_worker: Any, catalog: None, tmp_path: Path
) -> None:
    settings = replace(settings, time_scale=SCALE, time_origin=time.time())
    clock = settings.clock()
    start_worker(settings)
    reader = CommandReader(settings)
    producer = DemoProducer(settings)
    run = uuid.uuid4().hex[:6]
    once, renewed = f"caps-once-{run}", f"caps-renewed-{run}"
    start = clock()
    sent: list[DemoEvent] = [
        order_event(customer, "o1", int(start * 1000), [CAPSULES]) for customer in (once, renewed)
    ]
    for event in sent:
        producer.send(event)
    producer.flush()
    while clock() < start + 20 * DAY:
        time.sleep(0.05)
    renewal = order_event(renewed, "o2", int(clock() * 1000), [CAPSULES])
    producer.send(renewal)
    producer.flush()
    sent.append(renewal)

    def rebuys(commands: list[dict[str, Any]]) -> list[tuple[str, str]]:
        return [
            (c["customer_id"], c["trigger"]["order_id"])
            for c in commands
            if c["scenario_id"] == SCENARIO and c["step_id"] == "rebuy"
        ]

    reader.wait_for(lambda c: len(rebuys(c)) == 2, 90, "the two rebuy e-mails")
    assert sorted(rebuys(reader.commands)) == [(once, "o1"), (renewed, "o2")]
    [first, second] = sorted(
        (c for c in reader.commands if c["step_id"] == "rebuy"), key=lambda c: c["created_at"]
    )
    assert first["customer_id"] == once
    assert [r["sku"] for r in first["recommendations"]] == ["CAPS-INTENSO-50"]
    gap = (second["created_at"] - first["created_at"]).total_seconds()
    assert gap >= 19 * DAY, "30 days from the renewal, not from o1"

    engine = load_engine(Path(settings.scenarios_dir))
    engine.fits = file_fits(CATALOG)
    events = read_events(write_jsonl(tmp_path / "events.jsonl", sent))
    prediction = replay(engine, events, days_after=35)
    predicted = {c.command_id for c in prediction.commands if c.step_id == "rebuy"}
    assert predicted == {c["command_id"] for c in reader.commands if c["step_id"] == "rebuy"}
