"""``rebound replay EVENTS``: a scenario folder run over recorded events on simulated time
(``streams.tools.simulation``), printed: sends per day, scenario and step, instances and
conversions, deferrals and drops; ``--customer`` a customer's decisions, ``--compare`` what a
change of the folder adds, removes and moves, ``--json`` the prediction for ``rebound report``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from streams.engine import Engine
from streams.engine.context import Profile
from streams.engine.experiments import CONTROL, GROUPS, TREATMENT
from streams.exceptions import ConfigurationError
from streams.pipeline.ports import Product
from streams.scenarios import load_engine
from streams.scenarios.catalog import file_fits, read_catalog
from streams.scenarios.profile_files import read_profiles
from streams.tools.simulation import Prediction, read_events, replay

NAME = "replay"
SUMMARY = (
    "run a scenario folder over recorded events on simulated time, without Kafka or Redis,"
    " and print what it would send"
)
ENV = ("REBOUND_SCENARIOS_DIR",)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "events",
        type=Path,
        help="JSON Lines (a kind and an event's fields "
        "per line) or an Avro container file (.avro) of one event topic's records",
    )
    parser.add_argument(
        "--scenarios", type=Path, help="the scenarios' folder (REBOUND_SCENARIOS_DIR)"
    )
    parser.add_argument(
        "--profiles",
        type=Path,
        help="customer profiles, CSV or JSON Lines "
        "as `rebound profiles` reads (none: every customer has the defaults)",
    )
    parser.add_argument(
        "--catalog",
        type=Path,
        help="the catalog, for its products and compatibility rules "
        "(default: the scenarios' folder's catalog.yaml, if any)",
    )
    parser.add_argument(
        "--days-after",
        type=float,
        default=30.0,
        help="days of simulated time run after the last event, for the timers",
    )
    parser.add_argument(
        "--json", type=Path, help="also write the prediction there, for `rebound report`"
    )
    parser.add_argument(
        "--customer",
        metavar="ID",
        help="also print every decision for this customer, in time order (command ids included)",
    )
    parser.add_argument(
        "--compare",
        metavar="OLD_FOLDER",
        type=Path,
        help="run the same events through this scenario folder too, and print what the"
        " --scenarios folder adds, removes and moves",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> None:
    from streams.settings import Settings
    from streams.tools.replay_compare import compare
    from streams.tools.replay_trace import CustomerTrace

    folder = args.scenarios or Path(Settings.from_env().scenarios_dir)
    profiles: dict[str, Profile] = {}
    if args.profiles is not None:
        if not args.profiles.is_file():
            raise ConfigurationError(f"{args.profiles}: no such file")
        profiles, bad = read_profiles(args.profiles)
        for number, problem in bad:
            print(f"{args.profiles}:{number}: {problem} (skipped)", file=sys.stderr)
    if not args.events.is_file():
        raise ConfigurationError(f"{args.events}: no such file")
    engine, products = _replay_engine(folder, args.catalog)
    trace = None
    if args.customer:
        trace = CustomerTrace(args.customer, engine, profiles.get(args.customer))
    prediction = replay(
        engine,
        read_events(args.events),
        profiles,
        days_after=args.days_after,
        progress=not args.quiet,
        report=lambda number, problem: print(
            f"{args.events}:{number}: {problem} (skipped)", file=sys.stderr
        ),
        watch=trace,
        catalog=products,
    )
    print("\n".join(summary(prediction)))
    if trace is not None:
        print(f"\ndecisions for customer {args.customer}:")
        print("\n".join(trace.lines) or "  none: no event of this customer")
    if args.compare is not None:
        old_engine, old_products = _replay_engine(args.compare, args.catalog)
        old = replay(
            old_engine,
            read_events(args.events),
            profiles,
            days_after=args.days_after,
            catalog=old_products,
        )
        print(f"\n--compare: {args.compare} (before) against {folder} (after)")
        print("\n".join(compare(old, prediction)))
    if args.json is not None:
        args.json.write_text(json.dumps(prediction.to_json(), indent=1) + "\n")
        print(f"prediction written to {args.json} (`rebound report {args.json}`)")


def _replay_engine(folder: Path, catalog_file: Path | None) -> tuple[Engine, dict[str, Product]]:
    """The engine of a scenario folder, with the compatibility rules of its catalog, and the
    catalog's products (none without a catalog)."""
    engine = load_engine(folder)
    catalog = catalog_file or folder / "catalog.yaml"
    products: dict[str, Product] = {}
    if catalog_file is not None or catalog.exists():
        if not catalog.is_file():
            raise ConfigurationError(f"{catalog}: no such file")
        engine.fits = file_fits(catalog)
        products = {
            p.sku: Product(p.sku, p.name, p.price, p.currency, p.url)
            for p in read_catalog(catalog).products
        }
    return engine, products


