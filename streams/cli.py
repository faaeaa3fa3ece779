"""The ``rebound`` command: its sub-commands are the modules of ``streams.tools``, each with
its own arguments and run function. (The local stack for development is ``python -m
devtools``, outside the installed package.)"""

from __future__ import annotations

import argparse
import sys

from streams.exceptions import ReboundError
from streams.tools import commands


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except ReboundError as exc:
        print(f"rebound: error: {exc}", file=sys.stderr)
        sys.exit(2)


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
    for command in commands():
        summary, env = command.SUMMARY, command.ENV
        sub = subparsers.add_parser(
            command.NAME,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            formatter_class=_Help,
            epilog=f"Environment: {', '.join(env)} (`rebound settings` shows their values)."
            if env
            else None,
        )
        if hasattr(command, "run"):
            sub.set_defaults(run=command.run)
        command.add_arguments(sub)
    return parser
