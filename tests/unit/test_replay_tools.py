"""``rebound replay`` as a CRM team tests a scenario with it: a recording with mistakes is
replayed with every bad line named and skipped, never aborted; ``--customer`` prints one
customer's decisions with the command ids; ``--compare`` shows what a changed folder moves."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from devtools.demo import order_event
from streams.cli import main
from streams.engine.ids import command_id
from tests.unit.test_replay import COFFEE, START, recording, write_jsonl

SHIPPED = Path(__file__).resolve().parents[2] / "scenarios"
MISTAKES = [
    '{"kind": "open", "event_id": "b1", "customer_id": "c9", "command_id": "x", "channel": "fax",'
    ' "occurred_at": "2026-11-19T15:00:00+01:00"}',
    '{"kind": "delivery", "event_id": "b2", "customer_id": "c9", "order_id": "o9",'
    ' "occurred_at": "02/09/2026 10:00"}',
    '{"kind": "delivery", "event_id": "b3", "customer_id": "c9", "order_id": "o9",'
    ' "occurred_at": "2026-11-19T14:00:00"}',
    "not json at all",
    '{"kind": "refund", "customer_id": "c9"}',
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    main(["replay", *args, "--quiet"])
    captured = capsys.readouterr()
    return captured.out, captured.err


def test_a_mistake_on_every_tenth_line_is_named_and_the_rest_replayed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = [json.dumps({"kind": e.kind, **e.record}) for e in recording()]
    more = [  # other customers' bike orders, to have lines enough
        order_event(f"b{i}", "o1", START + i * 1000, [], channel="store") for i in range(40)
    ]
    good += [
        json.dumps({"kind": e.kind, **{**e.record, "lines": [{"sku": "BK-CITY-3", "name": "b",
                    "category": "bike", "quantity": 1, "unit_price": 59900}]}})
        for e in more
    ]  # fmt: skip
    lines, bad_at = [], []
    for line in good:
        if len(lines) % 10 == 9:
            lines.append(MISTAKES[len(bad_at) % len(MISTAKES)])
            bad_at.append(len(lines))
        lines.append(line)
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    out, err = run(capsys, str(path), "--scenarios", str(SHIPPED))
    named = sorted(int(line.split(":")[1]) for line in err.splitlines() if "(skipped)" in line)
    assert named == bad_at
    assert f"replayed {len(good)} events" in out
    assert "channel" in err or "'fax'" in err
    assert "is not an ISO 8601 time" in err
    assert "has no time zone" in err


def test_a_price_with_decimals_is_refused_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    order = order_event("c1", "o1", START, [])
    record = {**order.record, "lines": [{"sku": "K", "name": "k", "category": "kettle",
              "quantity": 1, "unit_price": 9.90}], "total": 990}  # fmt: skip
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps({"kind": "order", **record}) + "\n")
    _, err = run(capsys, str(path), "--scenarios", str(SHIPPED))
    assert f"{path}:1: lines[0].unit_price: 9.9 is not in minor units: write 990" in err


def test_customer_prints_every_decision_for_one_customer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_jsonl(tmp_path / "events.jsonl", recording())
    out, _ = run(capsys, str(path), "--scenarios", str(SHIPPED), "--customer", "c4")
    trace = out.split("decisions for customer c4:\n", 1)[1].splitlines()
    accessories = command_id("c4", COFFEE, 2, f"{COFFEE}:o-c4", "accessories")
    assert trace == [
        "2026-11-19 11:06 UTC  12:06 Europe/Paris  delivery of o-c4",
        f"    started {COFFEE} v2 (treatment)",
        "2026-11-23 09:00 UTC  10:00 Europe/Paris  timer of coffee-machine-after-delivery:o-c4",
        f"    sent {COFFEE}/accessories variant - by email: command {accessories}"
        " (CAPS-INTENSO-50, DESCALER-500, CAPS-BOX)",
        f"2026-11-23 11:06 UTC  12:06 Europe/Paris  open of command {accessories}",
        f"    opened {COFFEE}/accessories variant -",
        "2026-11-28 09:00 UTC  10:00 Europe/Paris  timer of coffee-machine-after-delivery:o-c4",
        f"    skipped {COFFEE}:o-c4/reminder: its condition did not hold",
        f"    ended {COFFEE}:o-c4: completed",
    ]


def test_compare_shows_a_changed_delay_s_moves_and_nothing_else(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "new"
    shutil.copytree(SHIPPED, new)
    coffee = new / "coffee-machine.yaml"
    coffee.write_text(coffee.read_text().replace("wait: 5d", "wait: 6d"))
    path = write_jsonl(tmp_path / "events.jsonl", recording())
    out, _ = run(capsys, str(path), "--scenarios", str(new), "--compare", str(SHIPPED))
    compared = out.split("--compare: ", 1)[1].splitlines()
    assert (
        compared[1]
        == "what the new folder changes: 0 sends added, 0 removed, 1 moved (5 before, 5 after)"
    )
    assert compared[2].split() == [
        COFFEE,
        "reminder",
        "2026-11-28",
        "->",
        "2026-11-29",
        "1",
        "moved",
    ]
    assert compared[3:] == [
        "",
        "deferrals (deferred, by scenario, step, variant, reason):",
        "  no change",
        "",
        "drops (dropped, by scenario, step, variant, reason):",
        "  no change",
    ]
