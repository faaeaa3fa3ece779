"""Runs the engine on simulated time, as the worker would: the timers are the ones the stored
record holds (``streams.pipeline.stored.pack``, as the worker stores and schedules them), and
due timers are fed back as inputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from streams.engine import Engine, TimerFired
from streams.engine.context import Profile
from streams.engine.effects import Effect, SendCommand
from streams.engine.events import Click, Delivery, Event, Open, Order, OrderLine
from streams.engine.state import CustomerState
from streams.pipeline.stored import pack, unpack_timers
from streams.scenarios import load_scenarios
from streams.scenarios.catalog import file_fits

SHIPPED = Path(__file__).resolve().parents[3] / "scenarios"
SCENARIOS = load_scenarios(SHIPPED)
FITS = file_fits(SHIPPED / "catalog.yaml")
DAY = 86400.0
T0 = 1_795_000_000.0  # 2026-11-19 (a Thursday), in the afternoon, Paris time


def shipped_engine() -> Engine:
    """The shipped scenarios, with the shipped catalog's compatibility rules."""
    engine = Engine(SCENARIOS)
    engine.fits = FITS
    return engine


@dataclass
class Simulation:
    """One customer, the shipped scenarios, and a clock that only moves when told."""

    customer: str = "c1"
    engine: Engine = field(default_factory=lambda: shipped_engine())
    now: float = T0
    state: CustomerState | None = None
    timers: dict[str, list[float]] = field(default_factory=dict)
    """instance id -> [due_at, version], read back from the stored record."""
    effects: list[Effect] = field(default_factory=list)
    sends: list[SendCommand] = field(default_factory=list)
    serial: int = 0
    profile: Profile | None = None
    """The customer's profile (None: none, the policies' defaults apply)."""

    def feed(self, event: Event | TimerFired) -> list[Effect]:
        context = self.engine.context(self.profile)
        self.state, effects = self.engine.decide(self.state, event, self.now, context)
        self.timers = unpack_timers(pack(0, self.state)[0])[1]
        self.sends += [e for e in effects if isinstance(e, SendCommand)]
        self.effects += effects
        return effects

    def advance(self, seconds: float) -> None:
        """Move the clock, firing every timer that falls due on the way, in order."""
        end = self.now + seconds
        while True:
            due = sorted((t[0], k) for k, t in self.timers.items() if t[0] <= end)
            if not due:
                break
            due_at, instance_id = due[0]
            version = int(self.timers.pop(instance_id)[1])
            self.now = max(self.now, due_at)
            self.feed(TimerFired(self.customer, instance_id, version, due_at))
        self.now = end

    def event_id(self) -> str:
        self.serial += 1
        return f"e{self.serial}"

    def order(
        self,
        order_id: str,
        *lines: tuple[str, str, str, int],
        channel: str = "web",
        subscription: tuple[str, int] | None = None,
        subscription_id: str | None = None,
    ) -> list[Effect]:
        order_lines = tuple(
            OrderLine(sku, name, category, 1, price) for sku, name, category, price in lines
        )
        return self.feed(
            Order(
                self.event_id(),
                self.customer,
                order_id,
                self.now,
                channel,
                "store-1" if channel == "store" else None,
                order_lines,
                sum(line.unit_price for line in order_lines),
                "EUR",
                subscription[0] if subscription else None,
                subscription[1] if subscription else None,
                subscription_id,
            )
        )

    def delivery(self, order_id: str) -> list[Effect]:
        return self.feed(Delivery(self.event_id(), self.customer, order_id, self.now))

    def open(self, command_id: str) -> list[Effect]:
        return self.feed(Open(self.event_id(), self.customer, command_id, "email", self.now))

    def click(self, command_id: str, sku: str | None = None) -> list[Effect]:
        return self.feed(
            Click(self.event_id(), self.customer, command_id, "email", self.now, None, sku)
        )


COFFEE_MACHINE = ("CM-1000", "Barista One coffee machine", "coffee-machine", 34900)
SMARTPHONE = ("PH-PRO-12", "Nova 12 Pro smartphone", "smartphone", 89900)
BIKE = ("BK-CITY-3", "City 3 bike", "bike", 59900)
BEAUTY_BOX = ("BX-BEAUTY", "Glow monthly box", "beauty-box", 2900)
HR_SUITE = ("SW-HR-SUITE", "HR Suite licence", "b2b-software", 120000)
