"""Profile hashes as the CRM writes them, read into the engine's ``Profile``."""

from __future__ import annotations

from streams.engine.context import Profile
from streams.scenarios.profiles import parse_profile, profile_fields


def test_every_documented_field_is_read() -> None:
    profile, problems = parse_profile(
        {
            "consent.email": "1",
            "consent.sms": "no",
            "consent.push": "true",
            "has_app": "1",
            "timezone": "America/New_York",
            "country": "us",
            "language": "en",
            "unsubscribed": "0",
            "attr.skin_type": "dry",
        }
    )
    assert problems == []
    assert profile == Profile(
        consent={"email": True, "sms": False, "push": True},
        has_app=True,
        timezone="America/New_York",
        country="US",
        language="en",
        unsubscribed=False,
        attributes={"skin_type": "dry"},
    )


def test_a_value_that_cannot_be_used_is_ignored_and_named_without_its_value() -> None:
    profile, problems = parse_profile(
        {"consent.sms": "maybe", "timezone": "Paris", "country": "Gaul", "phone": "+33612345678"}
    )
    assert profile == Profile()
    assert sorted(p.field for p in problems) == ["consent.sms", "country", "phone", "timezone"]
    assert not any("+336" in str(p) or "Gaul" in str(p) for p in problems)


def test_fields_round_trip() -> None:
    profile = Profile(
        consent={"email": False, "sms": True},
        has_app=False,
        country="FR",
        unsubscribed=True,
        attributes={"company_size": "50-200"},
    )
    assert parse_profile(profile_fields(profile)) == (profile, [])
