"""Customer profiles in files: what ``rebound profiles`` loads into Redis and ``rebound
replay --profiles`` reads.

CSV: a header line, then one customer per line; the columns are ``customer_id`` and the hash
fields of ``streams.scenarios.profiles`` (``consent.email``, ``has_app``, ``timezone``,
``attr.skin_type``...); an empty cell leaves the field out (its default applies).

JSON Lines: one object per line, ``{"customer_id": "c1", "consent": {"email": true, "sms":
false}, "has_app": true, "timezone": "Europe/Paris", "country": "FR", "language": "fr",
"unsubscribed": false, "attributes": {"skin_type": "dry"}}``, every key but
``customer_id`` optional.

A bad line is reported with its number and problem, and skipped.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from streams.engine.context import Profile
from streams.scenarios.profiles import ATTRIBUTE_PREFIX, parse_profile


def read_profiles(path: Path) -> tuple[dict[str, Profile], list[tuple[int, str]]]:
    """The profiles of a file, as the worker would read them once loaded (for replays), and
    the bad lines (line number, problem), skipped."""
    profiles: dict[str, Profile] = {}
    bad: list[tuple[int, str]] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for number, parsed, _ in rows_of(path)(handle):
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


def rows_of(path: Path) -> Callable[[TextIO], Iterator[Row]]:
    return _csv_rows if path.suffix.lower() == ".csv" else _json_rows


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
