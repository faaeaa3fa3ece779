"""The customer's context on simulated time: consent and channels, local time, quiet hours,
public holidays, pressure across scenarios, recommendations, entry and exit rules."""

from __future__ import annotations

import textwrap
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from streams.engine import Consent, CustomerState, Engine
from streams.engine.context import Policies, Profile
from streams.engine.effects import (
    ExitInstance,
    SendCommand,
    StartInstance,
    StepDeferred,
    StepDropped,
)
from streams.engine.scenario import Scenario
from streams.scenarios import parse_policies, parse_scenario
from tests.unit.engine.simulation import DAY, HR_SUITE, SCENARIOS, Simulation

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600.0


def at(text: str, zone: ZoneInfo = PARIS) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


def local(ts: float, zone: ZoneInfo = PARIS) -> datetime:
    return datetime.fromtimestamp(ts, zone)


def scenario(
    sid: str,
    *,
    category: str | None = None,
    wait: str = "1h",
    channel: str = "email",
    expiry: str = "2d",
    priority: int = 0,
    steps: str = "",
    recommendations: str = "[R1, R2]",
) -> Scenario:
    body = (
        steps
        or f"""
          - id: first
            wait: {wait}
            channel: {channel}
            template: t
            recommendations: {recommendations}
    """
    )
    text = f"""
        id: {sid}
        version: 1
        priority: {priority}
        trigger: {{event: order, order_contains: {{category: {category or sid}}}}}
        steps:
{textwrap.indent(textwrap.dedent(body).strip(), " " * 10)}
        expiry: {expiry}
    """
    return parse_scenario(textwrap.dedent(text), f"{sid}.yaml")


def policies(text: str = "") -> Policies:
    return parse_policies(textwrap.dedent(text) or "{}", "policies.yaml")


def sim(
    *scenarios: Scenario,
    rules: Policies | None = None,
    profile: Profile | None = None,
    now: float | None = None,
) -> Simulation:
    simulation = Simulation(engine=Engine(scenarios, rules), profile=profile)
    if now is not None:
        simulation.now = now
    return simulation


def line(category: str) -> tuple[str, str, str, int]:
    return (f"SKU-{category}", f"a {category}", category, 1000)


def dropped(s: Simulation) -> list[tuple[str, str]]:
    return [(e.scenario_id, e.reason) for e in s.effects if isinstance(e, StepDropped)]


# Pressure.

CAP_2_A_DAY = """
    pressure:
      overall: {max: 2, per: 1d}
"""


def test_a_cap_reached_defers_the_third_message_to_the_slot_the_first_frees() -> None:
    s = sim(
        scenario("a", wait="1h"),
        scenario("b", wait="2h"),
        scenario("c", wait="3h"),
        rules=policies(CAP_2_A_DAY),
    )
    start = s.now
    s.order("o1", line("a"), line("b"), line("c"))
    s.advance(4 * HOUR)
    assert [c.scenario_id for c in s.sends] == ["a", "b"]
    [deferred] = [e for e in s.effects if isinstance(e, StepDeferred)]
    assert (deferred.scenario_id, deferred.reasons) == ("c", ("cap",))
    assert deferred.until == start + 1 * HOUR + DAY, "when a's send leaves the 24 h window"
    s.advance(DAY)
    third = s.sends[2]
    assert third.scenario_id == "c"
    assert third.created_at == third.due_at == start + 25 * HOUR
    assert third.deferred_from == start + 3 * HOUR
    assert third.deferral_reasons == ("cap",)
    assert third.not_after == start + 3 * HOUR + 2 * DAY, "expiry counts from the first due"


def test_a_message_deferred_past_its_expiry_is_dropped_and_counted_expired() -> None:
    s = sim(
        scenario("a", wait="1h"),
        scenario("b", wait="2h"),
        scenario("c", wait="3h", expiry="12h"),
        rules=policies(CAP_2_A_DAY),
    )
    s.order("o1", line("a"), line("b"), line("c"))
    s.advance(3 * DAY)
    assert [c.scenario_id for c in s.sends] == ["a", "b"]
    assert dropped(s) == [("c", "expired")]


