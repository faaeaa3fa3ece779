"""Where ``rebound report`` reads its counts: a Prometheus server (every pod, across restarts),
or one worker's ``/metrics`` (its totals since it started). A replay's prediction is the
third source (``rebound replay --json``). All three give the same shape: ``sends`` (rows of
day, channel, scenario, step, count) and ``funnel`` (``Funnel.rows``: per field of
``streams.metrics.FUNNEL_METRICS``, rows of its labels and a ``value``).

Totals from Prometheus are exact, not extrapolated: PromQL's ``increase`` extrapolates to
the window's ends (3 commands may read 3.4). Each counter is read as the sum of its steps
over a subquery, ``sum_over_time(((m - m offset S) >= 0 or (m + 0))[window:S])``: between two
steps a counter adds what it grew by; after a restart (it fell, or its series was gone) it
adds its new value; a series that appears adds its first value. With ``S`` at most the
scrape interval this counts every increment; with a longer ``S``, what a pod counted in its
last step before a restart is missed.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from streams.exceptions import ConfigurationError
from streams.metrics import FUNNEL_METRICS
from streams.scenarios.durations import parse_duration

SENT = FUNNEL_METRICS["sent"][0] + "_total"


def from_metrics(url: str, timeout_s: float = 10.0) -> dict[str, Any]:
    """A worker's counters (its ``/metrics``): its totals since it started (one pod; no
    days: one bar)."""
    text = _get(url, timeout_s).decode()
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    funnel = {}
    for field, (name, _, labels) in FUNNEL_METRICS.items():
        counts: dict[tuple[str, ...], float] = {}
        for found, value in samples.get(f"{name}_total", []):
            key = tuple(found.get(label, "") for label in labels)
            counts[key] = counts.get(key, 0.0) + value
        funnel[field] = _rows(counts, labels)
    return {"source": url, "sends": _sends_since_start(funnel["sent"]), "funnel": funnel}


def from_prometheus(
    url: str, window: str = "30d", step: str = "1m", selector: str = "", timeout_s: float = 60.0
) -> dict[str, Any]:
    """Every pod's counters over ``window`` up to now, from a Prometheus server's HTTP API
    (``url``: its base, e.g. ``http://prometheus:9090``), restarts included; ``selector``
    narrows the series (``namespace="shop",job="rebound-metrics"``)."""
    for name, value in (("window", window), ("step", step)):
        seconds = parse_duration(value)
        if seconds is None or seconds != int(seconds) or not seconds:
            raise ConfigurationError(f"--{name} {value!r}: expected a duration like 30d, 1m")
    matchers = selector.strip().strip("{}")
    funnel = {}
    for field, (name, _, labels) in FUNNEL_METRICS.items():
        series = f"{name}_total{{{matchers}}}"
        query = f"sum by ({', '.join(labels)}) ({_exact_total(series, window, step)})"
        counts: dict[tuple[str, ...], float] = {}
        for item in _query(url, query, timeout_s):
            metric = item["metric"]
            key = tuple(metric.get(label, "") for label in labels)
            counts[key] = counts.get(key, 0.0) + float(item["value"][1])
        funnel[field] = _rows(counts, labels)
    return {
        "source": f"{url} (last {window})",
        "sends": _sends_per_day(url, f"{SENT}{{{matchers}}}", window, step, timeout_s),
        "funnel": funnel,
    }


def _exact_total(series: str, window: str, step: str) -> str:
    """PromQL: what ``series`` counted over ``window``, exactly (the module's docstring)."""
    # ``+ 0`` drops the metric's name, as the difference does: the two sides are one series.
    growth = f"({series} - {series} offset {step}) >= 0 or ({series} + 0)"
    return f"sum_over_time(({growth})[{window}:{step}])"


def _sends_per_day(
    url: str, series: str, window: str, step: str, timeout_s: float
) -> list[dict[str, Any]]:
    """Commands sent per UTC day and channel, over ``window`` (each day's exact total)."""
    now = datetime.now(tz=UTC)
    end = int(now.timestamp()) // 86400 * 86400 + 86400
    start = end - int(parse_duration(window) or 0) // 86400 * 86400
    query = f"sum by (channel, scenario, step) ({_exact_total(series, '1d', step)})"
    params = {"query": query, "start": start, "end": end, "step": 86400}
    rows = []
    for item in _api(url, "query_range", params, timeout_s):
        metric = item["metric"]
        for at, value in item["values"]:
            if float(value):
                day = datetime.fromtimestamp(float(at) - 1, tz=UTC).date().isoformat()
                labels = (metric.get(k, "") for k in ("channel", "scenario", "step"))
                rows.append(dict(zip(("channel", "scenario", "step"), labels, strict=True)))
                rows[-1] |= {"day": day, "count": round(float(value))}
    return sorted(rows, key=lambda r: (r["day"], r["channel"], r["scenario"], r["step"]))


def _query(url: str, query: str, timeout_s: float) -> list[dict[str, Any]]:
    return _api(url, "query", {"query": query}, timeout_s)


def _api(url: str, path: str, params: dict[str, Any], timeout_s: float) -> list[dict[str, Any]]:
    address = f"{url.rstrip('/')}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    try:
        body = json.loads(_get(address, timeout_s))
    except ValueError as exc:
        raise ConfigurationError(f"{url} did not answer as a Prometheus server ({exc})") from exc
    if body.get("status") != "success":
        raise ConfigurationError(f"Prometheus at {url} refused the query: {body.get('error')}")
    return list(body["data"]["result"])


def _get(url: str, timeout_s: float) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310
            return bytes(response.read())
    except urllib.error.HTTPError as exc:  # Prometheus says why in the body
        raise ConfigurationError(
            f"{url.split('?')[0]} answered {exc.code}: {_reason(exc)}"
        ) from exc
    except OSError as exc:
        raise ConfigurationError(f"cannot read {url.split('?')[0]}: {exc}") from exc


def _reason(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read()).get("error"))
    except (ValueError, OSError):
        return str(error.reason)


def _rows(counts: dict[tuple[str, ...], float], labels: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {**dict(zip(labels, key, strict=True)), "value": round(value)}
        for key, value in sorted(counts.items())
        if value
    ]


def _sends_since_start(sent: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "day": "since start",
            "channel": r["channel"],
            "scenario": r["scenario"],
            "step": r["step"],
            "count": r["value"],
        }
        for r in sent
    ]
