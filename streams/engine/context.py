"""What a decision knows besides the state, the input and the time: the customer's profile,
the policies that hold across every scenario, and the calendars (docs/architecture.md).

Profiles belong to the CRM and are read from Redis once per batch
(``streams.edge.redis.profiles``); policies come from ``policies.yaml`` beside the scenarios
(``streams.scenarios.policies``); public holidays from the ``holidays`` library. All of it
reaches ``Engine.decide`` as a ``Context`` value, so deciding stays pure and is tested on
simulated time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import holidays as holiday_calendars

from streams.engine.experiments import ControlGroup

CHANNELS = ("email", "sms", "push")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Why a step sent nothing (``StepDropped.reason``) or waited (``StepDeferred.reasons``).
NO_CONSENT = "no_consent"
NO_APP = "no_app"
EXPIRED = "expired"
NOTHING_TO_RECOMMEND = "nothing_to_recommend"
QUIET_HOURS = "quiet_hours"
DAY_OFF = "day_off"
HOLIDAY = "holiday"
CAP = "cap"
SPACING = "spacing"


@dataclass(slots=True, init=False)
class Profile:
    """A customer's profile as the CRM keeps it. ``None`` (or a channel absent from
    ``consent``) means not given: the policies' ``ProfileDefaults`` apply."""

    consent: Final[dict[str, bool]]
    """channel -> whether the customer agreed to receive cross-sell messages on it."""
    has_app: Final[bool | None]
    timezone: Final[str | None]
    """IANA name, e.g. ``America/New_York``; the scenario's zone when not given."""
    country: Final[str | None]
    """ISO 3166-1 alpha-2, for public holidays."""
    language: Final[str | None]
    unsubscribed: Final[bool]
    """Withdrawn from every cross-sell message: the customer's instances end."""
    attributes: Final[dict[str, str]]
    """Declared attributes (skin type, company size...), for recommendation picks."""

    def __init__(
        self,
        consent: dict[str, bool] | None = None,
        has_app: bool | None = None,
        timezone: str | None = None,
        country: str | None = None,
        language: str | None = None,
        unsubscribed: bool = False,
        attributes: dict[str, str] | None = None,
    ) -> None:
        self.consent = {} if consent is None else consent
        self.has_app = has_app
        self.timezone = timezone
        self.country = country
        self.language = language
        self.unsubscribed = unsubscribed
        self.attributes = {} if attributes is None else attributes


@dataclass(frozen=True, slots=True)
class ProfileDefaults:
    """What a customer without a profile (or a profile without the field) gets."""

    consent: frozenset[str] = frozenset({"email"})
    """Channels allowed without a recorded consent: e-mail only (the soft opt-in of an
    existing customer for similar products); SMS and push need the customer's yes."""
    has_app: bool = False
    country: str = "FR"
    timezone: str | None = None
    """None: the scenario's time zone."""


@dataclass(frozen=True, slots=True)
class Cap:
    """At most ``max`` messages in any rolling ``period_s``."""

    max: int
    period_s: float


@dataclass(frozen=True, slots=True)
class QuietHours:
    """When a channel sends nothing, in the customer's local time."""

    start: tuple[int, int] | None = None
    """(hour, minute) the quiet time begins; it may end the next morning (21:00-08:00)."""
    end: tuple[int, int] | None = None
    days_off: frozenset[int] = frozenset()
    """Weekdays (0 = Monday) with no sends at all."""
    holidays: bool = False
    """No sends on the public holidays of the customer's country."""


@dataclass(frozen=True, slots=True)
class Policies:
    """Rules across all scenarios. The defaults (no ``policies.yaml``) restrict nothing but
    consent: no cap, no spacing, no quiet hours."""

    overall: Cap | None = None
    per_channel: dict[str, Cap] = field(default_factory=dict)
    min_spacing_s: float = 0.0
    """Between two messages to a customer, whatever their channel."""
    quiet: dict[str, QuietHours] = field(default_factory=dict)
    """channel -> its quiet hours."""
    defaults: ProfileDefaults = ProfileDefaults()
    source: str = ""
    control_group: ControlGroup | None = None
    """A share of all customers held out of every scenario (their instances run silently)."""

    @property
    def memory_s(self) -> float:
        """How long a send must be remembered for the caps and the spacing to see it."""
        periods = [cap.period_s for cap in (self.overall, *self.per_channel.values()) if cap]
        return max([self.min_spacing_s, *periods])


class Calendar:
    """Public holidays per country, from the ``holidays`` library, computed once per country
    and year (deterministic: a decision that asks twice gets the same answer)."""

    def __init__(self) -> None:
        self._days: dict[tuple[str, int], frozenset[date]] = {}

    def is_holiday(self, country: str, day: date) -> bool:
        key = (country, day.year)
        days = self._days.get(key)
        if days is None:
            days = self._days[key] = _holidays(country, day.year)
        return day in days

    def is_business_day(self, country: str, day: date) -> bool:
        return day.weekday() < 5 and not self.is_holiday(country, day)


def _holidays(country: str, year: int) -> frozenset[date]:
    try:
        return frozenset(holiday_calendars.country_holidays(country, years=year))
    except NotImplementedError:  # a country the library does not know: no holiday
        return frozenset()


def known_country(country: str) -> bool:
    return country.upper() in holiday_calendars.list_supported_countries()


_ZONES: dict[str, ZoneInfo] = {}


