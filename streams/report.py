"""``rebound report``: one HTML page of charts, from a replay's prediction (``rebound replay
--json``) or from a running worker's metrics (``/metrics``): sends per day and channel, the
funnel of each scenario (started, each step's sends, conversions), and what the policies
deferred or suppressed, by reason.

The page is self-contained: inline SVG drawn here, no script, no font or stylesheet fetched,
so it opens offline and can be mailed or attached to a ticket.
"""

from __future__ import annotations

import html
import urllib.request
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from streams.exceptions import ConfigurationError

CHANNEL_COLOURS = {"email": "#2f6fdf", "sms": "#e08a1e", "push": "#2a9d5c"}
OTHER_COLOUR = "#7a5cc0"
DEFERRED_COLOUR = "#e0b31e"
DROPPED_COLOUR = "#c8453c"
FUNNEL_COLOUR = "#4a7fb0"
CONVERSION_COLOUR = "#2a9d5c"


def from_metrics(url: str, timeout_s: float = 10.0) -> dict[str, Any]:
    """A worker's counters (its ``/metrics``) in the shape of a prediction: the totals since
    the worker started (no days: one bar), commands per channel, not per step."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310
            text = response.read().decode()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the metrics at {url}: {exc}") from exc
    found: dict[str, Counter[tuple[str, ...]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if not sample.name.endswith("_total"):
                continue
            labels = sample.labels
            key = tuple(labels.get(n, "") for n in ("channel", "scenario", "reason", "currency"))
            found.setdefault(sample.name.removesuffix("_total"), Counter())[key] += int(
                sample.value
            )

    def rows(name: str, *fields: str) -> list[dict[str, Any]]:
        names = ("channel", "scenario", "reason", "currency")
        out = []
        for key, value in sorted(found.get(name, Counter()).items()):
            row: dict[str, Any] = {f: key[names.index(f)] for f in fields}
            out.append({**row, "count": int(value)})
        return out

    since = "since start"
    return {
        "source": url,
        "sends": [
            {"day": since, "channel": r["channel"], "scenario": "", "step": "", "count": r["count"]}
            for r in rows("rebound_commands", "channel")
        ],
        "started": rows("rebound_instances_started", "scenario"),
        "ended": rows("rebound_instances_ended", "scenario", "reason"),
        "conversions": rows("rebound_conversions", "scenario"),
        "deferred": [
            {**r, "step": ""} for r in rows("rebound_steps_deferred", "scenario", "reason")
        ],
        "dropped": [{**r, "step": ""} for r in rows("rebound_steps_dropped", "scenario", "reason")],
    }


def render(data: dict[str, Any], title: str = "Rebound report") -> str:
    """The HTML page of a prediction (or of ``from_metrics``)."""
    sends = data.get("sends", [])
    total = sum(r["count"] for r in sends)
    conversions = sum(r["count"] for r in data.get("conversions", []))
    started = sum(r["count"] for r in data.get("started", []))
    facts = [
        ("commands", f"{total:,}"),
        ("instances started", f"{started:,}"),
        ("conversions", f"{conversions:,}"),
    ]
    if data.get("events") is not None:
        facts.insert(0, ("events replayed", f"{data['events']:,}"))
    when = data.get("first_event"), data.get("last_event")
    subtitle = (
        f"Replay of events from {when[0][:10]} to {when[1][:10]}, timers run to "
        f"{str(data.get('until'))[:10]}"
        if when[0] and when[1]
        else f"From {html.escape(str(data.get('source', 'a worker')))}, since it started"
    )
    sections = [
        _section("Sends per day", "sends-per-day", _sends_per_day(sends)),
        _section("Funnel per scenario", "funnel", _funnels(data)),
        _section("Deferred and suppressed, by reason", "deferrals", _deferrals(data)),
    ]
    stamp = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    cards = "".join(
        f'<div class="fact"><b>{value}</b><span>{html.escape(name)}</span></div>'
        for name, value in facts
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1d2330; }}
h1 {{ margin: 0 0 4px; font-size: 22px; }} h2 {{ font-size: 16px; margin: 28px 0 8px; }}
.sub {{ color: #5b6475; margin-bottom: 16px; }}
.facts {{ display: flex; gap: 16px; }}
.fact {{ border: 1px solid #d8dce4; border-radius: 6px; padding: 8px 14px; }}
.fact b {{ display: block; font-size: 20px; }} .fact span {{ color: #5b6475; }}
svg text {{ font: 12px system-ui, sans-serif; fill: #1d2330; }}
.empty {{ color: #5b6475; font-style: italic; }}
</style></head><body>
<h1>{html.escape(title)}</h1><div class="sub">{html.escape(subtitle)}; made {stamp}</div>
<div class="facts">{cards}</div>
{"".join(sections)}
</body></html>
"""


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


def _funnels(data: dict[str, Any]) -> str:
    started = {r["scenario"]: r["count"] for r in data.get("started", [])}
    conversions = {r["scenario"]: r["count"] for r in data.get("conversions", [])}
    steps: dict[str, Counter[str]] = {}
    for row in data.get("sends", []):
        if row.get("scenario"):
            steps.setdefault(row["scenario"], Counter())[row["step"]] += row["count"]
    purchased = {
        r["scenario"]: r["count"] for r in data.get("ended", []) if r["reason"] == "purchased"
    }
    scenarios = sorted(set(started) | set(steps) | set(conversions))
    if not scenarios:
        return '<p class="empty">no instance</p>'
    out = []
    for scenario in scenarios:
        rows = [("started", started.get(scenario, 0), FUNNEL_COLOUR)]
        rows += [
            (f"sent: {step}", n, FUNNEL_COLOUR)
            for step, n in steps.get(scenario, Counter()).items()
        ]
        rows.append(("ended on a purchase", purchased.get(scenario, 0), CONVERSION_COLOUR))
        rows.append(("conversions", conversions.get(scenario, 0), CONVERSION_COLOUR))
        out.append(f"<h3>{html.escape(scenario)}</h3>{_hbars(rows)}")
    return "".join(out)


def _deferrals(data: dict[str, Any]) -> str:
    deferred: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    for row in data.get("deferred", []):
        deferred[row["reason"]] += row["count"]
    for row in data.get("dropped", []):
        dropped[row["reason"]] += row["count"]
    rows = [(f"deferred: {r}", n, DEFERRED_COLOUR) for r, n in deferred.most_common()]
    rows += [(f"suppressed: {r}", n, DROPPED_COLOUR) for r, n in dropped.most_common()]
    return _hbars(rows)
