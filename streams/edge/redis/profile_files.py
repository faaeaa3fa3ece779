"""``rebound profiles FILE``: customer profiles from a CSV or JSON Lines file into Redis.

CSV: a header line, then one customer per line; the columns are ``customer_id`` and the hash
fields of ``streams.edge.redis.profiles`` (``consent.email``, ``has_app``, ``timezone``,
``attr.skin_type``...); an empty cell leaves the field out (its default applies).

JSON Lines: one object per line, ``{"customer_id": "c1", "consent": {"email": true, "sms":
false}, "has_app": true, "timezone": "Europe/Paris", "country": "FR", "language": "fr",
"unsubscribed": false, "attributes": {"skin_type": "dry"}}``, every key but
``customer_id`` optional.

Each line replaces the customer's whole profile. A bad line is reported with its number and
skipped; the others are loaded, a thousand per round trip.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from redis import Redis
from tqdm import tqdm

from streams.edge.redis.profiles import ATTRIBUTE_PREFIX, KEY_PREFIX, parse_profile
from streams.engine.context import Profile

CHUNK = 1000
MAX_REPORTED = 50
"""Bad lines reported one by one at most; the rest are counted."""


@dataclass
class LoadReport:
    loaded: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)
    """(line number, problem) of the lines skipped."""


def load_profiles_file(
    redis: Redis, path: Path, progress: bool = True, report: Callable[[str], None] = print
) -> LoadReport:
    """Load ``path`` (``.csv``, or JSON Lines: ``.jsonl``/``.ndjson``) into Redis."""
    result = LoadReport()
    rows = _rows_of(path)
    with path.open(newline="", encoding="utf-8") as handle:
        bar = tqdm(
            total=path.stat().st_size,
            unit="B",
            unit_scale=True,
            desc=f"profiles from {path.name}",
            disable=not progress,
        )
        chunk: list[tuple[str, dict[str, str]]] = []
        for number, parsed, size in rows(handle):
            bar.update(size)
            if parsed == "":
                continue  # the CSV header
            if isinstance(parsed, str):
                _bad(result, number, parsed, report)
                continue
            customer_id, fields = parsed
            problems = parse_profile(fields)[1]
            if problems:
                _bad(result, number, "; ".join(str(p) for p in problems), report)
                continue
            chunk.append((customer_id, fields))
            if len(chunk) == CHUNK:
                result.loaded += _write(redis, chunk)
                chunk = []
        if chunk:
            result.loaded += _write(redis, chunk)
        bar.close()
    if len(result.bad) > MAX_REPORTED:
        report(f"... and {len(result.bad) - MAX_REPORTED} more bad lines")
    return result


def read_profiles(path: Path) -> tuple[dict[str, Profile], list[tuple[int, str]]]:
    """The profiles of a file, as the worker would read them once loaded (for replays), and
    the bad lines (line number, problem), skipped."""
    profiles: dict[str, Profile] = {}
    bad: list[tuple[int, str]] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for number, parsed, _ in _rows_of(path)(handle):
            if parsed == "":
                continue
            if isinstance(parsed, str):
                bad.append((number, parsed))
                continue
            profile, problems = parse_profile(parsed[1])
            if problems:
                bad.append((number, "; ".join(str(p) for p in problems)))
                continue
            profiles[parsed[0]] = profile
    return profiles, bad


def _rows_of(path: Path) -> Callable[[TextIO], Iterator[Row]]:
    return _csv_rows if path.suffix.lower() == ".csv" else _json_rows


def _bad(result: LoadReport, number: int, problem: str, report: Callable[[str], None]) -> None:
    result.bad.append((number, problem))
    if len(result.bad) <= MAX_REPORTED:
        report(f"line {number}: {problem} (skipped)")


def _write(redis: Redis, chunk: list[tuple[str, dict[str, str]]]) -> int:
    """Replace the chunk's profiles, each atomically."""
    pipe = redis.pipeline(transaction=True)
    for customer_id, fields in chunk:
        key = KEY_PREFIX + customer_id
        pipe.delete(key)
        if fields:
            pipe.hset(key, items=[part for pair in fields.items() for part in pair])
    pipe.execute()
    return len(chunk)


Row = tuple[int, tuple[str, dict[str, str]] | str, int]
"""(line number, (customer id, hash fields) or the problem, bytes read)."""


def _csv_rows(handle: TextIO) -> Iterator[Row]:
    reader = csv.reader(handle)
    try:
        header = next(reader)
    except StopIteration:
        return
    size = sum(len(c) + 1 for c in header)
    if "customer_id" not in header:
        yield 1, "no customer_id column in the header", size
        return
    yield 1, "", size  # the header: counted for the bar, not loaded
    for cells in reader:
        number = reader.line_num
        size = sum(len(c) + 1 for c in cells)
        if len(cells) != len(header):
            yield number, f"{len(cells)} cells for {len(header)} columns", size
            continue
        row = dict(zip(header, cells, strict=True))
        customer_id = row.pop("customer_id").strip()
        if not customer_id:
            yield number, "customer_id is empty", size
            continue
        yield number, (customer_id, {k: v.strip() for k, v in row.items() if v.strip()}), size


def _json_rows(handle: TextIO) -> Iterator[Row]:
    for number, line in enumerate(handle, start=1):
        size = len(line.encode())
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            yield number, _json_fields(item), size
        except (ValueError, TypeError, AttributeError) as exc:
            yield number, f"not a profile object: {exc}", size


def _json_fields(item: Any) -> tuple[str, dict[str, str]] | str:
    if not isinstance(item, dict):
        return "expected a JSON object"
    customer_id = item.pop("customer_id", None)
    if not isinstance(customer_id, str) or not customer_id:
        return "customer_id is missing or not text"
    fields: dict[str, str] = {}
    for channel, agreed in (item.pop("consent", None) or {}).items():
        fields[f"consent.{channel}"] = _text(agreed)
    for name, value in (item.pop("attributes", None) or {}).items():
        fields[ATTRIBUTE_PREFIX + str(name)] = _text(value)
    for name, value in item.items():
        if value is not None:
            fields[name] = _text(value)
    return customer_id, fields


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)