def test_a_cap_per_channel_counts_that_channel_only() -> None:
    rules = policies("""
        pressure:
          per_channel:
            sms: {max: 1, per: 7d}
    """)
    s = sim(
        scenario("a", wait="1h", channel="sms"),
        scenario("b", wait="2h", channel="email"),
        scenario("c", wait="3h", channel="sms", expiry="10d"),
        rules=rules,
        profile=Profile(consent={"sms": True}),
    )
    start = s.now
    s.order("o1", line("a"), line("b"), line("c"))
    s.advance(4 * HOUR)
    assert [(c.scenario_id, c.channel) for c in s.sends] == [("a", "sms"), ("b", "email")]
    s.advance(7 * DAY)
    assert s.sends[2].scenario_id == "c"
    assert s.sends[2].created_at == start + 1 * HOUR + 7 * DAY


def test_spacing_holds_messages_of_any_scenario_apart() -> None:
    s = sim(
        scenario("a", wait="1h"),
        scenario("b", wait="2h"),
        rules=policies("pressure: {min_spacing: 4h}"),
    )
    start = s.now
    s.order("o1", line("a"), line("b"))
    s.advance(DAY)
    assert [c.created_at - start for c in s.sends] == [1 * HOUR, 5 * HOUR]
    assert s.sends[1].deferral_reasons == ("spacing",)


def test_of_messages_due_together_the_higher_priority_takes_the_last_place() -> None:
    rules = policies("pressure: {overall: {max: 1, per: 1d}}")
    s = sim(
        scenario("aa-low", wait="1h", priority=1),
        scenario("zz-high", wait="1h", priority=50),
        rules=rules,
    )
    s.order("o1", line("aa-low"), line("zz-high"))
    s.advance(2 * HOUR)
    assert [c.scenario_id for c in s.sends] == ["zz-high"]
    [deferred] = [e for e in s.effects if isinstance(e, StepDeferred)]
    assert deferred.scenario_id == "aa-low"


# Local time, quiet hours, holidays.


def email_at_ten(profile: Profile | None) -> SendCommand:
    """The e-mail a day after the order, at 10:00 local, to a customer of ``profile``."""
    daily = scenario(
        "a",
        steps="""
      - id: first
        wait: {after: 1d, at: "10:00"}
        channel: email
        template: t
        recommendations: [R1]
    """,
    )
    s = sim(daily, profile=profile)
    s.order("o1", line("a"))
    s.advance(3 * DAY)
    [send] = s.sends
    return send


def test_new_york_and_paris_customers_both_get_at_ten_at_ten_local() -> None:
    for zone in (PARIS, NEW_YORK):
        sent = local(email_at_ten(Profile(timezone=zone.key)).created_at, zone)
        assert (sent.hour, sent.minute) == (10, 0), zone.key


def test_the_scenario_zone_is_the_default_of_customers_without_one() -> None:
    assert local(email_at_ten(None).created_at).hour == 10


NO_SMS_AT_NIGHT = """
    quiet_hours:
      sms: {from: "21:00", to: "08:00", days_off: [saturday, sunday], holidays: true}
"""


def sms_at(clock: str) -> Scenario:
    """An SMS a day after the order, at ``clock``; it may wait up to 5 days."""
    return scenario(
        "a",
        expiry="5d",
        steps=f"""
      - id: first
        wait: {{after: 1d, at: "{clock}"}}
        channel: sms
        template: t
        recommendations: [R1]
    """,
    )


