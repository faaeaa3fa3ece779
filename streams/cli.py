"""The ``rebound`` command: worker, topics, catalog, profiles, validate, scenarios, tail,
settings. (The local stack for development is ``python -m devtools``, outside the
installed package.)"""

from __future__ import annotations

import argparse
import contextlib
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from streams.exceptions import ReboundError
from streams.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except ReboundError as exc:
        print(f"rebound: error: {exc}", file=sys.stderr)
        sys.exit(2)


KAFKA = ("REBOUND_BROKER_URL", "REBOUND_SECURITY_PROTOCOL", "REBOUND_SASL_*", "REBOUND_SSL_*")
REDIS = ("REBOUND_REDIS_URL",)
TOPICS = ("REBOUND_TOPIC_PREFIX", "REBOUND_TOPIC_*", "REBOUND_APP_ID")


class _Help(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an argument's default, unless it says nothing (a flag's, or none)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rebound")
    except PackageNotFoundError:  # run from a source tree that was not installed
        return "unknown (not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rebound",
        description="Rebound: cross-sell triggers on a Kafka stream. Start with `rebound "
        "validate`, then `rebound worker`; `rebound COMMAND --help` tells more.",
        epilog="Settings come from REBOUND_* environment variables: `rebound settings` lists "
        "them with their values and defaults.",
    )
    parser.add_argument("--version", action="version", version=f"rebound {_version()}")
    subparsers = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, summary: str, env: tuple[str, ...]) -> argparse.ArgumentParser:
        """A sub-command whose help shows its arguments' defaults and the variables it reads."""
        return subparsers.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            formatter_class=_Help,
            epilog=f"Environment: {', '.join(env)} (`rebound settings` shows their values)."
            if env
            else None,
        )

    worker = command(
        "worker",
        "run the stream worker (Faust)",
        (*KAFKA, *REDIS, *TOPICS, "REBOUND_SCENARIOS_DIR", "REBOUND_DATA_DIR",
         "REBOUND_PARTITIONS", "REBOUND_CREATE_TOPICS", "REBOUND_WEB_PORT",
         "REBOUND_LOG_LEVEL", "REBOUND_LOG_FORMAT", "and every other REBOUND_*"),
    )  # fmt: skip
    worker.add_argument(
        "--no-create-topics",
        dest="create_topics",
        action="store_false",
        help="do not create missing topics: refuse to start if any is missing "
        "(REBOUND_CREATE_TOPICS=false)",
    )
    worker.set_defaults(run=_worker)

    topics = command(
        "topics",
        "create the topics Rebound needs (idempotent)",
        (*KAFKA, *TOPICS, "REBOUND_PARTITIONS", "REBOUND_REPLICATION_FACTOR"),
    )
    topics.set_defaults(run=_topics)

    catalog = command("catalog", "load a product catalog file into Redis", REDIS)
    catalog.add_argument(
        "file", type=Path, nargs="?", default=Path("scenarios/catalog.yaml"), help="YAML"
    )
    catalog.set_defaults(run=_catalog)

    profiles = command(
        "profiles",
        "load customer profiles (CSV or JSON Lines) into Redis; bad lines are reported",
        REDIS,
    )
    profiles.add_argument("file", type=Path, help=".csv, or JSON Lines (.jsonl, .ndjson)")
    profiles.add_argument("--quiet", action="store_true", help="no progress bar")
    profiles.set_defaults(run=_profiles)

    validate = command(
        "validate",
        "check the scenario files, the policies and the catalog, then exit",
        ("REBOUND_SCENARIOS_DIR",),
    )
    validate.add_argument(
        "folder", type=Path, nargs="?", help="the scenarios' folder (REBOUND_SCENARIOS_DIR)"
    )
    validate.set_defaults(run=_validate)

    tail = command(
        "tail",
        "print a topic's records decoded, one per line, following new ones",
        (*KAFKA, *TOPICS, "REBOUND_SCHEMA_REGISTRY_URL"),
    )
    tail.add_argument("topic", help="an event, command or dead-letter topic (full name)")
    tail.add_argument("--from-beginning", action="store_true", help="from the first record")
    tail.add_argument("--count", type=int, help="stop after this many records")
    tail.add_argument(
        "--no-follow", dest="follow", action="store_false", help="stop at the topic's end"
    )
    tail.set_defaults(run=_tail)

    replay = command(
        "replay",
        "run a scenario folder over recorded events on simulated time, without Kafka or "
        "Redis, and print what it would send",
        ("REBOUND_SCENARIOS_DIR",),
    )
    replay.add_argument(
        "events",
        type=Path,
        help="JSON Lines (a kind and an event's fields "
        "per line) or an Avro container file (.avro) of one event topic's records",
    )
    replay.add_argument(
        "--scenarios", type=Path, help="the scenarios' folder (REBOUND_SCENARIOS_DIR)"
    )
    replay.add_argument(
        "--profiles",
        type=Path,
        help="customer profiles, CSV or JSON Lines "
        "as `rebound profiles` reads (none: every customer has the defaults)",
    )
    replay.add_argument(
        "--catalog",
        type=Path,
        help="the catalog, for its compatibility rules "
        "(default: the scenarios' folder's catalog.yaml, if any)",
    )
    replay.add_argument(
        "--days-after",
        type=float,
        default=30.0,
        help="days of simulated time run after the last event, for the timers",
    )
    replay.add_argument(
        "--json", type=Path, help="also write the prediction there, for `rebound report`"
    )
    replay.add_argument(
        "--customer",
        metavar="ID",
        help="also print every decision for this customer, in time order (command ids included)",
    )
    replay.add_argument(
        "--compare",
        metavar="OLD_FOLDER",
        type=Path,
        help="run the same events through this scenario folder too, and print what the"
        " --scenarios folder adds, removes and moves",
    )
    replay.add_argument("--quiet", action="store_true", help="no progress bar")
    replay.set_defaults(run=_replay)

    report = command(
        "report",
        "the uplift, rates, revenue and funnels: from a replay, Prometheus or a worker",
        (),
    )
    source = report.add_mutually_exclusive_group(required=True)
    source.add_argument("prediction", type=Path, nargs="?", help="a `rebound replay --json` file")
    source.add_argument(
        "--prometheus",
        metavar="URL",
        help="a Prometheus server scraping the workers, e.g. http://prometheus:9090: every"
        " pod's counts over --window, restarts included",
    )
    source.add_argument(
        "--metrics", help="one worker's metrics URL, e.g. http://127.0.0.1:6066/metrics"
    )
    report.add_argument("--window", default="30d", help="with --prometheus: how far back")
    report.add_argument(
        "--step",
        default="1m",
        help="with --prometheus: the resolution counters are read at; at most the scrape"
        " interval counts exactly across restarts",
    )
    report.add_argument(
        "--selector",
        default="",
        help="with --prometheus: label matchers of the workers' series, e.g."
        ' \'namespace="shop",job="rebound-metrics"\'',
    )
    report.add_argument(
        "--output",
        "-o",
        type=Path,
        default=Path("rebound-report.html"),
        help="where the page is written",
    )
    report.add_argument("--title", default="Rebound report", help="the page's title")
    report.set_defaults(run=_report)

    scenarios = command(
        "scenarios",
        "the scenario versions kept for customers in flight (the log)",
        (*KAFKA, "REBOUND_APP_ID", "REBOUND_SCENARIOS_DIR"),
    )
    actions = scenarios.add_subparsers(required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="every version on the log, and which are active")
    listing.set_defaults(run=_scenarios_list)
    retire = actions.add_parser(
        "retire",
        help="remove a scenario whose file is gone: its instances in flight end "
        "(scenario_removed) from the workers' next start",
    )
    retire.add_argument("scenario_id")
    retire.set_defaults(run=_scenarios_retire)

    settings = command("settings", "print every setting and its value (secrets masked)", ())
    settings.add_argument("--markdown", action="store_true", help="as the README's table")
    settings.set_defaults(run=_settings)

    return parser


