"""When a step falls due: a relative delay, optionally moved to a local time of day."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from streams.engine.scenario import Wait

_ZONES: dict[str, ZoneInfo] = {}
_DAY = timedelta(days=1)


def due_time(wait: Wait, since: float, timezone: str) -> float:
    """``since`` plus the delay; with ``at_local_time``, the first such local moment (to the
    minute, in ``timezone``) at or after it."""
    due = since + wait.delay_s
    at = wait.at_local_time
    if at is None:
        return due
    zone = _ZONES.get(timezone)
    if zone is None:
        zone = _ZONES[timezone] = ZoneInfo(timezone)
    hour, minute = at
    local = datetime.fromtimestamp(due, zone)
    # Built from fields rather than with replace(), which parses keywords: 4.5 against 8 us.
    candidate = datetime(local.year, local.month, local.day, hour, minute, 0, 0, zone)
    if candidate < local:
        day = local + _DAY
        candidate = datetime(day.year, day.month, day.day, hour, minute, 0, 0, zone)
    return candidate.timestamp()
