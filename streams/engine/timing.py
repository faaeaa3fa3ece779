"""When a step falls due: a relative delay, optionally moved to a local time of day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from streams.engine.scenario import Wait


def due_time(wait: Wait, since: float, timezone: str) -> float:
    """``since`` plus the delay; with ``at_local_time``, the first such local moment after."""
    due = since + wait.delay_s
    if wait.at_local_time is None:
        return due
    zone = ZoneInfo(timezone)
    local = datetime.fromtimestamp(due, tz=UTC).astimezone(zone)
    hour, minute = wait.at_local_time
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate < local:
        candidate = (local + timedelta(days=1)).replace(hour=hour, minute=minute)
    return candidate.timestamp()