def _worker(args: argparse.Namespace) -> None:
    import redis

    from streams import scenario_log
    from streams.app import create_app
    from streams.edge.faust import private
    from streams.edge.faust.runtime import faust_worker, tune_gc
    from streams.edge.redis.catalog import fits_now
    from streams.preflight import check_kafka, check_redis
    from streams.scenarios import load_engine
    from streams.topics import check_topics, ensure_topics

    private.check()  # a Faust or aiokafka without what Rebound relies on stops the start
    settings = Settings.from_env()
    if not args.create_topics:
        settings = replace(settings, create_topics=False)
    load_engine(Path(settings.scenarios_dir))  # a bad file stops the start, before connecting
    check_kafka(settings)
    check_redis(settings)
    if settings.create_topics:
        ensure_topics(settings)
    else:
        check_topics(settings)
    engine = scenario_log.load(settings)  # with the versions of customers in flight
    engine.fits = fits_now(redis.Redis.from_url(settings.redis_url))  # then every minute
    if settings.event_loop == "uvloop":
        import mode.loop

        mode.loop.use("uvloop")  # before the worker creates its loop
    app = create_app(settings, engine=engine)
    tune_gc(settings.batch_max_records)
    faust_worker(app, settings.log_level, settings.log_format).execute_from_commandline()


