"""``policies.yaml``: read into ``Policies``; every mistake named with file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from streams.engine.context import Cap, QuietHours
from streams.scenarios import ScenarioError, load_engine, load_policies, parse_policies

SHIPPED = Path(__file__).resolve().parents[3] / "scenarios"


def test_the_shipped_policies_load_with_the_scenarios() -> None:
    engine = load_engine(SHIPPED)
    policies = engine.policies
    assert policies.overall == Cap(3, 7 * 86400)
    assert policies.per_channel["sms"] == Cap(1, 7 * 86400)
    assert policies.quiet["sms"] == QuietHours((21, 0), (8, 0), frozenset({6}), True)
    assert policies.defaults.consent == frozenset({"email"})
    assert policies.memory_s == 7 * 86400, "sends are remembered as long as a cap looks back"


def test_a_folder_without_policies_gets_the_defaults(tmp_path: Path) -> None:
    policies = load_policies(tmp_path)
    assert policies.overall is None
    assert policies.quiet == {}
    assert policies.defaults.country == "FR"


@pytest.mark.parametrize(
    ("text", "line", "field", "problem"),
    [
        ("pressure:\n  overall: {max: 0, per: 1d}\n", 2, "pressure.overall.max", ">= 1"),
        ("pressure:\n  overall: {max: 2, per: soon}\n", 2, "pressure.overall.per", "duration"),
        (
            "pressure:\n  per_channel:\n    fax: {max: 1, per: 1d}\n",
            3,
            "pressure.per_channel.fax",
            "unknown",
        ),
        (
            'quiet_hours:\n  sms: {from: "25:00", to: "08:00"}\n',
            2,
            "quiet_hours.sms.from",
            "time of day",
        ),
        ('quiet_hours:\n  sms: {from: "21:00"}\n', 2, "quiet_hours.sms.from", "both"),
        (
            "quiet_hours:\n  sms:\n    days_off: [caturday]\n",
            3,
            "quiet_hours.sms.days_off",
            "monday",
        ),
        (
            "quiet_hours:\n  sms:\n    days_off: [monday, tuesday, wednesday, thursday,"
            " friday, saturday, sunday]\n",
            3,
            "quiet_hours.sms.days_off",
            "never send",
        ),
        ("defaults:\n  country: XX\n", 2, "defaults.country", "unknown country"),
        ("defaults:\n  consent: [email, fax]\n", 2, "defaults.consent", "channels"),
        ("defaults:\n  timezone: Mars/Olympus\n", 2, "defaults.timezone", "time zone"),
        ("caps: {}\n", 1, "caps", "unknown field"),
        ("control_group: {share: 5}\n", 1, "control_group.share", "share like"),
        ("control_group: {share: 5%, size: 3}\n", 1, "control_group.size", "unknown field"),
    ],
)
def test_mistakes_name_file_line_and_field(text: str, line: int, field: str, problem: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_policies(textwrap.dedent(text), "policies.yaml")
    assert str(caught.value).startswith(f"policies.yaml:{line}: {field}: ")
    assert problem in str(caught.value)


def test_the_programme_s_control_group_parses() -> None:
    policies = parse_policies("control_group: {share: 5%, salt: 2027}\n", "policies.yaml")
    assert policies.control_group is not None
    assert (policies.control_group.share, policies.control_group.salt) == (500, "2027")
    assert parse_policies("{}\n", "policies.yaml").control_group is None
