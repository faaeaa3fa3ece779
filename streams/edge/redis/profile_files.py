"""``rebound profiles FILE``: customer profiles from a CSV or JSON Lines file into Redis
(the file's format: ``streams.scenarios.profile_files``).

Each line replaces the customer's whole profile. A bad line is reported with its number and
skipped; the others are loaded, a thousand per round trip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from redis import Redis
from tqdm import tqdm

from streams.edge.redis.profiles import KEY_PREFIX
from streams.scenarios.profile_files import rows_of
from streams.scenarios.profiles import parse_profile

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
    rows = rows_of(path)
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