def _topics(args: argparse.Namespace) -> None:
    from streams.topics import ensure_topics

    report = ensure_topics(Settings.from_env())
    for name in report.created:
        print(f"created  {name}")
    for name in report.existing:
        print(f"existing {name}")


def _catalog(args: argparse.Namespace) -> None:
    import redis

    from streams.edge.redis.catalog import load_catalog_file
    from streams.exceptions import ConfigurationError
    from streams.preflight import check_redis

    if not args.file.is_file():
        raise ConfigurationError(f"{args.file}: no such file")
    settings = Settings.from_env()
    check_redis(settings)
    catalog = load_catalog_file(redis.Redis.from_url(settings.redis_url), args.file)
    for problem in catalog.problems:
        print(f"{problem} (left out)", file=sys.stderr)
    print(
        f"loaded {len(catalog.products)} products from {args.file}; "
        f"{len(catalog.problems)} bad entries left out"
    )
    if catalog.problems:
        sys.exit(1)


def _profiles(args: argparse.Namespace) -> None:
    import redis

    from streams.edge.redis.profile_files import load_profiles_file
    from streams.exceptions import ConfigurationError
    from streams.preflight import check_redis

    if not args.file.is_file():
        raise ConfigurationError(f"{args.file}: no such file")
    settings = Settings.from_env()
    check_redis(settings)
    report = load_profiles_file(
        redis.Redis.from_url(settings.redis_url),
        args.file,
        progress=not args.quiet,
        report=lambda line: print(f"{args.file}: {line}", file=sys.stderr),
    )
    print(f"loaded {report.loaded} profiles from {args.file}; {len(report.bad)} bad lines skipped")
    if report.bad:
        sys.exit(1)


def _validate(args: argparse.Namespace) -> None:
    from streams.scenarios.validate import validate_folder

    folder = args.folder or Path(Settings.from_env().scenarios_dir)
    report = validate_folder(folder)
    for line in report.lines:
        print(line)
    for error in report.errors:
        print(f"error  {error}")
    if report.errors:
        print(f"{len(report.errors)} error(s) in {folder}", file=sys.stderr)
        sys.exit(1)


def _tail(args: argparse.Namespace) -> None:
    from streams.preflight import check_kafka
    from streams.tail import tail

    settings = Settings.from_env()
    check_kafka(settings)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends a follow
        tail(settings, args.topic, args.from_beginning, args.count, args.follow)


