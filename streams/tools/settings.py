"""``rebound settings``: every setting and its value, secrets masked."""

from __future__ import annotations

import argparse

from streams.settings import Settings

NAME = "settings"
SUMMARY = "print every setting and its value (secrets masked)"
ENV: tuple[str, ...] = ()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--markdown", action="store_true", help="as the README's table")


def run(args: argparse.Namespace) -> None:
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
