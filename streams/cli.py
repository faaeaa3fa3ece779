"""The ``rebound`` command: worker, topics, catalog, validate, settings. (The local stack
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

    validate = commands.add_parser("validate", help="check the scenario files, then exit")
    validate.add_argument("folder", type=Path, nargs="?", help="default: REBOUND_SCENARIOS_DIR")
    validate.set_defaults(run=_validate)

    settings = commands.add_parser("settings", help="print every setting and its value")
    settings.add_argument("--markdown", action="store_true", help="as the README's table")
    settings.set_defaults(run=_settings)

    return parser


def _worker(args: argparse.Namespace) -> None:
    import faust

    from streams.app import create_app
    from streams.edge.faust import private
    from streams.edge.faust.runtime import tune_gc
    from streams.preflight import check_kafka, check_redis
    from streams.scenarios import load_scenarios
    from streams.topics import ensure_topics

    private.check()  # a Faust or aiokafka without what Rebound relies on stops the start
    settings = Settings.from_env()
    load_scenarios(Path(settings.scenarios_dir))  # a bad file stops the start, named
    check_kafka(settings)
    check_redis(settings)
    if args.create_topics:
        ensure_topics(settings)
    if settings.event_loop == "uvloop":
        import mode.loop

        mode.loop.use("uvloop")  # before the worker creates its loop
    app = create_app(settings)
    tune_gc()
    faust.Worker(app, loglevel=settings.log_level).execute_from_commandline()


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


def _validate(args: argparse.Namespace) -> None:
    from streams.scenarios import load_scenarios

    folder = args.folder or Path(Settings.from_env().scenarios_dir)
    for scenario in load_scenarios(folder):
        print(
            f"ok  {scenario.source}: {scenario.id} v{scenario.version}, "
            f"{len(scenario.steps)} step(s)"
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
