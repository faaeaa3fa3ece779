"""The ``rebound`` command's own help: its version, each command's defaults and the
environment variables it reads, every command in the README, the licence the package states."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from streams.cli import main

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ("worker", "topics", "catalog", "profiles", "validate", "tail", "scenarios", "settings")


def help_of(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as stopped:
        main([*argv])
    assert stopped.value.code == 0
    return capsys.readouterr().out


def test_version_is_the_package_s(capsys: pytest.CaptureFixture[str]) -> None:
    assert help_of(capsys, "--version").strip() == f"rebound {version('rebound')}"


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "settings"])
def test_each_command_names_the_variables_it_reads(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    text = help_of(capsys, command, "--help")
    assert "Environment: REBOUND_" in text


def test_defaults_are_shown(capsys: pytest.CaptureFixture[str]) -> None:
    assert "(default: scenarios/catalog.yaml)" in help_of(capsys, "catalog", "--help")


def test_the_readme_lists_every_command() -> None:
    readme = (ROOT / "README.md").read_text()
    for command in COMMANDS:
        assert re.search(rf"rebound {command}\b", readme), f"rebound {command} is not in the README"


def test_the_licence_file_is_the_one_the_package_states() -> None:
    stated = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"]["text"]
    assert stated == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
