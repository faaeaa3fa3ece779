import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devtools.demo import consent_event, demo_events
from streams.codecs import (
    EVENT_RECORDS,
    FINGERPRINT_HEADER,
    SCHEMA_HEADER,
    SEND_COMMAND,
    AvroCodec,
    DecodeError,
    SchemaRegistryError,
    SchemaRepository,
)
from streams.edge.registry import SchemaRegistryClient
from streams.engine import event_from_record
from tests.unit.codecs.mock_registry import mock_registry

CODEC = AvroCodec()
WHEN = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def open_record() -> dict:
    return {
        "event_id": "e1",
        "customer_id": "c1",
        "command_id": "cmd-1",
        "channel": "email",
        "occurred_at": WHEN,
    }


def click_record() -> dict:
    return {**open_record(), "url": "https://shop.example/p/CAPS", "sku": "CAPS"}


def sample_records() -> dict[str, dict]:
    events = demo_events(customers=3, seed=1, start_ms=int(WHEN.timestamp() * 1000))
    records = {e.kind: e.record for e, _ in zip(events, range(2), strict=False)}
    unsubscribe = consent_event("c1", None, False, WHEN, "e2", "cmd-1").record
    return {**records, "open": open_record(), "click": click_record(), "consent": unsubscribe}


def send_command() -> dict:
    return {
        "command_id": "cmd-1",
        "customer_id": "c1",
        "channel": "email",
        "scenario_id": "coffee",
        "scenario_version": 1,
        "step_id": "first",
        "template": "coffee-accessories",
        "personalisation": {"product_name": "Barista One"},
        "recommendations": [
            {
                "sku": "CAPS",
                "name": "Capsules",
                "price": 1290,
                "currency": "EUR",
                "url": "https://shop.example/p/CAPS",
            }
        ],
        "offer": None,
        "trigger": {"kind": "delivery", "event_id": "e9", "order_id": "o1"},
        "created_at": WHEN,
        "not_after": WHEN,
        "due_at": WHEN,
        "deferred_from": None,
        "deferral_reasons": ["quiet_hours"],
        "variant": "B",
    }


@pytest.mark.parametrize("kind", list(EVENT_RECORDS))
def test_each_event_kind_round_trips(kind: str) -> None:
    record = sample_records()[kind]
    payload, headers = CODEC.encode(EVENT_RECORDS[kind], record, kind)
    decoded = CODEC.decode(EVENT_RECORDS[kind], payload, headers)
    assert decoded["customer_id"] == record["customer_id"]
    assert decoded["event_id"] == record["event_id"]
    assert isinstance(decoded["occurred_at"], datetime)


@pytest.mark.parametrize("kind", list(EVENT_RECORDS))
def test_without_logical_types_timestamps_stay_epoch_milliseconds(kind: str) -> None:
    record = sample_records()[kind]
    payload, headers = CODEC.encode(EVENT_RECORDS[kind], record, kind)
    plain = AvroCodec(logical_types=False).decode(EVENT_RECORDS[kind], payload, headers)
    decoded = CODEC.decode(EVENT_RECORDS[kind], payload, headers)
    assert plain["occurred_at"] == int(decoded["occurred_at"].timestamp() * 1000)
    assert {k: v for k, v in plain.items() if k != "occurred_at"} == {
        k: v for k, v in decoded.items() if k != "occurred_at"
    }
    assert event_from_record(kind, plain) == event_from_record(kind, decoded)


def test_send_command_round_trips() -> None:
    payload, headers = CODEC.encode(SEND_COMMAND, send_command(), "rebound.commands.email")
    assert CODEC.decode(SEND_COMMAND, payload, headers) == send_command()


def test_plain_format_names_the_schema_in_headers() -> None:
    _, headers = CODEC.encode(EVENT_RECORDS["open"], open_record(), "opens")
    names = dict(headers)
    assert names[SCHEMA_HEADER] == b"rebound.events.v1.Open"
    assert (
        names[FINGERPRINT_HEADER]
        == CODEC.repository.latest("rebound.events.v1.Open").fingerprint.encode()
    )


def test_record_without_headers_is_read_with_the_latest_schema() -> None:
    payload, _ = CODEC.encode(EVENT_RECORDS["open"], open_record(), "opens")
    assert CODEC.decode(EVENT_RECORDS["open"], payload, [])["command_id"] == "cmd-1"


