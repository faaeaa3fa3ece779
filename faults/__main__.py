"""``python -m faults`` (``make faults``): Rebound's guarantees checked under faults.

Each fault is a run: thousands of customers' orders, deliveries and opens fed on a schedule,
a malformed record per hundred events (22 kinds), the fault striking meanwhile, then the
verification against the oracle (the pure engine over the same events): lost must be 0,
duplicates after deduplication by ``command_id`` 0, dead-lettered equal to injected. Prints
a table, then one line of JSON; exits 1 if any run fails.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

from faults.runs import FAULTS, local_stack, run_fault
from faults.verify import Report

CI_SUBSET = ("worker-kills", "redis-hang")
"""What CI runs (``make faults-ci``): a crash with timers pending and firing, and an outage."""
COLUMNS = (
    ("fault", "fault", 14),
    ("expected", "expected", 8),
    ("published", "published", 9),
    ("lost", "lost", 5),
    ("unexpected", "unexpected", 10),
    ("duplicates_on_topics", "dup topics", 10),
    ("duplicates_after_dedup", "dup dedup", 9),
    ("in_ledger", "in ledger", 9),
    ("injected", "injected", 8),
    ("dead_lettered", "dead-lettered", 13),
    ("seconds", "seconds", 7),
)


def table(reports: list[Report]) -> str:
    head = "  ".join(f"{title:>{width}}" for _, title, width in COLUMNS) + "  result"
    rows = [head]
    for report in reports:
        values = report.as_json()
        cells = "  ".join(f"{values[key]!s:>{width}}" for key, _, width in COLUMNS)
        rows.append(f"{cells}  {'ok' if report.passed() else 'FAILED'}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m faults", description=__doc__)
    parser.add_argument(
        "--only", help=f"comma-separated faults, of: {', '.join(FAULTS)} (default: all)"
    )
    parser.add_argument("--ci", action="store_true", help=f"the CI subset: {', '.join(CI_SUBSET)}")
    parser.add_argument("--customers", type=int, default=2000, help="customers per run")
    parser.add_argument("--feed-s", type=float, default=20.0, help="seconds of events per run")
    parser.add_argument(
        "--dir", type=Path, help="the services' and runs' files (default: a temp dir)"
    )
    args = parser.parse_args(argv)
    names = list(CI_SUBSET) if args.ci else (args.only.split(",") if args.only else list(FAULTS))
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        parser.error(f"unknown faults {unknown}; known: {', '.join(FAULTS)}")
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("kafka").setLevel(logging.CRITICAL)  # its retries, during the faults
    root = args.dir or Path(tempfile.mkdtemp(prefix="rebound-faults-"))
    print(f"faults: services and runs in {root}", flush=True)
    reports = []
    with local_stack(root) as stack:
        for name in names:
            report = run_fault(
                stack, name, args.customers, args.feed_s, log=lambda line: print(line, flush=True)
            )
            print(f"  -> {'ok' if report.passed() else 'FAILED'}: {report.as_json()}", flush=True)
            reports.append(report)
    print(table(reports))
    passed = all(r.passed() for r in reports)
    print(json.dumps({"faults": [r.as_json() for r in reports], "passed": passed}))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
