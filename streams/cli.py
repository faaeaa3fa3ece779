"""The ``rebound`` command: worker, topics, catalog, profiles, validate, settings. (The local stack
for development is ``python -m devtools``, outside the installed package.)"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rebound", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    worker = commands.add_parser("worker", help="run the stream worker (Faust)")
    worker.add_argument(
        "--no-create-topics",
        dest="create_topics",
        action="store_false",
        help="do not create missing topics before starting",
    )
    worker.set_defaults(run=_worker)

    topics = commands.add_parser("topics", help="create the topics Rebound needs (idempotent)")
    topics.set_defaults(run=_topics)

    catalog = commands.add_parser("catalog", help="load a product catalog file into Redis")
    catalog.add_argument("file", type=Path, nargs="?", default=Path("scenarios/catalog.yaml"))
    catalog.set_defaults(run=_catalog)

    profiles = commands.add_parser(
        "profiles",
        help="load customer profiles (CSV or JSON Lines) into Redis; bad lines are reported",
    )
    profiles.add_argument("file", type=Path, help=".csv, or JSON Lines (.jsonl, .ndjson)")
    profiles.add_argument("--quiet", action="store_true", help="no progress bar")
    profiles.set_defaults(run=_profiles)

    validate = commands.add_parser("validate", help="check the scenario files, then exit")
    validate.add_argument("folder", type=Path, nargs="?", help="default: REBOUND_SCENARIOS_DIR")
    validate.set_defaults(run=_validate)

    settings = commands.add_parser("settings", help="print every setting and its value")
    settings.add_argument("--markdown", action="store_true", help="as the README's table")
    settings.set_defaults(run=_settings)

    return parser


def _worker(args: argparse.Namespace) -> None:
    from streams.app import create_app
    from streams.edge.faust import private
    from streams.edge.faust.runtime import faust_worker, tune_gc
    from streams.preflight import check_kafka, check_redis
    from streams.scenarios import load_engine
    from streams.topics import ensure_topics

    private.check()  # a Faust or aiokafka without what Rebound relies on stops the start
    settings = Settings.from_env()
    engine = load_engine(Path(settings.scenarios_dir))  # a bad file stops the start, named
    check_kafka(settings)
    check_redis(settings)
    if args.create_topics:
        ensure_topics(settings)
    if settings.event_loop == "uvloop":
        import mode.loop

        mode.loop.use("uvloop")  # before the worker creates its loop
    app = create_app(settings, engine=engine)
    tune_gc()
    faust_worker(app, settings.log_level).execute_from_commandline()


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
    from streams.preflight import check_redis

    settings = Settings.from_env()
    check_redis(settings)
    count = load_catalog_file(redis.Redis.from_url(settings.redis_url), args.file)
    print(f"loaded {count} products from {args.file}")


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
    from streams.scenarios import load_engine

    folder = args.folder or Path(Settings.from_env().scenarios_dir)
    engine = load_engine(folder)
    for scenario in engine.scenarios:
        print(
            f"ok  {scenario.source}: {scenario.id} v{scenario.version}, "
            f"{len(scenario.steps)} step(s)"
        )
    print(f"ok  {engine.policies.source or 'no policies.yaml: the default policies'}")


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
