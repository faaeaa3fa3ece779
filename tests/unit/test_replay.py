"""``rebound replay`` on a recorded file whose outcome is known: the shipped scenarios, five
customers, simulated time. The counts are exact."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import fastavro
import pytest

from devtools.demo import (
    BIKE_LINE,
    COFFEE_MACHINE_LINE,
    DemoEvent,
    delivery_event,
    open_event,
    order_event,
)
from streams.cli import main
from streams.codecs import EVENT_RECORDS, SchemaRepository
from streams.engine.ids import command_id
from streams.tools.simulation import Prediction, read_events, replay
from tests.unit.engine.simulation import T0, shipped_engine

DAY_MS = 86_400_000
START = int(T0 * 1000)
COFFEE = "coffee-machine-after-delivery"
INTENSO = {
    "sku": "CAPS-INTENSO-50",
    "name": "Intenso capsules x50",
    "category": "coffee-capsules",
    "quantity": 1,
    "unit_price": 1490,
}


def recording() -> list[DemoEvent]:
    """c1 gets the accessories and, not opening them, the reminder; c2 the bike's push at the
    till; c4 opens the accessories email, so no reminder; c5 buys the capsules recommended:
    the instance ends on the purchase, a conversion."""
    events = [order_event("c2", "o2", START, [BIKE_LINE], channel="store")]
    for customer in ("c1", "c4", "c5"):
        order_id = f"o-{customer}"
        events.append(order_event(customer, order_id, START, [COFFEE_MACHINE_LINE]))
        events.append(delivery_event(customer, order_id, START + DAY_MS))
    accessories = command_id("c4", COFFEE, 2, f"{COFFEE}:o-c4", "accessories")
    events.append(open_event("c4", accessories, "email", START + 5 * DAY_MS, "open-c4"))
    events.append(order_event("c5", "o-c5-caps", START + 6 * DAY_MS, [INTENSO]))
    return events


def write_jsonl(path: Path, events: list[DemoEvent], bad: tuple[str, ...] = ()) -> Path:
    lines = [json.dumps({"kind": e.kind, **e.record}) for e in events] + list(bad)
    path.write_text("\n".join(lines) + "\n")
    return path


def by_step(prediction: Prediction) -> Counter[tuple[str, str, str]]:
    found: Counter[tuple[str, str, str]] = Counter()
    for (_, channel, scenario, step), count in prediction.sends.items():
        found[(channel, scenario, step)] += count
    return found


def test_a_known_recording_gives_the_expected_counts(tmp_path: Path) -> None:
    bad = ("not json", '{"kind": "refund", "customer_id": "c9"}')
    path = write_jsonl(tmp_path / "events.jsonl", recording(), bad)
    prediction = replay(shipped_engine(), read_events(path))
    assert by_step(prediction) == {
        ("email", COFFEE, "accessories"): 3,
        ("email", COFFEE, "reminder"): 1,
        ("push", "in-store-bike", "at-the-till"): 1,
    }
    counts = prediction.funnel.counts
    assert counts["started"] == {
        (COFFEE, "treatment"): 3,
        ("in-store-bike", "treatment"): 1,
        ("capsules-replenishment", "treatment"): 1,  # c5's capsules: a rebuy in 30 days
    }
    assert counts["ended"] == {
        (COFFEE, "completed"): 2,
        (COFFEE, "purchased"): 1,
        ("in-store-bike", "completed"): 1,
    }
    assert counts["converted"] == {(COFFEE, "treatment", "accessories", ""): 1}
    assert counts["revenue"] == {(COFFEE, "treatment", "accessories", "", "EUR"): 1490}
    assert [number for number, _ in prediction.bad] == [10, 11]
    assert prediction.events == 9
    assert prediction.customers == 4
    assert prediction.waiting == 1, "the rebuy, due the morning after the replay's end"
    days = sorted({day for day, *_ in prediction.sends})
    assert days == ["2026-11-18", "2026-11-23", "2026-11-28"]


def test_the_file_s_order_does_not_matter(tmp_path: Path) -> None:
    events = recording()
    random.Random(3).shuffle(events)  # noqa: S311 (a test's order, not a secret)
    shuffled = replay(shipped_engine(), read_events(write_jsonl(tmp_path / "a.jsonl", events)))
    ordered = replay(shipped_engine(), read_events(write_jsonl(tmp_path / "b.jsonl", recording())))
    assert [c.command_id for c in shuffled.commands] == [c.command_id for c in ordered.commands]


def test_avro_records_as_on_the_topics_give_what_json_gives(tmp_path: Path) -> None:
    orders = [e for e in recording() if e.kind == "order"]
    schema = SchemaRepository().latest(EVENT_RECORDS["order"]).parsed
    avro = tmp_path / "orders.avro"
    with avro.open("wb") as out:
        fastavro.writer(out, schema, [e.record for e in orders])
    from_avro = replay(shipped_engine(), read_events(avro))
    from_json = replay(shipped_engine(), read_events(write_jsonl(tmp_path / "o.jsonl", orders)))
    assert from_avro.events == 5
    assert [c.command_id for c in from_avro.commands] == [c.command_id for c in from_json.commands]
    assert by_step(from_avro) == {("push", "in-store-bike", "at-the-till"): 1}


def test_the_command_prints_the_prediction_and_writes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_jsonl(tmp_path / "events.jsonl", recording(), ("{broken",))
    out = tmp_path / "prediction.json"
    main(["replay", str(path), "--scenarios", "scenarios", "--quiet", "--json", str(out)])
    printed = capsys.readouterr()
    assert "replayed 9 events of 4 customers (1 bad lines skipped)" in printed.out
    assert f"{path}:10: not JSON" in printed.err
    written: dict[str, Any] = json.loads(out.read_text())
    assert sum(row["count"] for row in written["sends"]) == 5
    assert written["funnel"]["revenue"] == [
        {
            "scenario": COFFEE,
            "group": "treatment",
            "step": "accessories",
            "variant": "",
            "currency": "EUR",
            "value": 1490,
        }
    ]


def test_the_replay_runs_the_worker_s_batch_path(tmp_path: Path) -> None:
    """Only the worker's batch path builds commands from the catalog: a product the command
    cannot carry makes its input a dead letter there (stage command), which the replay
    reports as that line, with nothing sent for it, and the other customers' commands
    carry the catalog's products."""
    from streams.pipeline.ports import Product

    bad = Product("HELMET-URBAN", "Helmet", "not a price", "EUR", "u")  # type: ignore[arg-type]
    caps = Product("CAPS-INTENSO-50", "Intenso", 1490, "EUR", "")
    path = write_jsonl(tmp_path / "events.jsonl", recording())
    prediction = replay(
        shipped_engine(), read_events(path), catalog={"HELMET-URBAN": bad, "CAPS-INTENSO-50": caps}
    )
    [(number, problem)] = prediction.bad
    assert number == 1, "c2's bike order, the first line"
    assert "cannot encode command" in problem
    assert ("push", "in-store-bike", "at-the-till") not in by_step(prediction)
    assert by_step(prediction)[("email", COFFEE, "accessories")] == 3
    assert prediction.funnel.counts["sent"][(COFFEE, "accessories", "", "email")] == 3
