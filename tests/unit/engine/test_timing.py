from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from streams.engine.scenario import Wait
from streams.engine.timing import due_time

PARIS = ZoneInfo("Europe/Paris")


def at(text: str, zone: ZoneInfo = PARIS) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


def test_a_plain_delay_is_added() -> None:
    assert due_time(Wait(3 * 86400), 1000.5, "Europe/Paris") == 1000.5 + 3 * 86400


def test_due_before_the_local_time_waits_for_it_that_day() -> None:
    due = due_time(Wait(86400, (10, 0)), at("2026-06-01T08:15:37.250"), "Europe/Paris")
    assert due == at("2026-06-02T10:00")


def test_due_after_the_local_time_moves_to_the_next_day_on_the_minute() -> None:
    due = due_time(Wait(86400, (10, 0)), at("2026-06-01T11:42:37.250"), "Europe/Paris")
    assert due == at("2026-06-03T10:00")


def test_due_on_the_local_time_stays() -> None:
    assert due_time(Wait(0, (10, 0)), at("2026-06-01T10:00"), "Europe/Paris") == at(
        "2026-06-01T10:00"
    )


def test_the_local_time_is_kept_across_a_change_to_summer_time() -> None:
    # Paris moves to UTC+2 on 2026-03-29: 10:00 is 09:00 UTC the day before, 08:00 UTC then.
    due = due_time(Wait(86400, (10, 0)), at("2026-03-28T12:00"), "Europe/Paris")
    assert due == datetime.fromisoformat("2026-03-30T08:00+00:00").timestamp()


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_the_scenario_time_zone_is_used(zone: str) -> None:
    tz = ZoneInfo(zone)
    due = due_time(Wait(3600, (18, 30)), at("2026-06-01T09:00", tz), zone)
    assert due == at("2026-06-01T18:30", tz)
