"""The private Faust and aiokafka attributes Rebound relies on are all there, in the pinned
versions; and the check names what a version bump would take away."""

from __future__ import annotations

import pytest

from streams.edge.faust import private
from streams.exceptions import ReboundError


def test_every_private_attribute_relied_on_exists() -> None:
    assert private.missing() == []
    private.check()


def test_a_missing_attribute_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    gone = private.Private(private.FaustConsumer, "_no_such_thing", "nowhere")
    monkeypatch.setattr(private, "RELIED_ON", (*private.RELIED_ON, gone))
    with pytest.raises(ReboundError, match=r"Consumer\._no_such_thing"):
        private.check()
