from datetime import UTC, datetime

import pytest

from streams.engine import Delivery, InvalidEvent, Order, event_from_record

WHEN = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def order(**changes: object) -> dict:
    record = {
        "event_id": "e1",
        "customer_id": "c1",
        "order_id": "o1",
        "occurred_at": WHEN,
        "channel": "web",
        "store_id": None,
        "total": 34900,
        "currency": "EUR",
        "lines": [
            {
                "sku": "CM-1000",
                "name": "Barista One",
                "category": "coffee-machine",
                "quantity": 1,
                "unit_price": 34900,
            }
        ],
        "subscription": {"plan": "monthly", "period_index": 3},
    }
    return {**record, **changes}


def test_order_becomes_a_typed_event_with_epoch_seconds() -> None:
    event = event_from_record("order", order())
    assert isinstance(event, Order)
    assert event.occurred_at == WHEN.timestamp()
    assert event.lines[0].name == "Barista One"
    assert event.subscription_period == 3


def test_delivery_becomes_a_typed_event() -> None:
    event = event_from_record(
        "delivery",
        {"event_id": "e2", "customer_id": "c1", "order_id": "o1", "occurred_at": WHEN},
    )
    assert event == Delivery("e2", "c1", "o1", WHEN.timestamp())


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (order(customer_id=""), "customer_id"),
        (order(event_id=""), "event_id"),
        (order(lines=[]), "lines"),
    ],
)
def test_contract_violations_are_invalid_events(record: dict, message: str) -> None:
    with pytest.raises(InvalidEvent, match=message):
        event_from_record("order", record)


def test_unknown_kind_is_invalid() -> None:
    with pytest.raises(InvalidEvent, match="unknown event kind"):
        event_from_record("refund", order())
