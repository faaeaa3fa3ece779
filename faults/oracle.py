"""The commands that must come out of a workload: the pure engine run over its valid events
on simulated time (``rebound replay``'s code: the worker's own decisions, from a recording
of the events as JSON Lines), with the catalog's compatibility rules the worker reads from
Redis."""

from __future__ import annotations

import json
from pathlib import Path

from faults.workload import Workload
from streams.engine.effects import SendCommand
from streams.scenarios import load_engine
from streams.scenarios.catalog import file_fits
from streams.tools.simulation import read_events, replay


def expected_commands(
    work: Workload, scenarios: Path, catalog: Path, recording: Path
) -> dict[str, SendCommand]:
    """command id -> the command, for every command the workload's events imply; the events
    are written to ``recording`` first (JSON Lines, as ``rebound replay`` reads)."""
    with recording.open("w") as out:
        for planned in work.events:
            out.write(json.dumps({"kind": planned.event.kind, **planned.event.record}) + "\n")
    engine = load_engine(scenarios)
    engine.fits = file_fits(catalog)
    prediction = replay(engine, read_events(recording), days_after=600 / 86400)
    if prediction.bad:
        raise AssertionError(f"the workload has invalid events: {prediction.bad[:3]}")
    return {c.command_id: c for c in prediction.commands}