def _replay(args: argparse.Namespace) -> None:
    import json

    from streams.engine.context import Profile
    from streams.exceptions import ConfigurationError
    from streams.replay import read_events, replay, summary
    from streams.replay_compare import compare
    from streams.replay_trace import CustomerTrace

    folder = args.scenarios or Path(Settings.from_env().scenarios_dir)
    profiles: dict[str, Profile] = {}
    if args.profiles is not None:
        from streams.edge.redis.profile_files import read_profiles

        if not args.profiles.is_file():
            raise ConfigurationError(f"{args.profiles}: no such file")
        profiles, bad = read_profiles(args.profiles)
        for number, problem in bad:
            print(f"{args.profiles}:{number}: {problem} (skipped)", file=sys.stderr)
    if not args.events.is_file():
        raise ConfigurationError(f"{args.events}: no such file")
    engine = _replay_engine(folder, args.catalog)
    trace = None
    if args.customer:
        trace = CustomerTrace(args.customer, engine, profiles.get(args.customer))
    prediction = replay(
        engine,
        read_events(args.events),
        profiles,
        days_after=args.days_after,
        progress=not args.quiet,
        report=lambda number, problem: print(
            f"{args.events}:{number}: {problem} (skipped)", file=sys.stderr
        ),
        watch=trace,
    )
    print("\n".join(summary(prediction)))
    if trace is not None:
        print(f"\ndecisions for customer {args.customer}:")
        print("\n".join(trace.lines) or "  none: no event of this customer")
    if args.compare is not None:
        old = replay(
            _replay_engine(args.compare, args.catalog),
            read_events(args.events),
            profiles,
            days_after=args.days_after,
        )
        print(f"\n--compare: {args.compare} (before) against {folder} (after)")
        print("\n".join(compare(old, prediction)))
    if args.json is not None:
        args.json.write_text(json.dumps(prediction.to_json(), indent=1) + "\n")
        print(f"prediction written to {args.json} (`rebound report {args.json}`)")


def _replay_engine(folder: Path, catalog_file: Path | None) -> Any:
    """The engine of a scenario folder, with the compatibility rules of its catalog."""
    from streams.edge.redis.catalog import file_fits
    from streams.exceptions import ConfigurationError
    from streams.scenarios import load_engine

    engine = load_engine(folder)
    catalog = catalog_file or folder / "catalog.yaml"
    if catalog_file is not None or catalog.exists():
        if not catalog.is_file():
            raise ConfigurationError(f"{catalog}: no such file")
        engine.fits = file_fits(catalog)
    return engine


def _report(args: argparse.Namespace) -> None:
    import json

    from streams.exceptions import ConfigurationError
    from streams.report import render
    from streams.report_sources import from_metrics, from_prometheus

    if args.prometheus:
        data = from_prometheus(args.prometheus, args.window, args.step, args.selector)
    elif args.metrics:
        data = from_metrics(args.metrics)
    else:
        try:
            data = json.loads(args.prediction.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"{args.prediction}: not a replay's prediction ({exc})"
            ) from exc
    args.output.write_text(render(data, args.title), encoding="utf-8")
    print(f"report written to {args.output}")


def _scenarios_list(args: argparse.Namespace) -> None:
    import time

    from streams.scenario_log import ScenarioLog
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


def _scenarios_retire(args: argparse.Namespace) -> None:
    from streams.exceptions import ConfigurationError
    from streams.scenario_log import ScenarioLog
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


def _settings(args: argparse.Namespace) -> None:
    rows = Settings.from_env().describe()
    if args.markdown:
        print("| variable | default | what it is |\n|---|---|---|")
        for variable, value, doc in rows:
            print(
                f"| `{variable}` | `{value}` | {doc} |" if value else f"| `{variable}` | | {doc} |"
            )
        return
    for variable, value, doc in rows:
        print(f"{variable:<32} {value:<28} {doc}")
