"""The domain article's examples, run through the shipped scenario files on simulated time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from streams.engine import TimerFired
from streams.engine.context import Profile
from streams.engine.effects import ExitInstance, RecordConversion, SendCommand
from tests.unit.engine.simulation import (
    BEAUTY_BOX,
    BIKE,
    COFFEE_MACHINE,
    DAY,
    HR_SUITE,
    SMARTPHONE,
    Simulation,
)

PARIS = ZoneInfo("Europe/Paris")


def local(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC).astimezone(PARIS)


def coffee_delivered() -> Simulation:
    sim = Simulation()
    sim.order("o1", COFFEE_MACHINE)
    sim.advance(DAY)
    sim.delivery("o1")
    return sim


def test_coffee_email_three_days_after_delivery_at_ten_local_time() -> None:
    sim = coffee_delivered()
    delivered_at = sim.now
    sim.advance(3 * DAY - 3600)
    assert sim.sends == [], "nothing before three days"
    sim.advance(DAY)
    [send] = sim.sends
    sent_at = local(send.created_at)
    assert (sent_at.hour, sent_at.minute) == (10, 0)
    assert 3 * DAY <= send.created_at - delivered_at < 4 * DAY
    assert send.channel == "email"
    assert send.template == "coffee-accessories"
    # The catalog's soft pods fit another machine: not offered for this one.
    assert send.recommendations == ("CAPS-INTENSO-50", "DESCALER-500", "CAPS-BOX")
    assert dict(send.personalisation) == {"product_name": "Barista One coffee machine"}
    assert send.trigger_kind == "delivery"
    assert send.order_id == "o1"


def test_coffee_reminder_five_days_later_only_if_not_opened() -> None:
    unopened = coffee_delivered()
    unopened.advance(4 * DAY)
    first = unopened.sends[0]
    unopened.advance(5 * DAY)
    assert [s.step_id for s in unopened.sends] == ["accessories", "reminder"]
    assert unopened.sends[1].created_at - first.created_at == 5 * DAY

    opened = coffee_delivered()
    opened.advance(4 * DAY)
    opened.open(opened.sends[0].command_id)
    opened.advance(10 * DAY)
    assert [s.step_id for s in opened.sends] == ["accessories"]


def test_smartphone_relaunch_with_offer_only_if_not_clicked() -> None:
    sim = Simulation()
    sim.order("o1", SMARTPHONE)
    sim.advance(3 * DAY)
    [first] = sim.sends
    assert first.recommendations == ("CASE-NOVA-12", "CHARGER-30W")
    assert first.offer is None
    sim.open(first.command_id)  # opened but not clicked: the relaunch still comes
    sim.advance(7 * DAY)
    relaunch = sim.sends[1]
    assert relaunch.step_id == "relaunch"
    assert relaunch.offer is not None
    assert relaunch.offer.code == "NOVA10"

    clicked = Simulation()
    clicked.order("o1", SMARTPHONE)
    clicked.advance(3 * DAY)
    clicked.click(clicked.sends[0].command_id, sku="CASE-NOVA-12")
    clicked.advance(10 * DAY)
    assert len(clicked.sends) == 1


def test_purchase_of_a_recommended_product_stops_the_scenario_and_converts() -> None:
    sim = coffee_delivered()
    sim.advance(4 * DAY)
    sim.advance(DAY)
    effects = sim.order("o2", ("DESCALER-500", "Descaler 500 ml", "care", 990))
    assert sim.timers == {}, "the reminder's timer is no longer stored"
    assert (
        ExitInstance(
            "coffee-machine-after-delivery:o1", "coffee-machine-after-delivery", "purchased"
        )
        in effects
    )
    [conversion] = [e for e in effects if isinstance(e, RecordConversion)]
    assert conversion.revenue == 990
    assert conversion.order_id == "o2"
    sim.advance(30 * DAY)
    assert [s.step_id for s in sim.sends] == ["accessories"], "no reminder after the purchase"


def test_a_second_delivery_of_the_same_order_starts_nothing() -> None:
    sim = coffee_delivered()
    effects = sim.delivery("o1")
    assert effects == []
    sim.advance(20 * DAY)
    assert [s.step_id for s in sim.sends] == ["accessories", "reminder"]


def test_beauty_third_monthly_box_only() -> None:
    sim = Simulation()
    for period in (1, 2):
        sim.order(f"o{period}", BEAUTY_BOX, subscription=("monthly", period))
        sim.advance(30 * DAY)
    assert sim.sends == []
    sim.order("o3", BEAUTY_BOX, subscription=("monthly", 3))
    sim.advance(2 * DAY)
    [send] = sim.sends
    assert send.recommendations == ("SERUM-GLOW-30", "BRUSH-KABUKI", "MASK-NOVELTY")
    assert local(send.created_at).hour == 18


def test_beauty_picks_follow_the_declared_skin_type_and_skip_what_was_bought() -> None:
    sim = Simulation(profile=Profile(attributes={"skin_type": "dry"}))
    brush = ("BRUSH-KABUKI", "Kabuki brush", "beauty-accessory", 1800)
    sim.order("o1", BEAUTY_BOX, subscription=("monthly", 1))
    sim.advance(30 * DAY)
    sim.order("o2", BEAUTY_BOX, brush, subscription=("monthly", 2))
    sim.advance(30 * DAY)
    sim.order("o3", BEAUTY_BOX, subscription=("monthly", 3))
    sim.advance(2 * DAY)
    [send] = sim.sends
    assert send.recommendations == ("SERUM-HYDRA-30", "SERUM-GLOW-30", "MASK-NOVELTY")
    assert send.channel == "email", "push needs the app"


def test_b2b_options_within_ten_days_of_subscribing() -> None:
    sim = Simulation()
    ordered_at = sim.now
    sim.order("o1", HR_SUITE, channel="b2b")
    sim.advance(10 * DAY)
    assert [s.step_id for s in sim.sends] == ["options", "options-reminder"]
    assert all(s.created_at - ordered_at <= 10 * DAY for s in sim.sends)

    web = Simulation()
    web.order("o1", HR_SUITE, channel="web")
    web.advance(10 * DAY)
    assert web.sends == [], "only B2B subscriptions"


def test_in_store_bike_recommends_at_once_to_the_tablet() -> None:
    sim = Simulation()
    effects = sim.order("o1", BIKE, channel="store")
    [send] = [e for e in effects if isinstance(e, SendCommand)]
    assert send.created_at == sim.now
    assert send.channel == "push"
    assert send.recommendations == ("HELMET-URBAN", "PUMP-FLOOR")
    assert send.not_after - send.created_at == 15 * 60


def test_command_ids_are_deterministic() -> None:
    one, two = coffee_delivered(), coffee_delivered()
    one.advance(10 * DAY)
    two.advance(10 * DAY)
    assert [s.command_id for s in one.sends] == [s.command_id for s in two.sends]
    assert len({s.command_id for s in one.sends}) == 2


def test_stale_and_repeated_timer_fires_are_no_ops() -> None:
    sim = coffee_delivered()
    [(instance_id, (due_at, version))] = sim.timers.items()
    stale = TimerFired(sim.customer, instance_id, int(version) - 1, due_at)
    sim.now = due_at
    assert sim.feed(stale) == []
    fire = TimerFired(sim.customer, instance_id, int(version), due_at)
    assert any(isinstance(e, SendCommand) for e in sim.feed(fire))
    assert sim.feed(fire) == [], "the same fire again sends nothing"


def test_a_late_timer_fires_at_once_with_the_original_schedule() -> None:
    sim = coffee_delivered()
    [(instance_id, (due_at, version))] = sim.timers.items()
    sim.now = due_at + 6 * 3600  # the worker was down for six hours
    sim.feed(TimerFired(sim.customer, instance_id, int(version), due_at))
    assert len(sim.sends) == 1
    [(reminder_due_at, _)] = sim.timers.values()
    assert reminder_due_at == sim.now + 5 * DAY


def test_a_delivery_read_before_its_order_still_triggers() -> None:
    """Orders and deliveries are separate topics, read in parallel: a delivery may overtake."""
    sim = Simulation()
    delivered_at = sim.now
    assert sim.delivery("o1") == []
    sim.advance(60)
    sim.order("o1", COFFEE_MACHINE)
    sim.advance(4 * DAY)
    [send] = sim.sends
    assert send.trigger_kind == "delivery"
    assert 3 * DAY <= send.created_at - delivered_at < 4 * DAY
