"""When a step falls due: a relative delay, in hours or in business days, optionally moved to
a local time of day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from streams.engine.context import zone
from streams.engine.scenario import Wait

_DAY = timedelta(days=1)


def due_time(
    wait: Wait,
    since: float,
    timezone: str,
    business_day: Callable[[date], bool] | None = None,
) -> float:
    """``since`` plus the delay; with ``at_local_time``, the first such local moment (to the
    minute, in ``timezone``) at or after it. With ``business_days``, the delay counts the
    days on which ``business_day`` holds (Monday to Friday outside public holidays) and the
    step falls on one."""
    if wait.business_days and business_day is not None:
        return _business_due(wait, since, timezone, business_day)
    due = since + wait.delay_s
    at = wait.at_local_time
    if at is None:
        return due
    tz = zone(timezone)
    hour, minute = at
    local = datetime.fromtimestamp(due, tz)
    # Built from fields rather than with replace(), which parses keywords: 4.5 against 8 us.
    candidate = datetime(local.year, local.month, local.day, hour, minute, 0, 0, tz)
    if candidate < local:
        day = local + _DAY
        candidate = datetime(day.year, day.month, day.day, hour, minute, 0, 0, tz)
    return candidate.timestamp()


def _business_due(
    wait: Wait, since: float, timezone: str, business_day: Callable[[date], bool]
) -> float:
    tz = zone(timezone)
    start = datetime.fromtimestamp(since, tz)
    clock = wait.at_local_time or (start.hour, start.minute)
    day = start.date()
    remaining = round(wait.delay_s / 86400)
    for _ in range(3660):  # ten years of days: a calendar with no business day ends it
        if remaining <= 0 and business_day(day):
            candidate = datetime(day.year, day.month, day.day, clock[0], clock[1], 0, 0, tz)
            if candidate >= start:
                return candidate.timestamp()
        day += _DAY
        if business_day(day):
            remaining -= 1
    return since + wait.delay_s
