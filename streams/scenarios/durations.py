"""Durations as scenario files, conditions and the command line write them: a number and a
unit, ``s``, ``m``, ``h``, ``d`` or ``w`` (``3d``, ``12h``, ``0s``)."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> float | None:
    """Seconds, or None when ``text`` is not a duration."""
    match = _DURATION.match(text)
    return None if match is None else float(match.group(1)) * _UNITS[match.group(2)]
