"""``rebound validate`` as a CRM team runs it: every mistake of every file in one run, each
with its file, line and field and the fix (the name it most likely meant); the shipped
folder clean."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from streams.cli import main

SHIPPED = Path(__file__).resolve().parents[3] / "scenarios"
A = """\
id: a
version: 1
trigger: {event: order, order_contains: {category: bike}}
steps:
  - id: first
    wait: {after: 1d, at: 10:00}
    chanel: email
    template: t
    recommendations: [HELMET-URBAN]
"""
B = """\
id: b
version: 1
trigger: {event: order, order_contains: {category: bike}}
steps:
  - id: first
    wait: 1d
    channel: email
    template: t
    recommendations: [HELMET-URBN]
  - id: second
    wait: 1d
    when: not opened(frist)
    channel: email
    template: t
"""
POLICIES = 'quiet_hour:\n  sms: {from: "21:00", to: "08:00"}\n'


def validate(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    try:
        main(["validate", str(folder)])
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out = capsys.readouterr().out.splitlines()
    return code, [line for line in out if line.startswith("error")]


def test_five_mistakes_in_three_files_are_all_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.yaml").write_text(A)
    (tmp_path / "b.yaml").write_text(B)
    (tmp_path / "policies.yaml").write_text(POLICIES)
    shutil.copy(SHIPPED / "catalog.yaml", tmp_path)
    code, errors = validate(tmp_path, capsys)
    assert code == 1
    found = sorted(line.split(": ")[0].removeprefix("error  ") + f": {line.split(': ')[1]}"
                   for line in errors)  # fmt: skip
    assert found == sorted(
        [
            f"{tmp_path}/a.yaml:6: steps[0].wait.at",
            f"{tmp_path}/a.yaml:7: steps[0].chanel",
            f"{tmp_path}/b.yaml:9: steps[0].recommendations[0]",
            f"{tmp_path}/b.yaml:12: steps[1].when",
            f"{tmp_path}/policies.yaml:1: quiet_hour",
        ]
    )
    text = "\n".join(errors)
    assert 'write the time in quotes: "10:00"' in text
    assert "did you mean channel?" in text
    assert "did you mean HELMET-URBAN?" in text
    assert "did you mean first?" in text
    assert "did you mean quiet_hours?" in text


def test_a_yaml_syntax_error_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "c.yaml").write_text("id: c\nversion: 1\ntrigger: {event: order\nsteps: []\n")
    code, errors = validate(tmp_path, capsys)
    assert code == 1
    [error] = errors
    assert error.startswith(f"error  {tmp_path}/c.yaml:4: (document): not valid YAML: ")
    assert "(column 6)" in error


def test_the_shipped_folder_validates_clean(capsys: pytest.CaptureFixture[str]) -> None:
    code, errors = validate(SHIPPED, capsys)
    assert (code, errors) == (0, [])