@pytest.mark.parametrize("zone", [PARIS, NEW_YORK])
def test_quiet_hours_across_midnight_defer_to_their_end_in_local_time(zone: ZoneInfo) -> None:
    s = sim(
        sms_at("22:30"),
        rules=policies(NO_SMS_AT_NIGHT),
        profile=Profile(consent={"sms": True}, timezone=zone.key),
        now=at("2026-11-17T12:00", zone),  # a Tuesday
    )
    s.order("o1", line("a"))
    s.advance(3 * DAY)
    [send] = s.sends
    assert local(send.created_at, zone) == datetime(2026, 11, 19, 8, 0, tzinfo=zone)
    assert local(send.deferred_from or 0, zone) == datetime(2026, 11, 18, 22, 30, tzinfo=zone)
    assert send.deferral_reasons == ("quiet_hours",)


def sms_sent(clock: str, ordered: str, country: str = "FR") -> SendCommand:
    """The SMS ``sms_at(clock)`` sends to a customer of ``country`` who ordered at
    ``ordered`` (Paris time), under ``NO_SMS_AT_NIGHT``."""
    s = sim(
        sms_at(clock),
        rules=policies(NO_SMS_AT_NIGHT),
        profile=Profile(consent={"sms": True}, country=country),
        now=at(ordered),
    )
    s.order("o1", line("a"))
    s.advance(6 * DAY)
    [send] = s.sends
    return send


def test_quiet_hours_after_midnight_defer_to_the_same_morning() -> None:
    # due Thursday 06:15 (a day after the order, then the next 06:15): sent at 08:00
    send = sms_sent("06:15", "2026-11-17T12:00")
    assert local(send.created_at) == datetime(2026, 11, 19, 8, 0, tzinfo=PARIS)


def test_a_french_public_holiday_moves_an_sms_to_the_next_business_day() -> None:
    # 2026-05-08, a Friday, is a public holiday in France (Victoire 1945), not in the US.
    french = sms_sent("10:00", "2026-05-07T08:00", "FR")
    assert local(french.created_at) == datetime(2026, 5, 11, 8, 0, tzinfo=PARIS), "Monday"
    assert french.deferral_reasons == ("holiday", "day_off", "quiet_hours")
    american = sms_sent("10:00", "2026-05-07T08:00", "US")
    assert local(american.created_at) == datetime(2026, 5, 8, 10, 0, tzinfo=PARIS)
    assert american.deferral_reasons == ()


def test_business_days_skip_weekends_and_holidays() -> None:
    two_business_days = scenario(
        "a",
        steps="""
      - id: first
        wait: {after: 2d, business_days: true, at: "09:30"}
        channel: email
        template: t
        recommendations: [R1]
    """,
    )
    s = sim(two_business_days, now=at("2026-05-07T12:00"))  # Thursday; Friday is a holiday
    s.order("o1", line("a"))
    s.advance(10 * DAY)
    assert local(s.sends[0].created_at) == datetime(2026, 5, 12, 9, 30, tzinfo=PARIS)


# Consent and channels.


def sms_or_email(**kwargs: object) -> Scenario:
    return scenario("a", channel="[sms, email]", **kwargs)  # type: ignore[arg-type]


def test_without_sms_consent_the_fallback_channel_is_used() -> None:
    s = sim(sms_or_email())  # no profile: e-mail only, by the defaults
    s.order("o1", line("a"))
    s.advance(DAY)
    assert [c.channel for c in s.sends] == ["email"]

    agreed = sim(sms_or_email(), profile=Profile(consent={"sms": True}))
    agreed.order("o1", line("a"))
    agreed.advance(DAY)
    assert [c.channel for c in agreed.sends] == ["sms"]


def test_push_needs_the_app() -> None:
    s = sim(
        scenario("a", channel="[push, email]"),
        profile=Profile(consent={"push": True}, has_app=False),
    )
    s.order("o1", line("a"))
    s.advance(DAY)
    assert [c.channel for c in s.sends] == ["email"]


