"""A customer's profile as the CRM writes it: one hash of text fields per customer, every
field optional (an absent field gets the default of ``policies.yaml``, see
``streams.engine.context.ProfileDefaults``):

=================  ==========================================================
``consent.email``  ``1`` or ``0``: the customer agreed to cross-sell e-mails
``consent.sms``    ``1`` or ``0``
``consent.push``   ``1`` or ``0``
``has_app``        ``1`` or ``0``: push needs the app (and its consent)
``timezone``       IANA name (``America/New_York``): local times of the steps
``country``        ISO 3166-1 alpha-2 (``FR``): public holidays
``language``       e.g. ``fr``
``unsubscribed``   ``1``: no cross-sell message at all; running instances end
``attr.<name>``    a declared attribute (``attr.skin_type`` = ``dry``)
=================  ==========================================================

Read from Redis by the worker (``streams.edge.redis.profiles``), from files by ``rebound
profiles`` and ``rebound replay`` (``streams.scenarios.profile_files``). A value Rebound
cannot use is reported by its field, never its value, which may be personal.
"""

from __future__ import annotations

from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from streams.engine.context import CHANNELS, Profile, known_country

ATTRIBUTE_PREFIX = "attr."
FIELDS = (
    *(f"consent.{channel}" for channel in CHANNELS),
    "has_app",
    "timezone",
    "country",
    "language",
    "unsubscribed",
)
"""The fields of a profile hash, beside the ``attr.<name>`` attributes."""
_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n", ""}


class InvalidField(ValueError):
    """A profile field whose value cannot be used; the message names the field only."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


def parse_profile(fields: Mapping[str, str]) -> tuple[Profile, list[InvalidField]]:
    """The profile of a hash's fields (as text), and the fields that were ignored."""
    return parse_flat([part for pair in fields.items() for part in pair])


def parse_flat(flat: list[str]) -> tuple[Profile, list[InvalidField]]:
    """``parse_profile`` of an ``HGETALL`` reply: field, value, field, value... (read for
    every profile the worker looks up: one pass, a table lookup per field)."""
    problems: list[InvalidField] = []
    consent: dict[str, bool] = {}
    attributes: dict[str, str] = {}
    has_app = timezone = country = language = None
    unsubscribed = False
    for i in range(0, len(flat) - 1, 2):
        name, raw = flat[i], flat[i + 1]
        kind = _KINDS.get(name)
        try:
            if kind is None:
                if name.startswith(ATTRIBUTE_PREFIX) and len(name) > len(ATTRIBUTE_PREFIX):
                    attributes[name[len(ATTRIBUTE_PREFIX) :]] = raw
                else:
                    problems.append(InvalidField(name, "unknown field"))
            elif kind == "consent":
                consent[name[8:]] = _flag(name, raw)
            elif kind == "has_app":
                has_app = _flag(name, raw)
            elif kind == "unsubscribed":
                unsubscribed = _flag(name, raw)
            elif kind == "timezone":
                timezone = _timezone(raw)
            elif kind == "country":
                country = _country(raw)
            else:
                language = raw or None
        except InvalidField as problem:
            problems.append(problem)
    profile = Profile(consent, has_app, timezone, country, language, unsubscribed, attributes)
    return profile, problems


_KINDS = {
    **{f"consent.{channel}": "consent" for channel in CHANNELS},
    **{name: name for name in ("has_app", "unsubscribed", "timezone", "country", "language")},
}
_FLAGS = {"1": True, "0": False}


def profile_fields(profile: Profile) -> dict[str, str]:
    """The hash fields of ``profile`` (``parse_profile`` reads them back)."""
    fields = {f"consent.{c}": "1" if ok else "0" for c, ok in profile.consent.items()}
    if profile.has_app is not None:
        fields["has_app"] = "1" if profile.has_app else "0"
    for name in ("timezone", "country", "language"):
        value = getattr(profile, name)
        if value:
            fields[name] = value
    if profile.unsubscribed:
        fields["unsubscribed"] = "1"
    fields.update({ATTRIBUTE_PREFIX + k: v for k, v in profile.attributes.items()})
    return fields


def _flag(name: str, raw: str) -> bool:
    flag = _FLAGS.get(raw)
    if flag is not None:
        return flag
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidField(name, "expected 1 or 0 (true/false, yes/no)")


def _country(raw: str) -> str:
    if raw in _COUNTRIES:
        return raw
    if not known_country(raw):
        raise InvalidField("country", "not an ISO 3166 country code the calendars know")
    return raw.upper()


def _timezone(raw: str) -> str:
    if raw in _ZONES:
        return raw
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidField("timezone", "not an IANA time zone (e.g. Europe/Paris)") from None
    _ZONES.add(raw)
    return raw


_ZONES: set[str] = set()
"""Time zone names found valid (the check costs; the names repeat)."""
_COUNTRIES = frozenset(c for c in holidays.list_supported_countries() if c.isupper())
"""Upper-case codes the calendars know: the common case, checked without a call."""