def zone(name: str) -> ZoneInfo:
    """The ``ZoneInfo`` of ``name``, built once."""
    found = _ZONES.get(name)
    if found is None:
        found = _ZONES[name] = ZoneInfo(name)
    return found


class Context:
    """One customer's profile read against the policies' defaults, with the rules. Built for
    every customer of a batch whose profile was read: it resolves nothing until asked."""

    __slots__ = ("calendar", "country", "policies", "profile", "read", "timezone", "unsubscribed")

    def __init__(
        self,
        profile: Profile | None,
        policies: Policies,
        calendar: Calendar,
        read: bool = True,
    ) -> None:
        self.profile = profile
        """None: the customer has no profile (the defaults apply)."""
        self.policies = policies
        self.calendar = calendar
        self.read = read
        """False when the worker did not read the profile, for an input that cannot start
        an instance or send (``Engine.needs_profile``)."""
        defaults = policies.defaults
        if profile is None:
            self.country, self.timezone, self.unsubscribed = (
                defaults.country,
                defaults.timezone,
                False,
            )
        else:
            self.country = profile.country or defaults.country
            self.timezone = profile.timezone or defaults.timezone
            self.unsubscribed = profile.unsubscribed

    def consents(self, channel: str) -> bool:
        consent = self.profile.consent if self.profile is not None else {}
        agreed = consent.get(channel)
        return channel in self.policies.defaults.consent if agreed is None else agreed

    @property
    def has_app(self) -> bool:
        given = self.profile.has_app if self.profile is not None else None
        return self.policies.defaults.has_app if given is None else given

    def zone_name(self, scenario_zone: str) -> str:
        return self.timezone or scenario_zone

    def holiday(self, day: date) -> bool:
        return self.calendar.is_holiday(self.country, day)

    def business_day(self, day: date) -> bool:
        return self.calendar.is_business_day(self.country, day)

    def attribute(self, name: str) -> str | None:
        return self.profile.attributes.get(name) if self.profile is not None else None

    def channel(
        self,
        channels: tuple[str, ...],
        override: Callable[[str], bool | None] | None = None,
    ) -> tuple[str | None, str]:
        """The first of ``channels`` the customer may get (consent, and the app for push);
        else None and why the first was refused. ``override``: what the customer's consent
        events say of a channel (None: nothing), which wins over the profile."""
        refusal = ""
        for candidate in channels:
            said = override(candidate) if override is not None else None
            if not (self.consents(candidate) if said is None else said):
                refusal = refusal or NO_CONSENT
            elif candidate == "push" and not self.has_app:
                refusal = refusal or NO_APP
            else:
                return candidate, ""
        return None, refusal

    def next_slot(
        self, channel: str, now: float, sends: list[list[float | str]], zone_name: str
    ) -> tuple[float, tuple[str, ...]]:
        """The first moment at or after ``now`` that a message on ``channel`` may go out,
        given the customer's recent ``sends`` ([at, channel], oldest first), and why it is
        later than ``now``: spacing and caps first, then the channel's quiet time."""
        policies = self.policies
        at, reasons = now, []
        if policies.min_spacing_s and sends:
            spaced = float(sends[-1][0]) + policies.min_spacing_s
            if spaced > at:
                at, reasons = spaced, [SPACING]
        for cap, only in ((policies.overall, None), (policies.per_channel.get(channel), channel)):
            if cap is None:
                continue
            times = [float(s[0]) for s in sends if only is None or s[1] == only]
            if len(times) >= cap.max:
                # The window (t - period, t] holds fewer than max sends once the max-th most
                # recent has left it.
                freed = times[-cap.max] + cap.period_s
                if freed > at:
                    at = freed
                    if CAP not in reasons:
                        reasons.append(CAP)
        quiet = policies.quiet.get(channel)
        if quiet is not None:
            at, why = self.outside_quiet(at, quiet, zone(zone_name))
            reasons += [r for r in why if r not in reasons]
        return at, tuple(reasons)

    def outside_quiet(self, at: float, quiet: QuietHours, tz: ZoneInfo) -> tuple[float, list[str]]:
        """The first moment at or after ``at`` outside ``quiet``, and what was in the way."""
        reasons: list[str] = []
        for _ in range(400):  # days off never cover a whole week (checked at load)
            local = datetime.fromtimestamp(at, tz)
            day = local.date()
            if day.weekday() in quiet.days_off or (quiet.holidays and self.holiday(day)):
                reason = DAY_OFF if day.weekday() in quiet.days_off else HOLIDAY
                if reason not in reasons:
                    reasons.append(reason)
                at = _local(day + _DAY, (0, 0), tz)
                continue
            if quiet.start is not None and quiet.end is not None:
                minute = local.hour * 60 + local.minute
                start = quiet.start[0] * 60 + quiet.start[1]
                end = quiet.end[0] * 60 + quiet.end[1]
                if start <= end:
                    inside, until = start <= minute < end, day
                else:  # across midnight
                    inside = minute >= start or minute < end
                    until = day + _DAY if minute >= start else day
                if inside:
                    if QUIET_HOURS not in reasons:
                        reasons.append(QUIET_HOURS)
                    at = _local(until, quiet.end, tz)
                    continue
            return at, reasons
        return at, reasons


_DAY = timedelta(days=1)


def _local(day: date, clock: tuple[int, int], tz: ZoneInfo) -> float:
    return datetime(day.year, day.month, day.day, clock[0], clock[1], 0, 0, tz).timestamp()
