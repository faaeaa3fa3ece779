"""``rebound report``: one HTML page, from a replay's prediction (``rebound replay --json``),
a Prometheus server or a running worker's metrics (``streams.edge.prometheus``): each
scenario's conversion rate against its control group with the uplift's uncertainty, each
step and variant's sends, open, click and conversion rates, revenue and average basket, the
funnels, sends per day and channel, and what the policies deferred or suppressed.

The page is self-contained: inline SVG drawn here, no script, no font or stylesheet fetched,
so it opens offline and can be mailed or attached to a ticket.
"""

from __future__ import annotations

import argparse
import html
import json
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from streams.engine.experiments import CONTROL, TREATMENT
from streams.exceptions import ConfigurationError
from streams.tools.uplift import Results, Uplift, compare

NAME = "report"
SUMMARY = "the uplift, rates, revenue and funnels: from a replay, Prometheus or a worker"
ENV: tuple[str, ...] = ()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("prediction", type=Path, nargs="?", help="a `rebound replay --json` file")
    source.add_argument(
        "--prometheus",
        metavar="URL",
        help="a Prometheus server scraping the workers, e.g. http://prometheus:9090: every"
        " pod's counts over --window, restarts included",
    )
    source.add_argument(
        "--metrics", help="one worker's metrics URL, e.g. http://127.0.0.1:6066/metrics"
    )
    parser.add_argument("--window", default="30d", help="with --prometheus: how far back")
    parser.add_argument(
        "--step",
        default="1m",
        help="with --prometheus: the resolution counters are read at; at most the scrape"
        " interval counts exactly across restarts",
    )
    parser.add_argument(
        "--selector",
        default="",
        help="with --prometheus: label matchers of the workers' series, e.g."
        ' \'namespace="shop",job="rebound-metrics"\'',
    )
    parser.add_argument(
        "--output",
        "-o",
        type=Path,
        default=Path("rebound-report.html"),
        help="where the page is written",
    )
    parser.add_argument("--title", default="Rebound report", help="the page's title")


def run(args: argparse.Namespace) -> None:
    if args.prometheus or args.metrics:
        from streams.edge.prometheus import from_metrics, from_prometheus

        if args.prometheus:
            data = from_prometheus(args.prometheus, args.window, args.step, args.selector)
        else:
            data = from_metrics(args.metrics)
    else:
        try:
            data = json.loads(args.prediction.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"{args.prediction}: not a replay's prediction ({exc})"
            ) from exc
    args.output.write_text(render(data, args.title), encoding="utf-8")
    print(f"report written to {args.output}")


CHANNEL_COLOURS = {"email": "#2f6fdf", "sms": "#e08a1e", "push": "#2a9d5c"}
OTHER_COLOUR = "#7a5cc0"
DEFERRED_COLOUR = "#e0b31e"
DROPPED_COLOUR = "#c8453c"
FUNNEL_COLOUR = "#4a7fb0"
CONVERSION_COLOUR = "#2a9d5c"
CONTROL_COLOUR = "#8b93a3"


