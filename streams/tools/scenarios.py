"""``rebound scenarios list|retire``: the scenario versions kept for customers in flight."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from streams.exceptions import ConfigurationError
from streams.settings import Settings
from streams.tools import KAFKA

NAME = "scenarios"
SUMMARY = "the scenario versions kept for customers in flight (the log)"
ENV = (*KAFKA, "REBOUND_APP_ID", "REBOUND_SCENARIOS_DIR")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="every version on the log, and which are active")
    listing.set_defaults(run=run_list)
    retire = actions.add_parser(
        "retire",
        help="remove a scenario whose file is gone: its instances in flight end "
        "(scenario_removed) from the workers' next start",
    )
    retire.add_argument("scenario_id")
    retire.set_defaults(run=run_retire)


def run_list(args: argparse.Namespace) -> None:
    from streams.edge.kafka.scenario_log import ScenarioLog
    from streams.scenarios import load_scenarios

    settings = Settings.from_env()
    in_folder = {(s.id, s.version) for s in load_scenarios(Path(settings.scenarios_dir))}
    scenario_log = ScenarioLog(settings)
    on_log = scenario_log.read()
    print(f"{scenario_log.topic}: {len(on_log)} versions")
    for (scenario_id, version), published in sorted(on_log.items()):
        state = "active" if (scenario_id, version) in in_folder else "in flight only"
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(published.published_at))
        print(f"{scenario_id:<28} v{version:<4} {state:<15} {published.file} ({when} UTC)")
    for scenario_id, version in sorted(in_folder - set(on_log)):
        print(f"{scenario_id:<28} v{version:<4} {'not published':<15} (at the next worker start)")


def run_retire(args: argparse.Namespace) -> None:
    from streams.edge.kafka.scenario_log import ScenarioLog
    from streams.scenarios import load_scenarios

    settings = Settings.from_env()
    files = [s for s in load_scenarios(Path(settings.scenarios_dir)) if s.id == args.scenario_id]
    if files:
        raise ConfigurationError(
            f"{args.scenario_id} is still in {files[0].source}: delete its file first "
            "(a worker would publish it again at its start)"
        )
    versions = ScenarioLog(settings).retire(args.scenario_id)
    if not versions:
        raise ConfigurationError(f"no version of {args.scenario_id} on the scenarios log")
    print(
        f"retired {args.scenario_id} v{', v'.join(map(str, versions))}: its instances in flight "
        "end (scenario_removed) from the workers' next start"
    )
