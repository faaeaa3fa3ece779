"""Which inputs may change a state the worker has not decoded: it skips the others."""

from __future__ import annotations

from streams.engine.events import Click, Delivery, Open
from tests.unit.engine.simulation import BIKE, Simulation


def test_only_engagements_with_commands_the_state_holds_may_change_it() -> None:
    sim = Simulation()
    sim.order("o1", BIKE, channel="store")
    [send] = sim.sends
    assert sim.state is not None
    stored = sim.state.to_json().decode()
    mentions = stored.__contains__
    engine = sim.engine
    open_ = Open("e1", "c1", send.command_id, "email", sim.now)
    stranger = Click("e2", "c1", "another-system-id", "email", sim.now, None, None)
    assert engine.may_change(open_, mentions)
    assert not engine.may_change(stranger, mentions)
    assert engine.may_change(Delivery("e3", "c1", "o1", sim.now), mentions)