@pytest.mark.parametrize("payload", [b"", b"\x00", b"not avro at all, just text", b"\xff" * 40])
def test_garbage_is_a_decode_error(payload: bytes) -> None:
    with pytest.raises(DecodeError):
        CODEC.decode(EVENT_RECORDS["order"], payload, [])


def test_trailing_bytes_are_a_decode_error() -> None:
    payload, headers = CODEC.encode(EVENT_RECORDS["open"], open_record(), "opens")
    with pytest.raises(DecodeError, match="left over"):
        CODEC.decode(EVENT_RECORDS["open"], payload + b"xx", headers)


def test_a_record_of_another_kind_is_a_decode_error() -> None:
    payload, headers = CODEC.encode(EVENT_RECORDS["open"], open_record(), "opens")
    with pytest.raises(DecodeError, match=r"this topic carries rebound\.events\.v1\.Click"):
        CODEC.decode(EVENT_RECORDS["click"], payload, headers)


def test_unknown_fingerprint_is_a_decode_error() -> None:
    payload, _ = CODEC.encode(EVENT_RECORDS["open"], open_record(), "opens")
    with pytest.raises(DecodeError, match="unknown writer schema"):
        CODEC.decode(EVENT_RECORDS["open"], payload, [(FINGERPRINT_HEADER, b"0123")])


def test_records_of_an_earlier_version_are_resolved_to_the_latest(tmp_path: Path) -> None:
    """A v2 of Click with a new optional field still reads v1 records, filling the default."""
    repository = SchemaRepository()
    for name in repository.names():
        for version in repository.versions(name):
            target = tmp_path / version.path.relative_to(version.path.parents[2])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(version.definition))
    v1 = repository.latest("rebound.events.v1.Click")
    v2 = dict(v1.definition)
    v2["fields"] = [
        *v1.definition["fields"],
        {"name": "campaign", "type": ["null", "string"], "default": None},
    ]
    (tmp_path / "events" / "Click" / "2.avsc").write_text(json.dumps(v2))
    old_writer = CODEC
    new_reader = AvroCodec(SchemaRepository(tmp_path))
    payload, headers = old_writer.encode(EVENT_RECORDS["click"], click_record(), "clicks")
    decoded = new_reader.decode(EVENT_RECORDS["click"], payload, headers)
    assert decoded["campaign"] is None
    assert decoded["sku"] == "CAPS"


def test_confluent_format_registers_under_topic_value_and_reads_back() -> None:
    with mock_registry() as (url, registry):
        codec = AvroCodec(registry=SchemaRegistryClient(url))
        payload, _ = codec.encode(EVENT_RECORDS["open"], open_record(), "opens")
        assert payload[0] == 0
        assert int.from_bytes(payload[1:5], "big") == registry.subjects["opens-value"][0]
        reader = AvroCodec(registry=SchemaRegistryClient(url))
        assert reader.decode(EVENT_RECORDS["open"], payload, [])["command_id"] == "cmd-1"
        requests = registry.requests
        reader.decode(EVENT_RECORDS["open"], payload, [])
        assert registry.requests == requests, "schema ids are cached after the first lookup"


def test_confluent_format_rejects_records_without_magic_byte() -> None:
    with mock_registry() as (url, _):
        codec = AvroCodec(registry=SchemaRegistryClient(url))
        plain, headers = CODEC.encode(EVENT_RECORDS["open"], open_record(), "opens")
        with pytest.raises(DecodeError, match="magic byte"):
            codec.decode(EVENT_RECORDS["open"], b"\x07" + plain, headers)


def test_unknown_schema_id_is_a_registry_error() -> None:
    with mock_registry() as (url, _):
        codec = AvroCodec(registry=SchemaRegistryClient(url))
        with pytest.raises(SchemaRegistryError, match="404"):
            codec.decode(EVENT_RECORDS["open"], b"\x00\x00\x00\x00\x63" + b"\x02", [])


def test_unreachable_registry_names_the_setting() -> None:
    codec = AvroCodec(registry=SchemaRegistryClient("http://127.0.0.1:9", timeout_s=1))
    with pytest.raises(SchemaRegistryError, match="REBOUND_SCHEMA_REGISTRY_URL"):
        codec.encode(EVENT_RECORDS["open"], open_record(), "opens")