def summary(prediction: Prediction) -> list[str]:
    """The prediction as the terminal shows it."""
    p = prediction
    out = [
        f"replayed {p.events:,} events of {p.customers:,} customers"
        f" ({len(p.bad):,} bad lines skipped)"
        + (f", from {_day(p.first_event)} to {_day(p.last_event)}; timers run to {_day(p.until)}"
           if p.first_event is not None else "")
    ]  # fmt: skip
    channels = sorted({key[1] for key in p.sends})
    out += [
        "",
        "sends per day:",
        "  " + "  ".join([f"{'day':<10}", *(f"{c:>6}" for c in channels), " total"]),
    ]
    by_day: dict[str, Counter[str]] = {}
    for (day, channel, _, _), count in p.sends.items():
        by_day.setdefault(day, Counter())[channel] += count
    for day in sorted(by_day):
        cells = [f"{by_day[day][c]:>6}" for c in channels]
        out.append("  " + "  ".join([day, *cells, f"{sum(by_day[day].values()):>6}"]))
    total = Counter[str]()
    for (_, channel, _, _), count in p.sends.items():
        total[channel] += count
    out.append(
        "  "
        + "  ".join(
            [f"{'total':<10}", *(f"{total[c]:>6}" for c in channels), f"{sum(total.values()):>6}"]
        )
    )
    out += ["", "sends per scenario and step:"]
    per_step: Counter[tuple[str, str, str]] = Counter()
    for (_, channel, scenario, step), count in p.sends.items():
        per_step[(scenario, step, channel)] += count
    out += [f"  {s:<28} {st:<20} {c:<6} {n:>7}" for (s, st, c), n in sorted(per_step.items())]
    counts = p.funnel.counts
    out += ["", "instances (treatment / control: held out), converted, revenue:"]
    for scenario in sorted({key[0] for key in counts["started"]}):
        started = {g: counts["started"][(scenario, g)] for g in GROUPS}
        converted = {
            g: sum(n for k, n in counts["converted"].items() if k[:2] == (scenario, g))
            for g in GROUPS
        }
        ended = ", ".join(
            f"{r} {n}" for (s, r), n in sorted(counts["ended"].items()) if s == scenario
        )
        revenue = ", ".join(
            f"{n:,} {k[4]}" for k, n in sorted(counts["revenue"].items()) if k[0] == scenario
        )
        out.append(
            f"  {scenario:<28} started {started[TREATMENT]:>6} / {started[CONTROL]:>5};"
            f" converted {converted[TREATMENT]} / {converted[CONTROL]};"
            f" ended: {ended or 'none'}; revenue (minor units): {revenue or 'none'}"
        )
    out += ["", "deferred (a step waited for the next allowed moment):"]
    out += [
        f"  {s:<28} {st:<20} {v or '-':<8} {r:<12} {n:>7}"
        for (s, st, v, r), n in sorted(counts["deferred"].items())
    ] or ["  none"]
    out += ["", "suppressed (a step due sent nothing):"]
    out += [
        f"  {s:<28} {st:<20} {v or '-':<8} {r:<20} {n:>7}"
        for (s, st, v, r), n in sorted(counts["dropped"].items())
    ] or ["  none"]
    out += ["", f"timers still waiting at the end: {p.waiting:,}"]
    return out


def _day(at: float | None) -> str:
    return "-" if at is None else datetime.fromtimestamp(at, tz=UTC).date().isoformat()