def render(data: dict[str, Any], title: str = "Rebound report") -> str:
    """The HTML page of a prediction, or of ``report_sources``' reading of a worker or of
    Prometheus."""
    results = Results(data.get("funnel", {}))
    when = data.get("first_event"), data.get("last_event")
    subtitle = (
        f"Replay of events from {when[0][:10]} to {when[1][:10]}, timers run to "
        f"{str(data.get('until'))[:10]}"
        if when[0] and when[1]
        else f"From {data.get('source', 'a worker')}"
    )
    facts = results.facts()
    if data.get("events") is not None:
        facts.insert(0, ("events replayed", f"{data['events']:,}"))
    sections = [
        _section("Uplift per scenario", "uplift", _uplift_table(results)),
        _section("Steps and variants", "variants", _variants_table(results)),
        _section("Funnel per scenario", "funnel", _funnels(results)),
        _section("Sends per day", "sends-per-day", _sends_per_day(data.get("sends", []))),
        _section("Deferred and suppressed, by reason", "deferrals", _deferrals(results)),
        _section("How to read uplift", "reading", READING),
    ]
    stamp = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    cards = "".join(
        f'<div class="fact"><b>{html.escape(value)}</b><span>{html.escape(name)}</span></div>'
        for name, value in facts
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2330; }}
h1 {{ margin: 0 0 4px; font-size: 22px; }} h2 {{ font-size: 16px; margin: 28px 0 8px; }}
.sub {{ color: #5b6475; margin-bottom: 16px; }}
.facts {{ display: flex; flex-wrap: wrap; gap: 16px; }}
.fact {{ border: 1px solid #d8dce4; border-radius: 6px; padding: 8px 14px; }}
.fact b {{ display: block; font-size: 20px; }} .fact span {{ color: #5b6475; }}
table {{ border-collapse: collapse; }}
td, th {{ border-bottom: 1px solid #e3e6ec; padding: 4px 10px; text-align: right; }}
td:first-child, th:first-child, td.text {{ text-align: left; }}
th {{ color: #5b6475; font-weight: 600; }}
.significant {{ color: #1f7a45; font-weight: 600; }} .pending {{ color: #8a6d1e; }}
svg text {{ font: 12px system-ui, sans-serif; fill: #1d2330; }}
.empty {{ color: #5b6475; font-style: italic; }}
</style></head><body>
<h1>{html.escape(title)}</h1><div class="sub">{html.escape(subtitle)}; made {stamp}</div>
<div class="facts">{cards}</div>
{"".join(sections)}
</body></html>
"""


READING = """<p>Each scenario holds out a share of the customers who enter it (its
<code>holdout</code>, and the programme's <code>control_group</code>): they go through the
scenario silently, on the same schedule and rules, and get nothing. Their conversion rate is
what the scenario's customers would have done anyway. <b>Uplift</b> is the treated rate minus
the control rate, in percentage points, with its 95% confidence interval (Newcombe's, from
statsmodels): when the interval excludes 0 the difference is <span class="significant">
significant</span>; otherwise it may be chance, and the table says about how many more
customers, at the current split, would show the observed difference with 80% power.
<b>Incremental revenue</b> is the treated group's attributed revenue minus what the control
group's revenue per customer predicts for as many customers. A variant's rate is its
conversions (the purchase followed it, and no later step: last touch) over its sends; it is
compared with the control group's instances that reached the same step silently and the
purchases that followed those.</p>"""


def _section(title: str, ident: str, body: str) -> str:
    return f'<h2>{html.escape(title)}</h2><div id="{ident}">{body}</div>\n'


def _colour(channel: str) -> str:
    return CHANNEL_COLOURS.get(channel, OTHER_COLOUR)


def _sends_per_day(sends: list[dict[str, Any]]) -> str:
    if not sends:
        return '<p class="empty">no command</p>'
    per_day: dict[str, Counter[str]] = {}
    for row in sends:
        per_day.setdefault(row["day"], Counter())[row["channel"]] += row["count"]
    days = _every_day(sorted(per_day))
    channels = sorted({row["channel"] for row in sends})
    top = max(sum(c.values()) for c in per_day.values())
    width, height, left, bottom = 900, 260, 50, 40
    slot = (width - left - 10) / len(days)
    bar = max(2.0, min(40.0, slot * 0.7))
    parts = [f'<svg width="{width}" height="{height + 30}" role="img" aria-label="sends">']
    parts.append(
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" '
        'stroke="#999"/>'
    )
    parts.append(f'<text x="{left - 6}" y="16" text-anchor="end">{top}</text>')
    for i, day in enumerate(days):
        x = left + i * slot + (slot - bar) / 2
        y = float(height - bottom)
        for channel in channels:
            count = per_day.get(day, Counter())[channel]
            if not count:
                continue
            h = (height - bottom - 10) * count / top
            y -= h
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{_colour(channel)}"><title>{day} {channel}: {count}</title></rect>'
            )
        if len(days) <= 16 or i % max(1, len(days) // 12) == 0:
            label = html.escape(day[5:] if day[:2] == "20" else day)  # 11-23, or "since start"
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{label}</text>'
            )
    parts += _legend([(c, _colour(c)) for c in channels], left, height + 16)
    parts.append("</svg>")
    return "".join(parts)


def _every_day(days: list[str]) -> list[str]:
    """The days from the first to the last, those without a send included."""
    try:
        first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    except ValueError:
        return days  # not dates: a worker's "since start"
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _legend(items: Iterable[tuple[str, str]], x: float, y: float) -> list[str]:
    out = []
    for name, colour in items:
        out.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{x + 16}" y="{y}">{html.escape(name)}</text>')
        x += 30 + 8 * len(name)
    return out


def _hbars(rows: list[tuple[str, int, str]], width: int = 900) -> str:
    """Horizontal bars: (label, value, colour)."""
    if not rows:
        return '<p class="empty">none</p>'
    top = max(value for _, value, _ in rows) or 1
    label_w, line = 300, 22
    parts = [f'<svg width="{width}" height="{line * len(rows) + 8}" role="img">']
    for i, (label, value, colour) in enumerate(rows):
        y = 4 + i * line
        w = (width - label_w - 60) * value / top
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 14}" text-anchor="end">{html.escape(label)}</text>'
        )
        parts.append(
            f'<rect class="bar" x="{label_w}" y="{y + 2}" width="{max(w, 1):.1f}" '
            f'height="16" fill="{colour}"/>'
        )
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 14}">{value:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(header: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f'<p class="empty">{html.escape(empty)}</p>'
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cell for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(text: str, css: str = "") -> str:
    return f'<td class="{css}">{html.escape(text)}</td>' if css else f"<td>{html.escape(text)}</td>"


def _verdict_cell(uplift: Uplift | None, missing: str) -> str:
    if uplift is None:
        return _cell(missing, "text pending")
    return _cell(uplift.verdict(), "text significant" if uplift.significant else "text pending")


def _uplift_table(results: Results) -> str:
    rows = []
    for scenario in results.scenarios():
        treated, control = results.started(scenario, TREATMENT), results.started(scenario, CONTROL)
        t_conv, c_conv = (
            results.converted(scenario, TREATMENT),
            results.converted(scenario, CONTROL),
        )
        uplift = compare(treated, t_conv, control, c_conv)
        rows.append(
            [
                _cell(scenario, "text"),
                _cell(f"{treated:,}"),
                _cell(f"{t_conv:,} ({_rate(t_conv, treated)})"),
                _cell(f"{control:,}"),
                _cell(f"{c_conv:,} ({_rate(c_conv, control)})"),
                _verdict_cell(uplift, "no control group: set a holdout to measure uplift"),
                _cell(results.incremental_revenue(scenario), "text"),
            ]
        )
    header = [
        "scenario",
        "treated",
        "converted",
        "control",
        "converted",
        "uplift (conversion rate)",
        "incremental revenue",
    ]
    return _table(header, rows, "no instance")


def _variants_table(results: Results) -> str:
    rows = []
    for scenario, step, variant in results.steps():
        sent = results.sum("sent", scenario=scenario, step=step, variant=variant)
        opened = results.sum("opened", scenario=scenario, step=step, variant=variant)
        clicked = results.sum("clicked", scenario=scenario, step=step, variant=variant)
        converted = results.sum(
            "converted", scenario=scenario, group=TREATMENT, step=step, variant=variant
        )
        money = {"scenario": scenario, "group": TREATMENT, "step": step, "variant": variant}
        uplift = results.step_uplift(scenario, step, variant)
        rows.append(
            [
                _cell(scenario, "text"),
                _cell(step, "text"),
                _cell(variant or "-", "text"),
                _cell(f"{sent:,}"),
                _cell(f"{opened:,} ({_rate(opened, sent)})"),
                _cell(f"{clicked:,} ({_rate(clicked, sent)})"),
                _cell(f"{converted:,} ({_rate(converted, sent)})"),
                _cell(results.money("revenue", **money), "text"),
                _cell(results.average_basket(**money), "text"),
                _verdict_cell(uplift, "no control group"),
            ]
        )
    header = [
        "scenario",
        "step",
        "variant",
        "sent",
        "opened",
        "clicked",
        "converted",
        "revenue",
        "average basket",
        "against the control group",
    ]
    return _table(header, rows, "no step ran")


def _funnels(results: Results) -> str:
    out = []
    for scenario in results.scenarios():
        rows = [("started", results.started(scenario, TREATMENT), FUNNEL_COLOUR)]
        steps = dict.fromkeys(step for s, step, _ in results.steps() if s == scenario)
        for step in steps:  # each once, in order, whatever its variants
            rows.append(
                (f"sent: {step}", results.sum("sent", scenario=scenario, step=step), FUNNEL_COLOUR)
            )
            for field in ("opened", "clicked"):
                count = results.sum(field, scenario=scenario, step=step)
                rows.append((f"{field}: {step}", count, FUNNEL_COLOUR))
        rows.append(("converted", results.converted(scenario, TREATMENT), CONVERSION_COLOUR))
        control = results.started(scenario, CONTROL)
        if control:
            rows.append(("control group: entered", control, CONTROL_COLOUR))
            converted = results.converted(scenario, CONTROL)
            rows.append(("control group: converted", converted, CONTROL_COLOUR))
        out.append(f"<h3>{html.escape(scenario)}</h3>{_hbars(rows)}")
    return "".join(out) or '<p class="empty">no instance</p>'


def _deferrals(results: Results) -> str:
    deferred: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    for row in results.funnel.get("deferred", []):
        deferred[row["reason"]] += row["value"]
    for row in results.funnel.get("dropped", []):
        dropped[row["reason"]] += row["value"]
    rows = [(f"deferred: {r}", n, DEFERRED_COLOUR) for r, n in deferred.most_common()]
    rows += [(f"suppressed: {r}", n, DROPPED_COLOUR) for r, n in dropped.most_common()]
    return _hbars(rows)


def _rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"
