"""The fault suite's own parts, without services: every malformed kind is refused by the
intake's decoding and validation, and the oracle predicts the workload's commands exactly
(one reminder per coffee buyer who did not open the first email)."""

from __future__ import annotations

import random
import time
from pathlib import Path

from faults.malformed import Builder, Malformed, rejected
from faults.oracle import expected_commands
from faults.workload import SCENARIOS, generate
from streams.codecs import AvroCodec

CATALOG = Path(__file__).resolve().parents[2] / "scenarios" / "catalog.yaml"


def test_every_malformed_kind_is_refused_by_the_intake() -> None:
    start = time.time()
    work = generate(500, 10, start)
    kinds = {record.kind for _, record in work.malformed}
    codec = AvroCodec(logical_types=False)
    assert len(kinds) >= 20
    assert all(rejected(codec, record, start + 30, 300.0) for _, record in work.malformed)
    assert len({record.key for _, record in work.malformed}) == len(work.malformed)


def test_a_valid_record_is_not_counted_as_malformed() -> None:
    codec = AvroCodec(logical_types=False)
    builder = Builder(codec, random.Random(1))  # noqa: S311 (test data)
    record = {"event_id": "e1", "customer_id": "c1", "order_id": "o1", "occurred_at": 1_000}
    value, headers = builder.encode("delivery", record)
    valid = Malformed("valid", "delivery", b"c1", value, headers)
    assert not rejected(codec, valid, 10.0, 300.0)


def test_the_oracle_skips_the_reminders_of_those_who_opened(tmp_path: Path) -> None:
    for name, text in SCENARIOS.items():
        (tmp_path / name).write_text(text)
    work = generate(400, 10, time.time())
    expected = expected_commands(work, tmp_path, CATALOG, tmp_path / "events.jsonl")
    steps = [(c.scenario_id, c.step_id) for c in expected.values()]
    coffee_buyers = sum(1 for p in work.events if p.event.kind == "delivery")
    openers = sum(1 for p in work.events if p.event.kind == "open")
    assert steps.count(("f-coffee", "accessories")) == coffee_buyers
    assert steps.count(("f-coffee", "reminder")) == coffee_buyers - openers
    assert steps.count(("f-phone", "relaunch")) == steps.count(("f-phone", "accessories"))
