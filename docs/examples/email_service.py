"""A channel service in a few lines: read Rebound's e-mail commands, send each once, publish
the opens back. An example for docs/channel-services.md, run by its test
(tests/integration/test_channel_service_example.py); it needs kafka-python and fastavro only,
and the schemas folder (schemas/ of Rebound's repository).

    python docs/examples/email_service.py --bootstrap 127.0.0.1:9092 --schemas schemas
"""

from __future__ import annotations

import argparse
import io
import json
import time
import uuid
from pathlib import Path

import fastavro
from kafka import KafkaConsumer, KafkaProducer


def schemas_by_fingerprint(folder: Path, record: str) -> tuple[dict[str, object], object]:
    """Every version of ``record`` (e.g. commands/SendCommand) by the CRC-64-AVRO fingerprint
    Rebound puts in the header ``rebound.schema.fingerprint``, and the latest version."""
    versions = sorted((folder / record).glob("*.avsc"), key=lambda p: int(p.stem))
    parsed = [fastavro.parse_schema(json.loads(p.read_text())) for p in versions]
    by_fingerprint = {
        fastavro.schema.fingerprint(fastavro.schema.to_parsing_canonical_form(s), "CRC-64-AVRO"): s
        for s in parsed
    }
    return by_fingerprint, parsed[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--schemas", type=Path, default=Path("schemas"))
    parser.add_argument("--prefix", default="", help="Rebound's REBOUND_TOPIC_PREFIX")
    parser.add_argument("--max", type=int, help="stop after this many commands (tests)")
    args = parser.parse_args()

    commands, latest = schemas_by_fingerprint(args.schemas, "commands/SendCommand")
    open_versions, opens = schemas_by_fingerprint(args.schemas, "events/Open")
    open_headers = [  # the writer's schema, so Rebound resolves it whatever its version
        ("rebound.schema", b"rebound.events.v1.Open"),
        (
            "rebound.schema.fingerprint",
            next(k for k, v in open_versions.items() if v is opens).encode(),
        ),
    ]
    consumer = KafkaConsumer(
        f"{args.prefix}rebound.commands.email",
        bootstrap_servers=args.bootstrap,
        group_id="email-service",  # one group: each command to one instance of the service
        auto_offset_reset="earliest",
        enable_auto_commit=False,  # commit after sending: a crash sends again, never loses
    )
    producer = KafkaProducer(bootstrap_servers=args.bootstrap, acks="all")
    sent: set[str] = set()  # use a store that keeps ids for 30 days (Rebound's ledger does)
    handled = 0
    while args.max is None or handled < args.max:
        for records in consumer.poll(timeout_ms=500).values():
            for record in records:
                headers = dict(record.headers)
                writer = commands[headers["rebound.schema.fingerprint"].decode()]
                command = fastavro.schemaless_reader(io.BytesIO(record.value), writer, latest)
                handled += 1
                if command["command_id"] in sent:
                    continue  # a duplicate: Rebound publishes at least once
                if time.time() > command["not_after"].timestamp():
                    print(f"skipped {command['command_id']}: past not_after")
                    continue
                products = ", ".join(r["name"] for r in command["recommendations"])
                print(
                    f"sent {command['template']} to customer {command['customer_id']}: {products}"
                )
                sent.add(command["command_id"])
                # Later, when the customer opens it: an Open event back to Rebound.
                body = io.BytesIO()
                fastavro.schemaless_writer(
                    body,
                    opens,
                    {
                        "event_id": str(uuid.uuid4()),
                        "customer_id": command["customer_id"],
                        "command_id": command["command_id"],
                        "channel": "email",
                        "occurred_at": int(time.time() * 1000),
                    },
                )
                producer.send(
                    f"{args.prefix}opens",
                    key=command["customer_id"].encode(),  # keyed by customer, as every event
                    value=body.getvalue(),
                    headers=open_headers,
                )
        producer.flush()
        consumer.commit()
    consumer.close()
    producer.close()


if __name__ == "__main__":
    main()
