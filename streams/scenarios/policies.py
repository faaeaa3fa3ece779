"""``policies.yaml`` beside the scenarios: the rules across every scenario (pressure, quiet
hours, holidays) and the defaults of customers without a profile. Every error names file,
line and field, as for scenarios. See ``scenarios/README.md``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streams.engine.context import (
    CHANNELS,
    WEEKDAYS,
    Cap,
    Policies,
    ProfileDefaults,
    QuietHours,
    known_country,
)
from streams.engine.experiments import ControlGroup
from streams.scenarios.exceptions import raise_all
from streams.scenarios.loader import (
    _bool,
    _clock,
    _duration,
    _int,
    _mapping,
    _no_unknown,
    _text,
    _timezone_name,
    share,
)
from streams.scenarios.yaml_nodes import Located

POLICIES_FILE = "policies.yaml"


def load_policies(folder: Path) -> Policies:
    """The policies of the scenario folder ``folder``; the defaults when it has none."""
    path = folder / POLICIES_FILE
    if not path.exists():
        return Policies()
    return parse_policies(path.read_text(), str(path))


def parse_policies(text: str, source: str) -> Policies:
    doc = Located(source, text)
    top = _mapping(doc, doc.value, "")
    _no_unknown(doc, top, "", {"defaults", "pressure", "quiet_hours", "control_group"})
    pressure = _mapping(doc, top.get("pressure", {}), "pressure")
    _no_unknown(doc, pressure, "pressure", {"overall", "per_channel", "min_spacing"})
    per_channel = _mapping(doc, pressure.get("per_channel", {}), "pressure.per_channel")
    _no_unknown(doc, per_channel, "pressure.per_channel", set(CHANNELS))
    quiet = _mapping(doc, top.get("quiet_hours", {}), "quiet_hours")
    _no_unknown(doc, quiet, "quiet_hours", set(CHANNELS))
    raise_all(doc.errors)
    policies = Policies(
        overall=_cap(doc, pressure.get("overall"), "pressure.overall"),
        per_channel={
            channel: cap
            for channel, raw in per_channel.items()
            if (cap := _cap(doc, raw, f"pressure.per_channel.{channel}")) is not None
        },
        min_spacing_s=_duration(doc, pressure.get("min_spacing", "0s"), "pressure.min_spacing"),
        quiet={
            channel: _quiet(doc, raw, f"quiet_hours.{channel}") for channel, raw in quiet.items()
        },
        defaults=_defaults(doc, top.get("defaults", {})),
        source=source,
        control_group=_control_group(doc, top.get("control_group")),
    )
    raise_all(doc.errors)  # unknown fields deeper in
    return policies


def _control_group(doc: Located, raw: Any) -> ControlGroup | None:
    """``control_group: {share: 5%, salt: 2027}``: customers held out of every scenario."""
    if raw is None:
        return None
    path = "control_group"
    item = _mapping(doc, raw, path)
    _no_unknown(doc, item, path, {"share", "salt"})
    salt = _text(doc, {"salt": str(item["salt"])}, "salt", path) if "salt" in item else "rebound"
    return ControlGroup(share(doc, item.get("share"), f"{path}.share"), salt)


def _cap(doc: Located, raw: Any, path: str) -> Cap | None:
    if raw is None:
        return None
    item = _mapping(doc, raw, path)
    _no_unknown(doc, item, path, {"max", "per"})
    period = _duration(doc, item.get("per"), f"{path}.per")
    if period <= 0:
        raise doc.fail(f"{path}.per", "must be a duration longer than 0s")
    return Cap(_int(doc, item, "max", 1, None, path), period)


def _quiet(doc: Located, raw: Any, path: str) -> QuietHours:
    item = _mapping(doc, raw, path)
    _no_unknown(doc, item, path, {"from", "to", "days_off", "holidays"})
    start = _clock(doc, item.get("from"), f"{path}.from") if "from" in item else None
    end = _clock(doc, item.get("to"), f"{path}.to") if "to" in item else None
    if (start is None) != (end is None) or (start is not None and start == end):
        raise doc.fail(f"{path}.from", 'quiet hours need both "from" and "to", and not equal')
    days = item.get("days_off", [])
    if not isinstance(days, list) or not all(str(d).lower() in WEEKDAYS for d in days):
        raise doc.fail(f"{path}.days_off", f"expected a list of {', '.join(WEEKDAYS)}")
    days_off = frozenset(WEEKDAYS.index(str(d).lower()) for d in days)
    if len(days_off) == len(WEEKDAYS):
        raise doc.fail(f"{path}.days_off", "every day is off: the channel could never send")
    return QuietHours(start, end, days_off, _bool(doc, item, "holidays", False, path))


def _defaults(doc: Located, raw: Any) -> ProfileDefaults:
    path = "defaults"
    item = _mapping(doc, raw, path)
    _no_unknown(doc, item, path, {"consent", "has_app", "country", "timezone"})
    consent = item.get("consent", ["email"])
    if not isinstance(consent, list) or not all(c in CHANNELS for c in consent):
        raise doc.fail(f"{path}.consent", f"expected a list of channels ({', '.join(CHANNELS)})")
    country = str(item.get("country", "FR"))
    if not known_country(country):
        raise doc.fail(f"{path}.country", f"unknown country code {country!r} (ISO 3166, e.g. FR)")
    timezone = item.get("timezone")
    return ProfileDefaults(
        consent=frozenset(consent),
        has_app=_bool(doc, item, "has_app", False, path),
        country=country.upper(),
        timezone=_timezone_name(doc, timezone, f"{path}.timezone") if timezone else None,
    )
