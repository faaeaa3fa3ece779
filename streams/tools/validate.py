"""``rebound validate [FOLDER]``: check the scenario files, the policies and the catalog."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from streams.settings import Settings

NAME = "validate"
SUMMARY = "check the scenario files, the policies and the catalog, then exit"
ENV = ("REBOUND_SCENARIOS_DIR",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "folder", type=Path, nargs="?", help="the scenarios' folder (REBOUND_SCENARIOS_DIR)"
    )


def run(args: argparse.Namespace) -> None:
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
