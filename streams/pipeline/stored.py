"""A customer as the ``customers`` table stores it: two JSON lines, a head then the state.

    {"p":3,"t":{"coffee-accessories:o1":[1795000000.0,2]},"o":{"9f2c...":[...]}}
    [1,"c1",{"o1":[...]},{"coffee-accessories:o1":[...]},...]

The head holds the customer's partition, its pending timers (instance id -> [due_at,
version], ``CustomerState.pending_timers``) and its outbox: the send commands its state has
decided but the broker has not yet acknowledged (command id -> the command's fields; absent
when empty). The second line is the state (``CustomerState.to_json``). State, timers and
outbox are one record, written and sent to the changelog together, so they cannot disagree
after a crash: a stored state that says a command was sent holds that command until the
broker has it (``streams.pipeline.commit``). The head is read without parsing the state:
timers are scheduled and outboxes published again from it after a recovery.
"""

from __future__ import annotations

from typing import Any

import orjson

from streams.engine.effects import SendCommand
from streams.engine.scenario import Offer
from streams.engine.state import CustomerState

Pending = dict[str, list[float]]
"""instance id -> [due_at, version]."""
Outbox = dict[str, list[Any]]
"""command id -> the command's fields (``command_to_list``)."""

MAX_STORED_BYTES = 512 * 1024
"""The largest customer record stored: well under the broker's default ``message.max.bytes``
(1 MiB), so that its changelog record is always accepted. The engine bounds what a state
keeps (``streams.engine.state``); an input that would still make a record larger is
dead-lettered rather than stopping the partition."""

_NEWLINE = b"\n"


class Head:
    """The first line of a stored record."""

    __slots__ = ("outbox", "partition", "timers")

    def __init__(self, partition: int, timers: Pending, outbox: Outbox) -> None:
        self.partition = partition
        self.timers = timers
        self.outbox = outbox

    def to_json(self) -> bytes:
        head: dict[str, Any] = {"p": self.partition, "t": self.timers}
        if self.outbox:
            head["o"] = self.outbox
        return orjson.dumps(head)


def pack(
    partition: int, state: CustomerState, outbox: Outbox | None = None
) -> tuple[bytes, Pending]:
    """The stored value of ``state`` with ``outbox``, and its pending timers."""
    pending = state.pending_timers()
    head = Head(partition, pending, outbox or {}).to_json()
    return _NEWLINE.join((head, state.to_json())), pending


def unpack_head(value: bytes) -> Head:
    """The head of a stored value."""
    head = orjson.loads(value[: value.index(_NEWLINE)])
    return Head(head["p"], head["t"], head.get("o") or {})


def with_head(value: bytes, head: Head) -> bytes:
    """``value`` with its head replaced by ``head``; the state's bytes are kept as they are."""
    return head.to_json() + value[value.index(_NEWLINE) :]


def unpack_timers(value: bytes) -> tuple[int, Pending]:
    """The partition and pending timers of a stored value."""
    head = unpack_head(value)
    return head.partition, head.timers


def unpack_state(value: bytes) -> CustomerState:
    """The state of a stored value."""
    return CustomerState.from_json(memoryview(value)[value.index(_NEWLINE) + 1 :])


def command_to_list(command: SendCommand) -> list[Any]:
    """A send command as the outbox keeps it: its fields by position."""
    offer = command.offer
    return [
        command.command_id,
        command.customer_id,
        command.channel,
        command.scenario_id,
        command.scenario_version,
        command.step_id,
        command.template,
        [list(pair) for pair in command.personalisation],
        list(command.recommendations),
        None if offer is None else [offer.code, offer.description, offer.discount_percent],
        command.trigger_kind,
        command.trigger_event_id,
        command.order_id,
        command.created_at,
        command.not_after,
        command.due_at,
        command.deferred_from,
        list(command.deferral_reasons),
        command.variant,
    ]


def command_from_list(fields: list[Any]) -> SendCommand:
    """The send command of an outbox entry (``command_to_list``; one stored before the
    command said when it was due has 15 fields, before it carried its variant 18)."""
    offer = fields[9]
    later = fields[15:18] if len(fields) >= 18 else [0.0, None, []]
    return SendCommand(
        fields[0],
        fields[1],
        fields[2],
        fields[3],
        int(fields[4]),
        fields[5],
        fields[6],
        tuple((str(k), str(v)) for k, v in fields[7]),
        tuple(fields[8]),
        None if offer is None else Offer(offer[0], offer[1], int(offer[2])),
        fields[10],
        fields[11],
        fields[12],
        float(fields[13]),
        float(fields[14]),
        float(later[0]),
        None if later[1] is None else float(later[1]),
        tuple(later[2]),
        fields[18] if len(fields) > 18 else "",
    )