def test_no_allowed_channel_sends_nothing_and_says_why() -> None:
    s = sim(scenario("a", channel="sms"), profile=Profile(consent={"email": True}))
    s.order("o1", line("a"))
    s.advance(DAY)
    assert s.sends == []
    assert dropped(s) == [("a", "no_consent")]

    no_app = sim(scenario("a", channel="push"), profile=Profile(consent={"push": True}))
    no_app.order("o1", line("a"))
    no_app.advance(DAY)
    assert dropped(no_app) == [("a", "no_app")]


def test_a_consent_withdrawn_mid_scenario_stops_the_later_sends_on_that_channel() -> None:
    two_sms = scenario(
        "a",
        steps="""
      - id: first
        wait: 1h
        channel: sms
        template: t
        recommendations: [R1]
      - id: second
        wait: 2d
        channel: sms
        template: t
        recommendations: [R1]
    """,
    )
    s = sim(two_sms, profile=Profile(consent={"sms": True}))
    s.order("o1", line("a"))
    s.advance(DAY)
    assert [c.step_id for c in s.sends] == ["first"]
    s.profile = Profile(consent={"sms": False})
    s.advance(3 * DAY)
    assert [c.step_id for c in s.sends] == ["first"]
    assert dropped(s) == [("a", "no_consent")]


def test_an_unsubscribed_customer_s_instances_end_and_none_starts() -> None:
    s = sim(scenario("a", wait="2d"), profile=Profile())
    s.order("o1", line("a"))
    s.profile = Profile(unsubscribed=True)
    s.advance(3 * DAY)
    assert s.sends == []
    assert [e.reason for e in s.effects if isinstance(e, ExitInstance)] == ["unsubscribed"]
    s.order("o2", line("a"))
    assert not [e for e in s.effects if isinstance(e, StartInstance) and ":o2" in e.instance_id]


def consent(s: Simulation, channel: str | None, granted: bool, ago: float = 0.0) -> None:
    s.feed(Consent(s.event_id(), s.customer, s.now - ago, channel, granted, None))


def test_an_unsubscribe_event_ends_every_instance_until_consent_is_given_again() -> None:
    s = sim(scenario("a", wait="2d"), scenario("b", wait="2d"))
    s.order("o1", line("a"), line("b"))
    consent(s, None, False)
    ended = [e.reason for e in s.effects if isinstance(e, ExitInstance)]
    assert ended == ["unsubscribed", "unsubscribed"]
    s.order("o2", line("a"))
    s.advance(3 * DAY)
    assert s.sends == [], "no instance starts while unsubscribed"
    consent(s, None, True)
    s.order("o3", line("a"))
    s.advance(3 * DAY)
    assert [c.order_id for c in s.sends] == ["o3"]


def test_a_consent_event_on_one_channel_wins_over_the_profile_and_late_ones_do_not() -> None:
    s = sim(sms_or_email(), profile=Profile(consent={"sms": True}))
    consent(s, "sms", False)
    consent(s, "sms", True, ago=60.0)  # an older event read late: ignored
    s.order("o1", line("a"))
    s.advance(DAY)
    assert [c.channel for c in s.sends] == ["email"], "the SMS was withdrawn by the event"
    given = sim(sms_or_email())  # no profile: SMS is off by default
    consent(given, "sms", True)
    given.order("o1", line("a"))
    given.advance(DAY)
    assert [c.channel for c in given.sends] == ["sms"], "given by the event"


def test_consent_events_survive_the_stored_state() -> None:
    s = sim(scenario("a"))
    consent(s, "push", False)
    consent(s, None, False)
    assert s.state is not None
    assert CustomerState.from_json(s.state.to_json()).consents == {
        "push": [False, s.now],
        "*": [False, s.now],
    }


