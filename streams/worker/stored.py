"""A customer as the ``customers`` table stores it: two JSON lines, timers then state.

    {"p":3,"t":{"coffee-accessories:o1":[1795000000.0,2]}}
    [1,"c1",{"o1":[...]},{"coffee-accessories:o1":[...]},...]

The first line is the index of the customer's pending timers (instance id -> [due_at,
version]) with the customer's partition: what the timer schedules are rebuilt from after
recovery, read without parsing the state. The second is the state
(``CustomerState.to_json``). A customer's timers and state are one record, written and sent
to the changelog together, so they cannot disagree after a crash (principle 3: the timers'
truth is this changelog-backed table).
"""

from __future__ import annotations

import orjson

from streams.engine.state import CustomerState

Pending = dict[str, list[float]]
"""instance id -> [due_at, version]."""

_NEWLINE = b"\n"


def pending_timers(state: CustomerState) -> Pending:
    """The timers a customer's state needs: one per running instance that waits."""
    return {
        instance.id: [instance.due_at, instance.timer_version]
        for instance in state.instances.values()
        if instance.ended_at is None and instance.due_at is not None
    }


def pack(partition: int, state: CustomerState) -> tuple[bytes, Pending]:
    """The stored value of ``state`` and its pending timers."""
    pending = pending_timers(state)
    head = orjson.dumps({"p": partition, "t": pending})
    return _NEWLINE.join((head, state.to_json())), pending


def unpack_timers(value: bytes) -> tuple[int, Pending]:
    """The partition and pending timers of a stored value."""
    head = orjson.loads(value[: value.index(_NEWLINE)])
    return head["p"], head["t"]


def unpack_state(value: bytes) -> CustomerState:
    """The state of a stored value."""
    return CustomerState.from_json(memoryview(value)[value.index(_NEWLINE) + 1 :])
