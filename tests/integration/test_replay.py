"""``rebound replay`` agrees with the worker: the same events, through the real broker to a
worker and from a file to the replay, give the same commands (ids, channels, steps)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from devtools.demo import (
    COFFEE_MACHINE_LINE,
    DemoEvent,
    DemoProducer,
    delivery_event,
    open_event,
    order_event,
)
from devtools.localstack.command_reader import CommandReader
from streams.scenarios import load_engine
from streams.scenarios.catalog import file_fits
from streams.settings import Settings
from streams.tools.simulation import read_events, replay
from tests.integration.cli import rebound
from tests.integration.conftest import CATALOG

KETTLE = {"sku": "K-1", "name": "a kettle", "category": "kettle", "quantity": 1, "unit_price": 1}


def test_the_replay_predicts_what_the_worker_sends(
    fast_settings: Settings, start_worker: Any, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    quiet, opener, other = f"quiet-{run}", f"opener-{run}", f"other-{run}"
    customers = {quiet, opener, other}
    reader = CommandReader(fast_settings)
    producer = DemoProducer(fast_settings)
    start_worker(fast_settings)
    sent: list[DemoEvent] = []

    def send(event: DemoEvent) -> None:
        producer.send(event)
        producer.flush()
        sent.append(event)

    now_ms = int(time.time() * 1000)
    for customer in (quiet, opener):
        send(order_event(customer, "o1", now_ms, [COFFEE_MACHINE_LINE]))
        send(delivery_event(customer, "o1", now_ms + 1))
    send(order_event(other, "o1", now_ms, [KETTLE]))  # triggers nothing

    def mine(commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [c for c in commands if c["customer_id"] in customers]

    first = reader.wait_for(
        lambda c: any(x["customer_id"] == opener for x in c), 60, "the opener's email"
    )
    [accessories] = [c for c in first if c["customer_id"] == opener]
    send(
        open_event(
            opener, accessories["command_id"], "email", int(time.time() * 1000), f"open-{run}"
        )
    )
    reader.wait_for(
        lambda c: any(x["customer_id"] == quiet and x["step_id"] == "reminder" for x in c),
        60,
        "the reminder of the customer who did not open",
    )
    time.sleep(6)  # past the opener's reminder, which must not come
    reader.poll()
    published = {
        (c["command_id"], c["customer_id"], c["channel"], c["step_id"])
        for c in mine(reader.commands)
    }

    recording = tmp_path / "recording.jsonl"
    recording.write_text("".join(json.dumps({"kind": e.kind, **e.record}) + "\n" for e in sent))
    engine = load_engine(Path(fast_settings.scenarios_dir))
    engine.fits = file_fits(CATALOG)
    prediction = replay(engine, read_events(recording))
    predicted = {(c.command_id, c.customer_id, c.channel, c.step_id) for c in prediction.commands}
    assert predicted == published
    assert sorted(step for *_, step in predicted) == ["accessories", "accessories", "reminder"]

    # The command line tells the same, without Kafka or Redis.
    printed = rebound(fast_settings, "replay", str(recording), "--catalog", str(CATALOG), "--quiet")
    assert printed.returncode == 0, printed.stderr
    assert "replayed 6 events of 3 customers (0 bad lines skipped)" in printed.stdout
    assert "coffee-fast" in printed.stdout