def test_a_message_to_the_seller_needs_no_consent_and_ignores_quiet_hours() -> None:
    till = scenario(
        "a",
        steps="""
      - id: till
        wait: 0s
        to: seller
        channel: push
        template: t
        recommendations: [R1]
    """,
    )
    rules = policies('quiet_hours: {push: {from: "00:00", to: "23:59"}}')
    s = sim(till, rules=rules, profile=Profile(consent={"email": False}))
    s.order("o1", line("a"), channel="store")
    assert [c.channel for c in s.sends] == ["push"]
    assert s.state is not None
    assert s.state.sends == [], "not counted for the customer's pressure"


# Recommendations.


def test_products_already_bought_are_not_recommended() -> None:
    s = sim(scenario("a", recommendations="[R1, R2, R3]"))
    s.order("o0", ("R2", "already bought", "accessory", 500))
    s.order("o1", line("a"))
    s.advance(DAY)
    assert s.sends[0].recommendations == ("R1", "R3")


def test_a_product_with_compatibility_rules_goes_only_to_orders_it_fits() -> None:
    s = sim(scenario("a", recommendations="[PODS, CAPSULES, DESCALER]"))
    s.engine.fits = {
        "PODS": frozenset({"POD-MACHINE"}),
        "CAPSULES": frozenset({"OTHER-MACHINE", "category:a"}),
    }
    s.order("o1", line("a"))  # SKU-a, of category a: the capsules fit it by category
    s.advance(DAY)
    assert s.sends[0].recommendations == ("CAPSULES", "DESCALER")
    other = sim(scenario("b", category="b", recommendations="[PODS, CAPSULES]"))
    other.engine.fits = {"PODS": frozenset({"POD-MACHINE"})}
    other.order("o1", ("POD-MACHINE", "a pod machine", "b", 9900))
    other.advance(DAY)
    assert other.sends[0].recommendations == ("PODS", "CAPSULES")


def test_a_step_left_with_nothing_to_recommend_sends_nothing() -> None:
    s = sim(scenario("a", recommendations="[R1]"))
    s.order("o0", ("R1", "already bought", "accessory", 500))
    s.order("o1", line("a"))
    s.advance(DAY)
    assert s.sends == []
    assert dropped(s) == [("a", "nothing_to_recommend")]


def test_a_pick_prefers_products_not_recommended_yet_and_matching_attributes() -> None:
    picks = scenario(
        "a",
        steps="""
      - id: first
        wait: 1h
        channel: email
        template: t
        recommendations:
          pick: 2
          from:
            - {sku: SERUM-DRY, if: {skin_type: dry}}
            - {sku: SERUM-OILY, if: {skin_type: oily}}
            - BRUSH
            - MASK
      - id: second
        wait: 1d
        channel: email
        template: t
        recommendations:
          pick: 2
          from: [BRUSH, MASK, NOVELTY]
    """,
    )
    s = sim(picks, profile=Profile(attributes={"skin_type": "dry"}))
    s.order("o1", line("a"))
    s.advance(3 * DAY)
    assert [c.recommendations for c in s.sends] == [
        ("SERUM-DRY", "BRUSH"),
        ("MASK", "NOVELTY"),
    ]


# Entry rules.


def test_a_renewal_of_the_same_subscription_starts_no_second_onboarding() -> None:
    s = Simulation()
    s.order("o1", HR_SUITE, channel="b2b", subscription=("annual", 1), subscription_id="S-1")
    s.advance(30 * DAY)
    first = [e for e in s.effects if isinstance(e, StartInstance)]
    assert len(first) == 1
    s.advance(300 * DAY)
    s.order("o2", HR_SUITE, channel="b2b", subscription=("annual", 2), subscription_id="S-1")
    assert len([e for e in s.effects if isinstance(e, StartInstance)]) == 1
    s.order("o3", HR_SUITE, channel="b2b", subscription=("annual", 1), subscription_id="S-2")
    assert len([e for e in s.effects if isinstance(e, StartInstance)]) == 2, "a new subscription"


def test_the_shipped_scenarios_and_policies_load() -> None:
    assert {s.id for s in SCENARIOS} >= {"b2b-onboarding-options", "in-store-bike"}
